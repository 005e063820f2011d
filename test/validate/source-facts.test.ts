import { describe, expect, it } from 'vitest';
import { factsFor, withSourceFacts } from '../../src/validate/source-facts.ts';
import { validateRows } from '../../src/validate/run.ts';
import type { ValidationRow } from '../../src/validate/dataset.ts';

const LLM_FOUNDRY = 'mosaicml/llm-foundry scripts/train/benchmarking/README.md — A100 80GB';
const mpt = { model_config: { model_type: 'mpt', d_model: 2048, n_heads: 16, n_layers: 24, expansion_ratio: 4, max_seq_len: 2048, vocab_size: 50368 }, sequence_len: 2048, micro_batch_size: 8, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, fsdp_version: 1, fsdp_config: { reshard_after_forward: true } };
const row = (source: string, simulation?: Record<string, unknown>): ValidationRow => ({ id: 'r', source, hardware: 'dgx-a100-80gb', num_nodes: 1, scenario: { ...mpt, ...(simulation ? { simulation } : {}) }, measured: { tokens_per_s_per_gpu: 1 } });

describe('documented source facts', () => {
  it("gives llm-foundry's benchmark rows the Triton attention kernel their benchmark config ran, and no other source", () => {
    expect(withSourceFacts(row(LLM_FOUNDRY))).toEqual({ attention_kernel: 'flash_attention_triton' });
    expect(factsFor(LLM_FOUNDRY)[0]!.evidence).toMatch(/submit_benchmarks\.py/);
    expect(withSourceFacts(row('pytorch/torchtitan docs/performance.md'))).toEqual({});
    expect(withSourceFacts(row('mosaicml/llm-foundry some/other/table.md'))).toEqual({});
  });

  it("keeps what a row says itself", () => {
    expect(withSourceFacts(row(LLM_FOUNDRY, { attention_kernel: 'flash_attention_2', seed: 3 }))).toEqual({ attention_kernel: 'flash_attention_2', seed: 3 });
  });

  it('the fact changes the prediction: the Triton kernel is slower than FlashAttention-2', async () => {
    const report = await validateRows([{ ...row(LLM_FOUNDRY), id: 'triton' }, { ...row(LLM_FOUNDRY, { attention_kernel: 'flash_attention_2' }), id: 'fa2' }]);
    const [triton, fa2] = report.rows.map((r) => r.predicted);
    expect(triton!).toBeLessThan(fa2! * 0.97);
  }, 30_000);
});
