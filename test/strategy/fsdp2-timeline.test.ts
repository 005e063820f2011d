import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

const fsdp = {
  base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 4096, micro_batch_size: 1, gradient_accumulation_steps: 1,
  bf16: true, flash_attention: true, fsdp_version: 2, fsdp_config: { reshard_after_forward: true }, simulation: { hardware: 'dgx-h100' },
};

describe('FSDP2 timeline', () => {
  it("prefetch hides layer i+1's AllGather behind layer i's forward compute", async () => {
    const { timeline } = await run(fsdp);
    const span = (kind: string, phase: string, layer: number) =>
      timeline.spans.find((s) => s.tag.kind === kind && s.tag.phase === phase && s.tag.layer === layer)!;
    for (const i of [3, 10, 20]) {
      const compute = span('compute', 'forward', i);
      const gather = span('all_gather', 'forward', i + 1);
      // The gather for the next layer starts before this layer's compute ends and finishes inside it…
      expect(gather.workStart).toBeLessThan(compute.end);
      expect(gather.end).toBeLessThanOrEqual(compute.end + 1e-12);
      // …so the next layer's compute starts right when this one ends: no wait on the network.
      expect(span('compute', 'forward', i + 1).workStart).toBeCloseTo(compute.end, 12);
    }
  });

  it('gathers at most one layer ahead (all-gather state is freed only after use)', async () => {
    const { timeline } = await run(fsdp);
    const fwd = (l: number) => timeline.spans.find((s) => s.tag.kind === 'compute' && s.tag.phase === 'forward' && s.tag.layer === l)!;
    const ag = (l: number) => timeline.spans.find((s) => s.tag.kind === 'all_gather' && s.tag.phase === 'forward' && s.tag.layer === l)!;
    for (const i of [5, 15, 25]) expect(ag(i).workStart).toBeGreaterThanOrEqual(fwd(i - 2).end - 1e-12);
  });

  it('exposed communication is smaller than busy communication when overlap is possible', async () => {
    const r = (await run(fsdp)).result;
    expect(r.communication.busy_s).toBeGreaterThan(0);
    expect(r.communication.exposed_s).toBeLessThan(r.communication.busy_s);
    // The last ReduceScatter (root) has nothing left to hide behind: something is exposed.
    expect(r.communication.exposed_s).toBeGreaterThan(0);
  });

  it('reshard_after_forward gathers again in backward; without it there is no backward gather but more memory', async () => {
    const on = await run(fsdp);
    const off = await run({ ...fsdp, fsdp_config: { reshard_after_forward: false } });
    const backwardGathers = (x: typeof on) => x.timeline.spans.filter((s) => s.tag.kind === 'all_gather' && s.tag.phase === 'backward').length;
    expect(backwardGathers(on)).toBe(32);
    expect(backwardGathers(off)).toBe(0);
    expect(off.result.memory.peak_bytes).toBeGreaterThan(on.result.memory.peak_bytes);
  });

  it('one ReduceScatter per layer plus the root in the final micro-batch only (no_sync under accumulation)', async () => {
    const { timeline } = await run({ ...fsdp, gradient_accumulation_steps: 3 });
    const rs = timeline.spans.filter((s) => s.tag.kind === 'reduce_scatter');
    expect(rs).toHaveLength(33);
    expect(new Set(rs.map((s) => s.tag.microBatch))).toEqual(new Set([2]));
  });
});
