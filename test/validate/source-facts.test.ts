import { describe, expect, it } from 'vitest';
import { countsRealTokens, factsFor, scenarioWithSourceFacts, withSourceFacts } from '../../src/validate/source-facts.ts';
import { validateRows } from '../../src/validate/run.ts';
import type { ValidationRow } from '../../src/validate/dataset.ts';

const LLM_FOUNDRY = 'mosaicml/llm-foundry scripts/train/benchmarking/README.md — A100 80GB';
const mpt = { model_config: { model_type: 'mpt', d_model: 2048, n_heads: 16, n_layers: 24, expansion_ratio: 4, max_seq_len: 2048, vocab_size: 50368 }, sequence_len: 2048, micro_batch_size: 8, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, fsdp_version: 1, fsdp_config: { reshard_after_forward: true } };
const row = (source: string, simulation?: Record<string, unknown>): ValidationRow => ({ id: 'r', source, hardware: 'dgx-a100-80gb', num_nodes: 1, scenario: { ...mpt, ...(simulation ? { simulation } : {}) }, measured: { tokens_per_s_per_gpu: 1 } });

describe('documented source facts', () => {
  it("gives llm-foundry's benchmark rows the Triton attention kernel their benchmark config ran, and no other source", () => {
    expect(withSourceFacts(row(LLM_FOUNDRY))).toEqual({ attention_kernel: 'flash_attention_triton', fsdp_gradient_sync: 'every_micro_batch' });
    expect(factsFor(LLM_FOUNDRY)[0]!.evidence).toMatch(/submit_benchmarks\.py/);
    expect(withSourceFacts(row('pytorch/torchtune docs/other.md'))).toEqual({});
    expect(withSourceFacts(row('mosaicml/llm-foundry some/other/table.md'))).toEqual({});
  });

  it("keeps what a row says itself", () => {
    expect(withSourceFacts(row(LLM_FOUNDRY, { attention_kernel: 'flash_attention_2', seed: 3 }))).toEqual({ attention_kernel: 'flash_attention_2', seed: 3, fsdp_gradient_sync: 'every_micro_batch' });
  });

  it('the fact changes the prediction: the Triton kernel is slower than FlashAttention-2', async () => {
    const report = await validateRows([{ ...row(LLM_FOUNDRY), id: 'triton' }, { ...row(LLM_FOUNDRY, { attention_kernel: 'flash_attention_2' }), id: 'fa2' }]);
    const [triton, fa2] = report.rows.map((r) => r.predicted);
    expect(triton!).toBeLessThan(fa2! * 0.97);
  }, 30_000);
});

describe("torchtune's 'Optimization flags' table", () => {
  const TT = "pytorch/torchtune README.md — 'Optimization flags' table (added in commit 1814feb17, PR #2003 'add flags to readme', 2024-11-18; unchanged at HEAD bd2a0fc7)";
  const llama = { model_config: { model_type: 'llama', hidden_size: 3072, num_hidden_layers: 28, num_attention_heads: 24, num_key_value_heads: 8, intermediate_size: 8192, vocab_size: 128256, tie_word_embeddings: true }, sequence_len: 4096, micro_batch_size: 2, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, optimizer: 'adamw_torch_fused' };
  const ttRow = (id: string, notes: string): ValidationRow => ({ id, source: TT, hardware: 'dgx-a100-80gb', num_nodes: 1, scenario: { ...llama }, measured: { tokens_per_s_per_gpu: 1000 }, notes });

  it('runs on one GPU in pure bf16, whatever the row', () => {
    expect(withSourceFacts(ttRow('a', 'technique: + Compile'))).toEqual({ gpus: 1, master_weights: 'bf16' });
    expect(countsRealTokens(ttRow('a', 'technique: + Compile'))).toBe(true);
    expect(countsRealTokens(row(LLM_FOUNDRY))).toBe(false);
  });

  it("only the Baseline row is unpacked, on the recipe config's alpaca dataset", () => {
    expect(scenarioWithSourceFacts(ttRow('b', 'technique: Baseline; cumulative'))).toMatchObject({ sample_packing: false, datasets: [{ path: 'tatsu-lab/alpaca' }] });
    expect(scenarioWithSourceFacts(ttRow('p', 'technique: + Packed Dataset'))).not.toHaveProperty('sample_packing');
    expect(scenarioWithSourceFacts({ ...ttRow('own', 'technique: Baseline'), scenario: { ...llama, sample_packing: true } })).toMatchObject({ sample_packing: true });
  });

  it('the unpacked Baseline runs far fewer tokens per second than the packed row, and counts only real tokens', async () => {
    const report = await validateRows([ttRow('baseline', 'technique: Baseline'), ttRow('packed', 'technique: + Packed Dataset')]);
    const [baseline, packed] = report.rows.map((r) => r.predicted);
    expect(baseline!).toBeLessThan(packed! * 0.5);
  }, 30_000);
});

describe("torchtitan's loss parallel", () => {
  it('gives torchtitan rows loss_parallel (its default with TP), and it only matters with tensor parallel', async () => {
    const TT = 'pytorch/torchtitan docs/performance.md (version before Dec-2024 rewrite)';
    expect(withSourceFacts(row(TT))).toEqual({ loss_parallel: true });
    const llama = { base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, fsdp_version: 2 };
    const mk = (id: string, source: string, tp: number): ValidationRow => ({ id, source, hardware: 'dgx-h100', num_nodes: 1, scenario: { ...llama, tensor_parallel_size: tp }, measured: { tokens_per_s_per_gpu: 1 } });
    const report = await validateRows([mk('tt', TT, 4), mk('other', 'someone/else', 4), mk('tt1', TT, 1), mk('other1', 'someone/else', 1)]);
    const [tt, other, tt1, other1] = report.rows.map((r) => r.predicted);
    expect(tt!).toBeGreaterThan(other!);
    expect(tt1).toBe(other1);
  }, 30_000);
});
