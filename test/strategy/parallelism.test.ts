import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

const base = {
  base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 4096, micro_batch_size: 2, gradient_accumulation_steps: 1,
  bf16: true, flash_attention: true, fsdp_version: 2,
};
const H = 4096;
const KV = 8 * 128;

type R = Awaited<ReturnType<typeof run>>;
const spans = (r: R, pred: (t: R['timeline']['spans'][number]['tag'], stream: string) => boolean) => r.timeline.spans.filter((s) => pred(s.tag, s.stream));

describe('tensor parallelism: collectives per layer on the critical path', () => {
  it('2 AllReduces of b·s·h per layer forward, 2 in backward, 2 more in the recomputed forward', async () => {
    const r = await run({ ...base, tensor_parallel_size: 2, gradient_checkpointing: true, simulation: { hardware: 'dgx-h100' } });
    const layer5 = spans(r, (t, stream) => stream === 'tensor_parallel' && t.layer === 5);
    const by = (phase: string) => layer5.filter((s) => s.tag.phase === phase);
    for (const phase of ['forward', 'recompute', 'backward']) {
      expect(by(phase)).toHaveLength(2);
      for (const s of by(phase)) {
        expect(s.tag.kind).toBe('all_reduce');
        expect(s.tag.bytes).toBe(2 * 4096 * H * 2); // micro-batch × sequence × hidden × bf16
        expect(s.tag.groupSize).toBe(2);
      }
    }
    // The layer's MLP half waits for the attention output's AllReduce.
    const ar = by('forward')[0]!;
    const mlp = r.timeline.spans.find((s) => s.tag.phase === 'forward' && s.tag.label === 'layer 5 mlp')!;
    expect(mlp.workStart).toBeGreaterThanOrEqual(ar.end - 1e-12);
  });

  it('sequence parallelism turns each AllReduce into a ReduceScatter + AllGather of the same bytes', async () => {
    const r = await run({ ...base, tensor_parallel_size: 4, simulation: { hardware: 'dgx-h100', sequence_parallel: true } });
    const fwd = spans(r, (t, stream) => stream === 'tensor_parallel' && t.layer === 3 && t.phase === 'forward');
    expect(fwd.map((s) => s.tag.kind).sort()).toEqual(['all_gather', 'all_gather', 'reduce_scatter', 'reduce_scatter']);
    for (const s of fwd) expect(s.tag.bytes).toBe(2 * 4096 * H * 2);
  });

  it('shards parameters, GEMM work and model states by tp', async () => {
    const one = (await run({ ...base, simulation: { hardware: 'dgx-h100' } })).result;
    const two = (await run({ ...base, tensor_parallel_size: 2, simulation: { hardware: 'dgx-h100' } })).result;
    // FSDP over 8 ranks vs FSDP over 4 ranks × TP 2: the same 1/8 of the layers, but the replicated
    // embedding is now sharded 4 ways only.
    expect(two.memory.model_states_bytes).toBeGreaterThan(one.memory.model_states_bytes);
    expect(two.memory.model_states_bytes).toBeLessThan(one.memory.model_states_bytes * 1.3);
    expect(two.mesh).toEqual({ dp_replicate: 1, dp_shard: 4, cp: 1, tp: 2 });
    expect(two.batch.global_batch_size).toBe(one.batch.global_batch_size / 2);
  });
});

