import { describe, expect, it } from 'vitest';
import { simulate, type Task } from '../../src/engine/index.ts';
import { EventHeap } from '../../src/engine/heap.ts';

const delay = (seconds: number) => ({ kind: 'delay' as const, seconds });
const endOf = (tl: ReturnType<typeof simulate<string>>, tag: string) => tl.spans.find((s) => s.tag === tag)!.end;
const startOf = (tl: ReturnType<typeof simulate<string>>, tag: string) => tl.spans.find((s) => s.tag === tag)!.workStart;

describe('EventHeap', () => {
  it('pops in time order and FIFO among equal times', () => {
    const h = new EventHeap<{ time: number; seq: number; v: string }>();
    [[3, 'c'], [1, 'a'], [2, 'b1'], [2, 'b2'], [0, 'z']].forEach(([t, v], i) => h.push({ time: t as number, seq: i, v: v as string }));
    const out: string[] = [];
    for (let e = h.pop(); e; e = h.pop()) out.push(e.v);
    expect(out).toEqual(['z', 'a', 'b1', 'b2', 'c']);
  });
});

describe('streams and dependencies', () => {
  it('runs tasks on one stream back to back, in submission order', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'compute', work: delay(1), tag: 'a' },
      { process: 0, stream: 'compute', work: delay(2), tag: 'b' },
    ];
    const tl = simulate(tasks);
    expect(endOf(tl, 'a')).toBe(1);
    expect(startOf(tl, 'b')).toBe(1);
    expect(tl.makespan).toBe(3);
  });

  it('overlaps different streams and honours cross-stream waits', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'comm', work: delay(1.5), tag: 'gather' },
      { process: 0, stream: 'compute', work: delay(1), tag: 'layer0' },
      { process: 0, stream: 'compute', deps: [0], work: delay(1), tag: 'layer1' },
    ];
    const tl = simulate(tasks);
    expect(startOf(tl, 'layer1')).toBe(1.5); // waits for the gather, not just the stream
    expect(tl.makespan).toBe(2.5);
  });

  it('a blocked head blocks the tasks behind it on the same stream', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'other', work: delay(5), tag: 'slow' },
      { process: 0, stream: 's', deps: [0], work: delay(1), tag: 'waits' },
      { process: 0, stream: 's', work: delay(1), tag: 'behind' },
    ];
    const tl = simulate(tasks);
    expect(startOf(tl, 'behind')).toBe(6);
  });

  it('reports a dependency cycle instead of hanging', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'a', deps: [1], work: delay(1), tag: 'x' },
      { process: 0, stream: 'b', deps: [0], work: delay(1), tag: 'y' },
    ];
    expect(() => simulate(tasks)).toThrow(/never ran/);
  });
});

describe('groups (rendezvous)', () => {
  it('starts members together when the last arrives and ends them together', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'compute', work: delay(1), tag: 'p0-work' },
      { process: 1, stream: 'compute', work: delay(3), tag: 'p1-work' },
      { process: 0, stream: 'comm', deps: [0], group: 'ar', work: delay(2), tag: 'p0-ar' },
      { process: 1, stream: 'comm', deps: [1], group: 'ar', work: delay(2), tag: 'p1-ar' },
    ];
    const tl = simulate(tasks);
    const p0 = tl.spans.find((s) => s.tag === 'p0-ar')!;
    expect(p0.start).toBe(1); // arrived early
    expect(p0.workStart).toBe(3); // waited for the straggler
    expect(p0.end).toBe(5);
    expect(endOf(tl, 'p1-ar')).toBe(5);
  });
});

