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
  /**
   * Narrows the fact to the rows of that source whose `notes` match: a table column the source documents
   * row by row (e.g. torchtune's "technique" column), never a choice made per row.
   */
  notes?: RegExp;
  /** `simulation:` keys the source's runs had. */
  simulation?: Record<string, unknown>;
  /** Top-level Axolotl keys the source's runs had (e.g. `sample_packing`, `datasets`). */
  scenario?: Record<string, unknown>;
  /**
   * What the source's tokens/s counts when it is not every token of every padded row: `real` = the tokens of
   * the samples, without the padding its collator added (the result's `real_tokens_per_s_per_gpu`).
   */
  tokensCounted?: 'real';
  /** Where the fact is documented. */
  evidence: string;
}

/** torchtune's README 'Optimization flags' table, however a data file spells its source. */
const TORCHTUNE_FLAGS = /^pytorch\/torchtune README\.md\b.*Optimization flags/;

export const SOURCE_FACTS: readonly SourceFact[] = [
  {
    source: /^mosaicml\/llm-foundry\s+scripts\/train\/benchmarking\/README\.md/,
    simulation: { attention_kernel: 'flash_attention_triton', fsdp_gradient_sync: 'every_micro_batch' },
    evidence:
      "llm-foundry's benchmark tables were produced by scripts/train/benchmarking/sweep.sh, which calls submit_benchmarks.py " +
      "without --attn_impl; its default was 'triton' from the first commit (2023-05) until v0.7.0 (commit 7f0fdae66, 2024-03), " +
      "and the script writes it into model.attn_config.attn_impl. MPT's attn_impl: triton runs triton_flash_attn_fn " +
      '(llmfoundry/models/layers/attention.py) over llmfoundry/models/layers/flash_attn_triton.py, a copy of ' +
      "HazyResearch flash_attn/flash_attn_triton.py on Triton's pre-MLIR backend (its rates: hardware profiles, kernels.attention_kernels.flash_attention_triton). The A100 tables date from 2023-05 " +
      '(image mosaicml/pytorch:1.13.1), the H100 tables from 2023-10 and 2024-01 (image mosaicml/pytorch:2.1.0), all before the default changed. ' +
      "They ran Composer's trainer, which wraps a micro-batch in DDP's no_sync only when the model is a DistributedDataParallel: " +
      "for FSDP it uses contextlib.nullcontext (composer/trainer/trainer.py _train_microbatches, 'if self.deepspeed_enabled or not " +
      "isinstance(self.state.model, DistributedDataParallel): sync_context = contextlib.nullcontext()', 2023-05 and today), so FSDP " +
      'reduce-scatters and keeps only sharded gradients after every micro-batch.',
  },
  {
    source: /^pytorch\/torchtitan\b/,
    simulation: { loss_parallel: true },
    evidence:
      "torchtitan runs tensor parallel with loss parallel unless told not to: `--training.enable_loss_parallel` defaulted to True " +
      '(torchtitan/config_manager.py at 9515a140b, 2024-08, the 405B performance runs) and later `disable_loss_parallel` defaults to False; ' +
      'parallelize_llama.py keeps the output projection `output_layouts=Shard(-1) if loss_parallel`, so the loss reads vocabulary-sharded logits. ' +
      'Rows without tensor parallel are unaffected.',
  },
  {
    source: TORCHTUNE_FLAGS,
    simulation: { gpus: 1, master_weights: 'bf16' },
    tokensCounted: 'real',
    evidence:
      "torchtune README.md 'Optimization flags' table (commit 1814feb17, PR #2003): 'Baseline uses Recipe=full_finetune_single_device' " +
      '(LoRA/QLoRA rows: lora_finetune_single_device), i.e. one GPU, and its recipe config (recipes/configs/llama3_2/3B_full_single_device.yaml) ' +
      'sets `dtype: bf16`: the model is loaded in bf16 and AdamW keeps its states in the parameters\' dtype, with no fp32 master copy. ' +
      "Its tokens/s is recipes/full_finetune_single_device.py's `tokens_per_second_per_gpu`: num_tokens / time, where num_tokens sums " +
      '`batch["labels"] != ignore_index`, and padded_collate_sft pads labels with that ignore index: padding is not counted.',
  },
  {
    source: TORCHTUNE_FLAGS,
    notes: /technique: baseline|\| Baseline \|/i,
    scenario: { sample_packing: false, datasets: [{ path: 'tatsu-lab/alpaca' }] },
    evidence:
      "torchtune README.md 'Optimization flags' table: techniques are cumulative and '+ Packed Dataset' is the first one added, so the " +
      "Baseline row ran the recipe config's dataset unpacked: recipes/configs/llama3_2/3B_full_single_device.yaml at 1814feb17 has " +
      "`dataset: _component_: torchtune.datasets.alpaca_dataset, packed: False`, and alpaca_dataset's source is 'tatsu-lab/alpaca' " +
      '(torchtune/datasets/_alpaca.py). Its collator pads each batch to its longest sample (padded_collate_sft).',
  },
];

/** The facts that apply to a row: its source's, narrowed by its notes where a fact says so. */
export function factsFor(source: string, notes = ''): SourceFact[] {
  return SOURCE_FACTS.filter((f) => f.source.test(source) && (!f.notes || f.notes.test(notes)));
}

type FactRow = Pick<ValidationRow, 'source' | 'scenario' | 'notes'>;

/** The row's `simulation:` block with its source's documented keys filled in where the row is silent. */
export function withSourceFacts(row: FactRow): Record<string, unknown> {
  const sim = { ...((row.scenario.simulation as Record<string, unknown> | undefined) ?? {}) };
  for (const fact of factsFor(row.source, row.notes)) {
    for (const [key, value] of Object.entries(fact.simulation ?? {})) if (sim[key] === undefined) sim[key] = value;
  }
  return sim;
}

/** Whether the row's source counts only the samples' own tokens in its tokens/s (not the padding). */
export function countsRealTokens(row: FactRow): boolean {
  return factsFor(row.source, row.notes).some((f) => f.tokensCounted === 'real');
}

/** The row's top-level scenario keys with its source's documented keys filled in where the row is silent. */
export function scenarioWithSourceFacts(row: FactRow): Record<string, unknown> {
  const scenario: Record<string, unknown> = { ...row.scenario };
  for (const fact of factsFor(row.source, row.notes)) {
    for (const [key, value] of Object.entries(fact.scenario ?? {})) if (scenario[key] === undefined) scenario[key] = value;
  }
  return scenario;
}
