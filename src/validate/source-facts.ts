/**
 * Documented facts about how a source produced its published numbers that its rows' Axolotl keys cannot
 * say, applied to every row of that source before it is simulated. Each fact is read from the source's own
 * scripts or configs (cited below) — never fitted, never chosen per row — and a row that sets the key
 * itself keeps its value.
 */
import type { ValidationRow } from './dataset.ts';

export interface SourceFact {
  /** Matches the row's `source` field. */
  source: RegExp;
  /** `simulation:` keys the source's runs had. */
  simulation: Record<string, unknown>;
  /** Where the fact is documented. */
  evidence: string;
}

export const SOURCE_FACTS: readonly SourceFact[] = [
  {
    source: /^mosaicml\/llm-foundry\s+scripts\/train\/benchmarking\/README\.md/,
    simulation: { attention_kernel: 'flash_attention_triton' },
    evidence:
      "llm-foundry's benchmark tables were produced by scripts/train/benchmarking/sweep.sh, which calls submit_benchmarks.py " +
      "without --attn_impl; its default was 'triton' from the first commit (2023-05) until v0.7.0 (commit 7f0fdae66, 2024-03), " +
      "and the script writes it into model.attn_config.attn_impl. MPT's attn_impl: triton runs triton_flash_attn_fn " +
      '(llmfoundry/models/layers/attention.py) over llmfoundry/models/layers/flash_attn_triton.py, a copy of ' +
      "HazyResearch flash_attn/flash_attn_triton.py on Triton's pre-MLIR backend (its rates: hardware profiles, kernels.attention_kernels.flash_attention_triton). The A100 tables date from 2023-05 " +
      '(image mosaicml/pytorch:1.13.1), the H100 tables from 2023-10 and 2024-01 (image mosaicml/pytorch:2.1.0), all before the default changed.',
  },
];

/** The facts that apply to a row's source. */
export function factsFor(source: string): SourceFact[] {
  return SOURCE_FACTS.filter((f) => f.source.test(source));
}

/** The row's `simulation:` block with its source's documented keys filled in where the row is silent. */
export function withSourceFacts(row: Pick<ValidationRow, 'source' | 'scenario'>): Record<string, unknown> {
  const sim = { ...((row.scenario.simulation as Record<string, unknown> | undefined) ?? {}) };
  for (const fact of factsFor(row.source)) {
    for (const [key, value] of Object.entries(fact.simulation)) if (sim[key] === undefined) sim[key] = value;
  }
  return sim;
}
