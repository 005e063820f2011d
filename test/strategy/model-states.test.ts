import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

// Llama-2-7B, fp32 (bf16: false), AdamW: 4 (param) + 4 (grad) + 8 (m, v) = 16 bytes per parameter.
const PARAMS = 6_738_415_616;
// (Eager attention: FlashAttention-2 takes no fp32 tensors; attention does not change the model states.)
const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 1, bf16: false, flash_attention: false, optimizer: 'adamw_torch_fused' };

describe('model states per GPU follow the precision and the sharding', () => {
  it('DDP keeps 16 bytes per parameter and does not fit on 80 GB', async () => {
    const r = (await run({ ...base, simulation: { hardware: 'dgx-h100' } })).result;
    expect(r.strategy).toBe('ddp');
    expect(r.memory.model_states_bytes / (16 * PARAMS)).toBeCloseTo(1, 1);
    expect(Math.abs(r.memory.model_states_bytes / (16 * PARAMS) - 1)).toBeLessThan(0.02);
    expect(r.memory.fits).toBe(false);
  });

  it('FSDP2 on 8 GPUs holds 1/8 of it, on 64 GPUs 1/64', async () => {
    const one = (await run({ ...base, fsdp_version: 2, simulation: { hardware: 'dgx-h100' } })).result;
    expect(one.strategy).toBe('fsdp2');
    expect(Math.abs(one.memory.model_states_bytes / ((16 * PARAMS) / 8) - 1)).toBeLessThan(0.03);
    const eight = (await run({ ...base, fsdp_version: 2, simulation: { hardware: 'dgx-h100', num_nodes: 8 } })).result;
    expect(eight.world_size).toBe(64);
    expect(Math.abs(eight.memory.model_states_bytes / ((16 * PARAMS) / 64) - 1)).toBeLessThan(0.05);
  });

  it('bf16 under Axolotl: DDP and FSDP2 keep bf16 states (8 B/param), FSDP1 upcasts to fp32 (16 B/param)', async () => {
    // FlashAttention: with sdpa/eager Axolotl keeps embed_tokens and lm_head in fp32 under DDP (fp32-embeddings.test.ts).
    const bf = { ...base, bf16: true, flash_attention: true };
    const ddp = (await run({ ...bf, simulation: { hardware: 'dgx-h100' } })).result;
    expect(ddp.memory.model_states_bytes / PARAMS).toBeCloseTo(8, 1);
    const f2 = (await run({ ...bf, fsdp_version: 2, simulation: { hardware: 'dgx-h100' } })).result;
    expect((f2.memory.model_states_bytes * 8) / PARAMS).toBeCloseTo(8, 1);
    const f1 = (await run({ ...bf, fsdp_version: 1, fsdp_config: { sharding_strategy: 'FULL_SHARD' }, simulation: { hardware: 'dgx-h100' } })).result;
    expect((f1.memory.model_states_bytes * 8) / PARAMS).toBeCloseTo(16, 1);
  });

  it('fp32 master weights restore 16 B/param under bf16 compute', async () => {
    const r = (await run({ ...base, bf16: true, fsdp_version: 2, simulation: { hardware: 'dgx-h100', master_weights: 'fp32' } })).result;
    expect((r.memory.model_states_bytes * 8) / PARAMS).toBeCloseTo(16, 1);
    expect(r.precision.compute).toBe('bf16');
  });
});
