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
});
