import { describe, expect, it } from 'vitest';
import { resolveAttentionKernel } from '../../src/config/attention.ts';
import { run } from '../helpers/run.ts';

const mpt = { model_config: { model_type: 'mpt', d_model: 2048, n_heads: 16, n_layers: 24, expansion_ratio: 4, max_seq_len: 2048, vocab_size: 50368 }, sequence_len: 2048, micro_batch_size: 4, gradient_accumulation_steps: 1, bf16: true };

describe('simulation.attention_kernel', () => {
  it('defaults to FlashAttention-2 and is refused under eager attention, naming the key', () => {
    expect(resolveAttentionKernel('flash_attention_2', undefined)).toBe('flash_attention_2');
    expect(resolveAttentionKernel('sdpa', 'flash_attention_1')).toBe('flash_attention_1');
    expect(() => resolveAttentionKernel('eager', 'flash_attention_triton')).toThrow(/eager/);
  });

  it('slows the step by the attention time only, and the result says which kernel ran', async () => {
    const sim = { hardware: 'dgx-a100-80gb' };
    const fa2 = (await run({ ...mpt, flash_attention: true, simulation: sim })).result;
    const triton = (await run({ ...mpt, flash_attention: true, simulation: { ...sim, attention_kernel: 'flash_attention_triton' } })).result;
    expect(fa2.batch.attention.kernel).toBeUndefined();
    expect(triton.batch.attention.kernel).toBe('flash_attention_triton');
    expect(triton.step_time_s).toBeGreaterThan(fa2.step_time_s);
    // Attention is a minority of a 1B model's step at 2k: the whole step cannot slow by the kernel's ~2×.
    expect(triton.step_time_s).toBeLessThan(1.5 * fa2.step_time_s);
    expect(triton.memory.peak_bytes).toBe(fa2.memory.peak_bytes);
  }, 30_000);

  it('refuses a GPU whose profile has no table for the kernel', async () => {
    await expect(run({ ...mpt, flash_attention: true, simulation: { hardware: 'hgx-h200', attention_kernel: 'flash_attention_triton' } })).rejects.toThrow(/no measured table/);
  });
});