describe('fluid bandwidth sharing', () => {
  const flow = (bytes: number, resources: string[], max = 1e12, latency = 0) =>
    ({ kind: 'flow' as const, latencySeconds: latency, bytes, maxBytesPerSecond: max, resources });

  it('a lone flow runs at the smaller of its cap and the link', () => {
    const res = new Map([['link', 100]]);
    expect(simulate([{ process: 0, stream: 'a', work: flow(100, ['link']), tag: 'f' }], { resources: res }).makespan).toBeCloseTo(1);
    expect(simulate([{ process: 0, stream: 'a', work: flow(100, ['link'], 50, 0.5), tag: 'f' }], { resources: res }).makespan).toBeCloseTo(2.5);
  });

  it('two concurrent flows on one link share it and re-rate when one ends', () => {
    const res = new Map([['link', 100]]);
    const tl = simulate(
      [
        { process: 0, stream: 'a', work: flow(50, ['link']), tag: 'short' },
        { process: 0, stream: 'b', work: flow(150, ['link']), tag: 'long' },
      ],
      { resources: res },
    );
    expect(endOf(tl, 'short')).toBeCloseTo(1); // 50 B at 50 B/s
    expect(endOf(tl, 'long')).toBeCloseTo(2); // 50 B shared, then 100 B alone at 100 B/s
  });

  it('max-min fairness gives a capped flow its cap and the rest to the other', () => {
    const res = new Map([['link', 100]]);
    const tl = simulate(
      [
        { process: 0, stream: 'a', work: flow(20, ['link'], 20), tag: 'capped' },
        { process: 0, stream: 'b', work: flow(80, ['link']), tag: 'greedy' },
      ],
      { resources: res },
    );
    expect(endOf(tl, 'capped')).toBeCloseTo(1);
    expect(endOf(tl, 'greedy')).toBeCloseTo(1);
  });

  it('more bandwidth never slows the flows down (property)', () => {
    for (const cap of [10, 50, 100, 400]) {
      const run = (c: number) =>
        simulate(
          [
            { process: 0, stream: 'a', work: flow(100, ['l1', 'l2']), tag: 'x' },
            { process: 0, stream: 'b', work: flow(300, ['l2']), tag: 'y' },
          ],
          { resources: new Map([['l1', c], ['l2', 200]]) },
        ).makespan;
      expect(run(cap * 2)).toBeLessThanOrEqual(run(cap) + 1e-9);
    }
  });
});

describe('memory and jitter', () => {
  it('tracks the peak with a breakdown by category', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 10, category: 'params' }], tag: 'a' },
      { process: 0, stream: 's', work: delay(1), memory: [{ at: 'start', bytes: 5, category: 'act' }, { at: 'end', bytes: -5, category: 'act' }], tag: 'b' },
    ];
    const tl = simulate(tasks, { recordMemory: true });
    const m = tl.memory.get(0)!;
    expect(m.peakBytes).toBe(15);
    expect(m.peakTime).toBe(1);
    expect(m.breakdownAtPeak).toEqual({ params: 10, act: 5 });
    expect(m.finalBytes).toBe(10);
    expect(tl.memorySamples).toHaveLength(3);
  });

  it('the same seed gives the same timeline; another seed differs', () => {
    const tasks: Task<string>[] = Array.from({ length: 50 }, (_, i) => ({ process: 0, stream: 's', work: delay(1), tag: `t${i}` }));
    const a = simulate(tasks, { jitter: { seed: '7', relativeStd: 0.05 } });
    const b = simulate(tasks, { jitter: { seed: '7', relativeStd: 0.05 } });
    const c = simulate(tasks, { jitter: { seed: '8', relativeStd: 0.05 } });
    expect(a.makespan).toBe(b.makespan);
    expect(a.makespan).not.toBe(c.makespan);
    expect(a.makespan).toBeGreaterThan(40);
  });
});

describe('processor sharing (communication kernels hold SMs)', () => {
  it('shared-processor work slows while an occupant runs, and speeds up again after', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'comm', work: { kind: 'delay', seconds: 1 }, occupancy: 0.25, tag: 'nccl' },
      { process: 0, stream: 'compute', work: { kind: 'delay', seconds: 2, sharesProcessor: true }, tag: 'gemm' },
    ];
    const tl = simulate(tasks);
    // 1 s at 75% speed does 0.75 s of work; the remaining 1.25 s runs at full speed.
    expect(endOf(tl, 'gemm')).toBeCloseTo(2.25, 12);
    expect(endOf(tl, 'nccl')).toBe(1);
  });

  it('work that does not share the processor, or another process, is unaffected', () => {
    const tasks: Task<string>[] = [
      { process: 0, stream: 'comm', work: { kind: 'delay', seconds: 1 }, occupancy: 0.5, tag: 'nccl' },
      { process: 0, stream: 'copy', work: { kind: 'delay', seconds: 2 }, tag: 'dma' },
      { process: 1, stream: 'compute', work: { kind: 'delay', seconds: 2, sharesProcessor: true }, tag: 'other-gpu' },
    ];
    const tl = simulate(tasks);
    expect(endOf(tl, 'dma')).toBe(2);
    expect(endOf(tl, 'other-gpu')).toBe(2);
  });
});