describe('context parallelism (ring attention)', () => {
  it('cp − 1 K/V blocks per layer forward, K/V and dK/dV in backward, overlapped with the attention', async () => {
    const r = await run({ ...base, context_parallel_size: 4, simulation: { hardware: 'dgx-h100' } });
    const ring = spans(r, (t, stream) => stream === 'context_parallel' && t.layer === 7);
    const fwd = ring.filter((s) => s.tag.phase === 'forward');
    const bwd = ring.filter((s) => s.tag.phase === 'backward');
    expect(fwd).toHaveLength(1);
    expect(bwd).toHaveLength(1);
    const block = 2 * ((2 * 4096) / 4) * KV * 2; // K and V of s/cp tokens, bf16
    expect(fwd[0]!.tag.bytes).toBe(3 * block);
    expect(bwd[0]!.tag.bytes).toBe(2 * 3 * block);
    expect(fwd[0]!.tag.kind).toBe('send_recv');
    const attn = r.timeline.spans.find((s) => s.tag.phase === 'forward' && s.tag.label === 'layer 7 attention')!;
    expect(fwd[0]!.workStart).toBeLessThan(attn.end); // runs beside the attention compute
  });

  it('splits the sequence: activations per GPU shrink, tokens per step do not change', async () => {
    const one = (await run({ ...base, simulation: { hardware: 'dgx-h100' } })).result;
    const cp = (await run({ ...base, context_parallel_size: 2, simulation: { hardware: 'dgx-h100' } })).result;
    expect(cp.memory.breakdown_at_peak.activations).toBeLessThan(one.memory.breakdown_at_peak.activations * 0.7);
    expect(cp.batch.global_batch_size).toBe(one.batch.global_batch_size / 2);
  });

  it('refuses a sequence that cannot be split into 2·cp chunks', async () => {
    await expect(run({ ...base, sequence_len: 4100, context_parallel_size: 4, simulation: { hardware: 'dgx-h100' } })).rejects.toThrow(/context_parallel_size/);
  });
});

describe('HSDP (dp_replicate with FSDP)', () => {
  it('reduce-scatters inside the shard group on NVLink, then all-reduces the shard across nodes', async () => {
    const r = await run({ ...base, dp_replicate_size: 2, simulation: { hardware: 'dgx-h100', num_nodes: 2 } });
    expect(r.result.mesh).toEqual({ dp_replicate: 2, dp_shard: 8, cp: 1, tp: 1 });
    const rs = spans(r, (t) => t.kind === 'reduce_scatter' && t.layer === 4)[0]!;
    const ar = spans(r, (t) => t.kind === 'all_reduce' && t.layer === 4)[0]!;
    expect(rs.tag.groupSize).toBe(8);
    expect(ar.tag.groupSize).toBe(2);
    expect(ar.tag.bytes).toBe(rs.tag.bytes! / 8);
    expect(ar.workStart).toBeGreaterThanOrEqual(rs.end - 1e-12);
    expect(r.result.batch.global_batch_size).toBe(2 * 1 * 16);
  });
});

describe("the card's 4-D scenarios", () => {
  it('70B TP2 × FSDP4 on one node: global batch 64; TP2 × FSDP4 × DDP2 on two nodes at 4096: 128', async () => {
    const one = (await run({ base_model: 'meta-llama/Llama-3.1-70B', fsdp_version: 2, tensor_parallel_size: 2, dp_shard_size: 4, sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 8, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { hardware: 'dgx-h100' } })).result;
    expect(one.batch.global_batch_size).toBe(64);
    expect(one.mesh).toEqual({ dp_replicate: 1, dp_shard: 4, cp: 1, tp: 2 });
    const two = (await run({ base_model: 'meta-llama/Llama-3.1-70B', fsdp_version: 2, tensor_parallel_size: 2, dp_shard_size: 4, dp_replicate_size: 2, sequence_len: 4096, micro_batch_size: 1, gradient_accumulation_steps: 16, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { hardware: 'dgx-h100', num_nodes: 2 } })).result;
    expect(two.batch.global_batch_size).toBe(128);
    expect(two.mesh).toEqual({ dp_replicate: 2, dp_shard: 4, cp: 1, tp: 2 });
  });

  it('infers dp_shard_size from the world', async () => {
    const r = (await run({ ...base, tensor_parallel_size: 2, simulation: { hardware: 'dgx-h100', num_nodes: 2 } })).result;
    expect(r.mesh.dp_shard).toBe(8);
  });
});
