import { describe, expect, it, beforeAll } from 'vitest';
import type { SimulationRun } from '../../src/pipeline/simulate.ts';
import { chromeTrace, ncclKernelName, type TraceEvent } from '../../src/report/trace.ts';
import { runForReport, fsdp2Small } from './fixtures.ts';
import { opName } from '../../src/report/names.ts';

let run: SimulationRun;
let events: TraceEvent[];
beforeAll(async () => {
  run = await runForReport(fsdp2Small);
  events = chromeTrace(run).traceEvents;
});

const key = (e: TraceEvent) => `${e.pid}/${e.tid}`;

describe('Chrome trace (Kineto layout)', () => {
  it('one process per rank and one named thread per CUDA stream', () => {
    const procs = events.filter((e) => e.ph === 'M' && e.name === 'process_name');
    expect(procs.map((e) => e.args!.name)).toEqual(['rank 0']);
    const threads = events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args!.name);
    expect(threads).toEqual(expect.arrayContaining(['stream 7 compute', 'stream 20 nccl all_gather', 'stream 24 nccl reduce_scatter', 'stream 28 nccl all_reduce']));
    expect(events.filter((e) => e.ph === 'M' && e.name === 'thread_sort_index').length).toBe(threads.length);
  });

  it('≥ 50 kernels on ≥ 2 threads per rank, named like PyTorch/NCCL kernels, in µs', () => {
    const x = events.filter((e) => e.ph === 'X');
    expect(x.length).toBeGreaterThanOrEqual(50);
    expect(new Set(x.filter((e) => e.pid === 0).map((e) => e.tid)).size).toBeGreaterThanOrEqual(2);
    expect(x.every((e) => e.cat === 'kernel' && e.dur! >= 0)).toBe(true);
    const names = new Set(x.map((e) => e.name));
    expect(names).toContain('layer 12 forward');
    expect(names).toContain('layer 12 recompute');
    expect(names).toContain('ncclDevKernel_AllGather_RING_LL');
    expect(names).toContain('ncclDevKernel_ReduceScatter_Sum_bf16_RING_LL');
    const last = Math.max(...x.map((e) => e.ts! + e.dur!));
    expect(last).toBeCloseTo(run.timeline.makespan * 1e6, 0);
    const ag = x.find((e) => e.name.startsWith('ncclDevKernel_AllGather') && e.args!.layer === 3)!;
    expect(ag.args).toMatchObject({ 'Collective name': '_allgather_base', 'Group size': 8, dtype: 'bf16', op: 'layer 3', microBatch: 0 });
    expect(ag.args!['Out msg nelems']).toBe(8 * (ag.args!['In msg nelems'] as number));
  });

  it('no two kernels overlap on one stream; communication overlaps compute somewhere', () => {
    const x = events.filter((e) => e.ph === 'X' && e.dur! > 0);
    const byThread = new Map<string, TraceEvent[]>();
    for (const e of x) byThread.set(key(e), [...(byThread.get(key(e)) ?? []), e]);
    for (const list of byThread.values()) {
      list.sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < list.length; i++) expect(list[i]!.ts!).toBeGreaterThanOrEqual(list[i - 1]!.ts! + list[i - 1]!.dur!);
    }
    const compute = byThread.get('0/7')!;
    const comm = x.filter((e) => e.tid !== 7);
    const overlaps = comm.filter((c) => compute.some((k) => k.ts! < c.ts! + c.dur! && c.ts! < k.ts! + k.dur!));
    expect(overlaps.length).toBeGreaterThan(comm.length / 2);
  });

  it('flows: every arrow starts inside the kernel waited on and ends (bp "e") inside the waiting kernel, on another stream', () => {
    const x = events.filter((e) => e.ph === 'X');
    const inside = (f: TraceEvent) => x.find((e) => e.pid === f.pid && e.tid === f.tid && e.ts! <= f.ts! && f.ts! <= e.ts! + e.dur!);
    const starts = events.filter((e) => e.ph === 's');
    const ends = new Map(events.filter((e) => e.ph === 'f').map((e) => [e.id, e]));
    expect(starts.length).toBeGreaterThan(2 * run.model.numLayers);
    for (const s of starts) {
      const f = ends.get(s.id)!;
      expect(f.bp).toBe('e');
      expect(f.tid).not.toBe(s.tid);
      expect(f.ts!).toBeGreaterThanOrEqual(s.ts!);
      expect(inside(s)).toBeDefined();
      expect(inside(f)).toBeDefined();
    }
    // The forward of layer 5 waits for its AllGather.
    const fwd5 = x.find((e) => e.name === 'layer 5 forward' && e.args!.microBatch === 0)!;
    const into = [...ends.values()].filter((f) => f.ts === fwd5.ts && f.tid === 7).map((f) => starts.find((s) => s.id === f.id)!);
    expect(into.some((s) => inside(s)!.name.startsWith('ncclDevKernel_AllGather') && inside(s)!.args!.layer === 5)).toBe(true);
  });

  it("every kernel's name and args are its own tag's, though the text is written once per op and reused", () => {
    // Kernels come in the timeline's span order (the shown ranks' spans): zip them.
    const x = events.filter((e) => e.ph === 'X');
    const spans = run.timeline.spans;
    expect(x.length).toBe(spans.length);
    spans.forEach((s, i) => {
      const t = s.tag;
      const e = x[i]!;
      expect(e.args).toMatchObject({ layer: t.layer ?? null, op: t.label, phase: t.phase, microBatch: t.microBatch, device: s.process });
      if (t.kind === 'compute' || t.kind === 'optimizer') expect(e.name).toBe(opName(t));
      else {
        expect(e.name).toMatch(/^ncclDevKernel_/);
        expect(e.args).toMatchObject({ bytes: t.bytes ?? 0, 'wire bytes': t.wireBytes ?? 0, algorithm: t.algorithm ?? '', 'Group size': t.groupSize ?? 1 });
      }
    });
  });

  it('a tag that differs from the op written before it (its payload) gets its own args', async () => {
    const r = await runForReport(fsdp2Small);
    const gathers = r.plan.tasks.filter((task) => task.tag.kind === 'all_gather' && task.tag.label === 'layer 3' && task.tag.phase === 'forward');
    expect(gathers.length).toBe(2);
    // The second micro-batch's AllGather of layer 3, changed: the same op (kind, phase, label), another payload.
    const changed = gathers[1]!.tag;
    changed.bytes = changed.bytes! / 2;
    changed.wireBytes = changed.wireBytes! / 2;
    const x = chromeTrace(r).traceEvents.filter((e) => e.ph === 'X' && e.args!.op === 'layer 3' && e.args!.phase === 'forward' && e.name.startsWith('ncclDevKernel_AllGather'));
    expect(x.map((e) => [e.args!.microBatch, e.args!.bytes])).toEqual([
      [0, gathers[0]!.tag.bytes],
      [1, changed.bytes],
    ]);
    expect(x[1]!.args!['In msg nelems']).toBe((x[0]!.args!['In msg nelems'] as number) / 2);
  });

  it('memory counters per rank reach the peak', () => {
    const c = events.filter((e) => e.ph === 'C' && e.name === 'Memory allocated (bytes)' && e.pid === 0);
    expect(c.length).toBeGreaterThan(10);
    expect(Math.max(...c.map((e) => e.args!.allocated as number))).toBe(run.result.memory.peak_bytes);
    const cats = events.find((e) => e.ph === 'C' && e.name === 'Memory allocated by category (bytes)')!;
    expect(Object.keys(cats.args!)).toEqual(['parameters', 'gradients', 'optimizer_states', 'activations', 'communication_buffers', 'other']);
  });

  it('NCCL kernel names follow ncclDevKernel_<Coll>[_Sum_<type>]_<ALGO>_<PROTO>', () => {
    expect(ncclKernelName('all_gather', 'bf16', 'ring')).toBe('ncclDevKernel_AllGather_RING_LL');
    expect(ncclKernelName('all_reduce', 'fp32', 'ring')).toBe('ncclDevKernel_AllReduce_Sum_f32_RING_LL');
    expect(ncclKernelName('all_reduce', 'bf16', 'nvls')).toBe('ncclDevKernel_AllReduce_Sum_bf16_NVLS_SIMPLE');
  });

  it('with several simulated ranks: one process each, collectives wait for the straggler', async () => {
    const r = await runForReport({ ...fsdp2Small, simulation: { hardware: 'dgx-h100', stragglers: [{ rank: 2, compute_slowdown: 1.3 }] } });
    const ev = chromeTrace(r).traceEvents;
    // One process per class of identical ranks (strategy/symmetry.ts): the straggler, and the 7 ranks alike.
    expect(ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args!.name)).toEqual(['rank 0 (and 6 ranks alike)', 'rank 2']);
    const waits = ev.filter((e) => e.ph === 'X' && e.pid === 0 && ((e.args?.['waiting for peers (us)'] as number) ?? 0) > 0);
    expect(waits.length).toBeGreaterThan(0);
  });
});
