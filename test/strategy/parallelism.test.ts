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
    expect(two.mesh).toEqual({ dp_replicate: 1, dp_shard: 4, cp: 1, tp: 2, ep: 1 });
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
    expect(r.result.mesh).toEqual({ dp_replicate: 2, dp_shard: 8, cp: 1, tp: 1, ep: 1 });
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
    expect(one.mesh).toEqual({ dp_replicate: 1, dp_shard: 4, cp: 1, tp: 2, ep: 1 });
    const two = (await run({ base_model: 'meta-llama/Llama-3.1-70B', fsdp_version: 2, tensor_parallel_size: 2, dp_shard_size: 4, dp_replicate_size: 2, sequence_len: 4096, micro_batch_size: 1, gradient_accumulation_steps: 16, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { hardware: 'dgx-h100', num_nodes: 2 } })).result;
    expect(two.batch.global_batch_size).toBe(128);
    expect(two.mesh).toEqual({ dp_replicate: 2, dp_shard: 4, cp: 1, tp: 2, ep: 1 });
  });

  it('infers dp_shard_size from the world', async () => {
    const r = (await run({ ...base, tensor_parallel_size: 2, simulation: { hardware: 'dgx-h100', num_nodes: 2 } })).result;
    expect(r.mesh.dp_shard).toBe(8);
  });
});

describe('CPU offload (fsdp_config.offload_params)', () => {
  it('trades step time for memory: shards copied over PCIe, optimizer on the CPU', async () => {
    const on = await run({ ...base, fsdp_config: { offload_params: true }, simulation: { hardware: 'dgx-h100' } });
    const off = await run({ ...base, fsdp_config: { offload_params: false }, simulation: { hardware: 'dgx-h100' } });
    expect(on.result.memory.peak_bytes).toBeLessThan(off.result.memory.peak_bytes);
    expect(on.result.memory.model_states_bytes).toBe(0);
    expect(on.result.step_time_s).toBeGreaterThan(off.result.step_time_s);
    // Every gather is preceded by its shard's host-to-device copy; every reduced shard goes back.
    const copies = on.timeline.spans.filter((s) => s.tag.kind === 'copy');
    const gathers = on.timeline.spans.filter((s) => s.tag.kind === 'all_gather');
    expect(copies.filter((s) => s.stream === 'host_to_device')).toHaveLength(gathers.length);
    expect(copies.filter((s) => s.stream === 'device_to_host')).toHaveLength(on.timeline.spans.filter((s) => s.tag.kind === 'reduce_scatter').length);
    expect(on.timeline.spans.some((s) => s.stream === 'host' && s.tag.kind === 'optimizer')).toBe(true);
  });

  it('pageable host memory copies slower than pinned', async () => {
    const pinned = (await run({ ...base, fsdp_config: { offload_params: true }, simulation: { hardware: 'dgx-h100' } })).result;
    const pageable = (await run({ ...base, fsdp_config: { offload_params: true, cpu_offload_pin_memory: false }, simulation: { hardware: 'dgx-h100' } })).result;
    expect(pageable.communication.by_kind.copy!.busy_s).toBeGreaterThan(pinned.communication.by_kind.copy!.busy_s);
  });
});

describe('loss parallel (simulation.loss_parallel, torch loss_parallel as torchtitan runs it)', () => {
  it('keeps the logits sharded by vocabulary: no TP logits gather, a TP-th of the loss memory and its memory-bound time', async () => {
    const sim = { hardware: 'dgx-h100', framework: 'other' };
    const gathered = await run({ ...base, tensor_parallel_size: 4, simulation: sim });
    const sharded = await run({ ...base, tensor_parallel_size: 4, simulation: { ...sim, loss_parallel: true } });
    const logitsGathers = (r: R) => r.timeline.spans.filter((s) => s.tag.label === 'TP logits');
    expect(logitsGathers(gathered).length).toBeGreaterThan(0);
    expect(logitsGathers(sharded)).toHaveLength(0);
    const head = (r: R) => r.timeline.spans.filter((s) => s.tag.label === 'head (norm, lm_head, loss)').reduce((a, s) => a + s.end - s.workStart, 0);
    expect(head(sharded)).toBeLessThan(head(gathered));
    // 2 × 4096 tokens × 128,256 vocab: the eager loss holds 10 B per gathered logit at its forward.
    expect(gathered.result.memory.peak_bytes - sharded.result.memory.peak_bytes).toBeGreaterThan(0.5 * 10 * 2 * 4096 * 128256 * (3 / 4));
  });

  it('is refused under Axolotl, whose tensor parallel plan gathers lm_head output', async () => {
    await expect(run({ ...base, tensor_parallel_size: 2, simulation: { hardware: 'dgx-h100', loss_parallel: true } })).rejects.toThrow(/colwise_rep/);
  });
});
