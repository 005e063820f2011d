import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';
import type { SimulationRun } from '../../src/pipeline/simulate.ts';

const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, simulation: { hardware: 'dgx-a100-80gb' } };
const zero = (stage: number, z: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => run({ ...base, ...extra, deepspeed: { zero_optimization: { stage, ...z } } });

const spans = (r: SimulationRun) => r.timeline.spans.filter((s) => s.process === 0);
const reductions = (r: SimulationRun) => spans(r).filter((s) => (s.tag.kind === 'all_reduce' || s.tag.kind === 'reduce_scatter') && s.tag.phase === 'backward');
/** End of the last backward kernel of the model (not the reduction's own copies). */
const endOfBackward = (r: SimulationRun) =>
  Math.max(...spans(r).filter((s) => s.tag.kind === 'compute' && s.tag.phase === 'backward' && !/^(bucket|reduce|accumulate)/.test(s.tag.label)).map((s) => s.end));

describe('bytes on the wire: ZeRO against DDP (bf16 everywhere, as Axolotl loads the model)', () => {
  it('ZeRO-3 moves 1.5× DDP: AllGather in forward and again in backward + ReduceScatter, against one AllReduce', async () => {
    const ddp = (await run(base)).result;
    const z3 = (await zero(3, { max_reuse_distance: 0 })).result;
    const ratio = z3.communication.bytes_per_gpu / ddp.communication.bytes_per_gpu;
    expect(ratio).toBeGreaterThan(1.48);
    expect(ratio).toBeLessThan(1.5 + 1e-6);
    // The default stage3_max_reuse_distance (1e9) keeps the head and the last layers gathered from forward to backward.
    const kept = (await zero(3)).result;
    expect(kept.communication.bytes_per_gpu).toBeLessThan(z3.communication.bytes_per_gpu);
    expect(kept.communication.bytes_per_gpu / ddp.communication.bytes_per_gpu).toBeGreaterThan(1.4);
  });

  it('ZeRO-1/2 AllReduce the gradient buckets (use_multi_rank_bucket_allreduce) and AllGather the update: 1.5× DDP; per-owner reduces make it 1×', async () => {
    const ddp = (await run(base)).result;
    for (const stage of [1, 2]) {
      const r = (await zero(stage)).result;
      expect(r.communication.bytes_per_gpu / ddp.communication.bytes_per_gpu).toBeCloseTo(1.5, 2);
      expect(r.communication.by_kind.all_gather!.bytes_per_gpu / r.communication.by_kind.all_reduce!.bytes_per_gpu).toBeCloseTo(0.5, 2);
    }
    const rs = (await zero(2, { use_multi_rank_bucket_allreduce: false })).result;
    expect(rs.communication.by_kind.reduce_scatter).toBeDefined();
    expect(rs.communication.bytes_per_gpu / ddp.communication.bytes_per_gpu).toBeCloseTo(1, 2);
  });

  it('gradient accumulation: ZeRO-2 and ZeRO-3 reduce every micro-batch, ZeRO-1 only at the boundary', async () => {
    for (const stage of [2, 3]) {
      const one = reductions(await zero(stage));
      const four = reductions(await zero(stage, {}, { gradient_accumulation_steps: 4 }));
      expect(four.length).toBe(4 * one.length);
      expect(new Set(four.map((s) => s.tag.microBatch))).toEqual(new Set([0, 1, 2, 3]));
    }
    const z1 = reductions(await zero(1, {}, { gradient_accumulation_steps: 4 }));
    expect(z1.length).toBe(reductions(await zero(1)).length);
    expect(new Set(z1.map((s) => s.tag.microBatch))).toEqual(new Set([3]));
  });
});

describe('when reductions run', () => {
  it('ZeRO-1 without overlap_comm reduces after backward, blocking; with overlap_comm during the last backward', async () => {
    const blocking = await zero(1);
    expect(Math.min(...reductions(blocking).map((s) => s.start))).toBeGreaterThanOrEqual(endOfBackward(blocking) - 1e-9);
    const overlapped = await zero(1, { overlap_comm: true });
    expect(Math.min(...reductions(overlapped).map((s) => s.start))).toBeLessThan(endOfBackward(overlapped));
    expect(overlapped.result.communication.exposed_s).toBeLessThan(blocking.result.communication.exposed_s);
    expect(overlapped.result.step_time_s).toBeLessThan(blocking.result.step_time_s);
  });

  it.each([2, 3])('ZeRO-%i with overlap_comm hides reductions behind backward; without it they block compute', async (stage) => {
    const off = (await zero(stage, { overlap_comm: false })).result;
    const on = (await zero(stage, { overlap_comm: true })).result;
    expect(on.communication.exposed_s).toBeLessThan(off.communication.exposed_s);
    expect(on.step_time_s).toBeLessThan(off.step_time_s);
  });

  it('ZeRO-1/2 gather the updated parameters after the step; ZeRO-3 does not (the next forward gathers them)', async () => {
    for (const stage of [1, 2]) {
      const s = spans(await zero(stage));
      const ag = s.filter((x) => x.tag.kind === 'all_gather');
      const adam = s.find((x) => x.tag.kind === 'optimizer' && x.tag.label.startsWith('Adam'))!;
      expect(ag.length).toBeGreaterThan(0);
      for (const a of ag) expect(a.start).toBeGreaterThanOrEqual(adam.end - 1e-9);
    }
    const s3 = spans(await zero(3));
    expect(s3.filter((x) => x.tag.kind === 'all_gather' && x.tag.phase === 'optimizer')).toHaveLength(0);
  });

  it('ZeRO-3 gathers every layer in forward and, unless kept by stage3_max_reuse_distance, again in backward', async () => {
    const gathers = (r: SimulationRun, phase: string) => spans(r).filter((s) => s.tag.kind === 'all_gather' && s.tag.phase === phase && s.tag.layer !== undefined).length;
    const none = await zero(3, { max_reuse_distance: 0 });
    expect(gathers(none, 'forward')).toBe(32);
    expect(gathers(none, 'backward')).toBe(32);
    const kept = await zero(3);
    expect(gathers(kept, 'backward')).toBeLessThan(32);
    expect(kept.result.memory.peak_bytes).toBeGreaterThan(none.result.memory.peak_bytes);
  });
});
