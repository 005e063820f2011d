import { describe, expect, it } from 'vitest';
import { simulate, type Task } from '../../src/engine/index.ts';

const delay = (seconds: number) => ({ kind: 'delay' as const, seconds });

describe('memory ledger: order within a task and allocator pools', () => {
  it('applies a task\'s changes in list order, so "allocate then free" peaks and "free then allocate" does not', () => {
    const allocFirst: Task<string>[] = [
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 10, category: 'a' }], tag: 'x' },
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 10, category: 'b' }, { at: 'start', bytes: -10, category: 'a' }], tag: 'y' },
    ];
    expect(simulate(allocFirst).memory.get(0)!.peakBytes).toBe(20);
    const freeFirst: Task<string>[] = [
      allocFirst[0]!,
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: -10, category: 'a' }, { at: 'start', bytes: 10, category: 'b' }], tag: 'y' },
    ];
    const m = simulate(freeFirst).memory.get(0)!;
    expect(m.peakBytes).toBe(10);
    expect(m.breakdownAtPeak).toEqual({ a: 10 });
  });

  it('keeps each pool\'s own high-water mark (a block freed in one pool is not reused by another)', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 8, category: 'c', pool: 'side' }, { at: 'end', bytes: -8, category: 'c', pool: 'side' }], tag: 'x' },
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 6, category: 'a' }, { at: 'end', bytes: -6, category: 'a' }], tag: 'y' },
    ];
    const m = simulate(tasks).memory.get(0)!;
    expect(m.peakBytes).toBe(8);
    expect(m.poolPeakBytes).toEqual({ side: 8, default: 6 });
  });

  it('keeps each process apart, and reports categories and pools in the order first touched', () => {
    const tasks: Task<string>[] = [
      { process: 1, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 4, category: 'z', pool: 'q' }, { at: 'start', bytes: 2, category: 'a' }], tag: 'x' },
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 3, category: 'a' }, { at: 'start', bytes: 5, category: 'm', pool: 'p' }], tag: 'y' },
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: -3, category: 'a' }, { at: 'end', bytes: 1, category: 'z' }], tag: 'z' },
    ];
    const mem = simulate(tasks).memory;
    expect([...mem.keys()]).toEqual([1, 0]);
    expect(Object.entries(mem.get(1)!.breakdownAtPeak)).toEqual([['z', 4], ['a', 2]]);
    expect(Object.entries(mem.get(1)!.poolPeakBytes)).toEqual([['q', 4], ['default', 2]]);
    // Process 0 peaks at 8 (a 3 + m 5); the free of a copies that breakdown before the later changes.
    expect(Object.entries(mem.get(0)!.breakdownAtPeak)).toEqual([['a', 3], ['m', 5]]);
    expect(Object.entries(mem.get(0)!.poolPeakBytes)).toEqual([['default', 3], ['p', 5]]);
    expect(mem.get(0)!.finalBytes).toBe(6);
  });

  it('levels: each task\'s highest level after its changes, in all and per pool, whose maxima are the peaks', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 8, category: 'c', pool: 'side' }, { at: 'end', bytes: -8, category: 'c', pool: 'side' }], tag: 'x' },
      { process: 0, stream: 's', work: delay(1), tag: 'none' },
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 6, category: 'a' }, { at: 'start', bytes: 3, category: 'b', pool: 'side' }, { at: 'end', bytes: -9, category: 'a' }], tag: 'y' },
      { process: 1, stream: 's', work: delay(1), memory: [{ at: 'end', bytes: 2, category: 'a' }], tag: 'z' },
    ];
    const tl = simulate(tasks, { levels: true });
    const lv = tl.levels!;
    expect(lv.pools).toEqual(['side', 'default']);
    expect([...lv.total]).toEqual([8, -Infinity, 9, 2]);
    // Task y: default reaches 6, side 3; the free takes default to -3 afterwards, below its level.
    expect([...lv.pool]).toEqual([8, -Infinity, -Infinity, -Infinity, 3, 6, -Infinity, 2]);
    expect(Math.max(...lv.total.subarray(0, 3))).toBe(tl.memory.get(0)!.peakBytes);
    expect(simulate(tasks).levels).toBeUndefined();
  });
});
