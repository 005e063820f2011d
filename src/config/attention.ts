/**
 * Which attention kernel runs and what shape a micro-batch has, as Axolotl sets them up:
 *
 * - `attn_implementation` (eager, sdpa, flash_attention_2, flash_attention_3, flex_attention, xformers, sage,
 *   fp8); the deprecated booleans map to it in Axolotl's priority order (xformers, sage, flex, flash, sdp,
 *   eager; axolotl utils/schemas/enums.py LEGACY_ATTN_FLAG_TO_IMPL, config.py `normalize_attn_implementation`).
 *   Unset, transformers uses SDPA (modeling_utils.py `get_correct_attn_implementation`: "Sdpa is the
 *   default"). "fp8" loads as SDPA (loaders/model.py `_LOAD_TIME_OVERRIDE`).
 * - `sample_packing` (axolotl core/trainers/base.py `_create_multipack_sampler`, core/builders/causal.py):
 *   backends that pack through position_ids (flash_attention_2/3, flex_attention, xformers, sage;
 *   enums.py ATTN_IMPLS_SUPPORTING_PACKING) get one row of micro_batch_size × sequence_len tokens whose
 *   documents attend only within themselves (varlen kernels skip the other blocks); SDPA and eager get
 *   micro_batch_size real rows of sequence_len isolated by a block-diagonal 4-D mask, which dense kernels
 *   compute in full. `pad_to_sequence_len` defaults to true under packing (validation.py
 *   `hint_sample_packing_padding`).
 * - Without packing each row is one sample padded to the longest of its micro-batch (or to sequence_len with
 *   `pad_to_sequence_len`). How long samples are depends on the dataset: a dataset with a profile
 *   (src/config/datasets/, config/dataset-profiles.ts) brings its measured lengths, `simulation.document_length`
 *   sets them, otherwise the default distribution below applies whenever the config trains on `datasets`; a
 *   config without datasets (pretraining-style or pre-tokenised full rows, as in the validation rows) has full
 *   rows of sequence_len.
 *   Three lengths follow from padding to the longest (DataShape): the kernels of a step run as long as the
 *   slowest data-parallel rank, whose micro-batch holds the longest of mb × dp samples (every FSDP / ZeRO-3
 *   gather and every gradient reduction waits for it); each rank counts its own padded rows (transformers
 *   Trainer `num_input_tokens_seen` sums `input_ids.numel()` over ranks, torchtune counts `tokens.numel()`);
 *   and the memory peak of a run comes from its longest micro-batch, the dataset's longest sample up to
 *   sequence_len (truncation).
 */
import { ShardsimError } from '../util/errors.ts';
import { expectedLongest, keptDocumentMoments, type DocumentLengths } from '../model/attention-work.ts';
import { profileOfDatasets } from './dataset-profiles.ts';

export type AttentionImpl = 'eager' | 'sdpa' | 'flash_attention_2' | 'flash_attention_3' | 'flex_attention' | 'xformers' | 'sage' | 'fp8';

export const ATTENTION_IMPLS: readonly AttentionImpl[] = ['eager', 'sdpa', 'flash_attention_2', 'flash_attention_3', 'flex_attention', 'xformers', 'sage', 'fp8'];

const LEGACY_FLAGS: readonly [string, AttentionImpl][] = [
  ['xformers_attention', 'xformers'],
  ['sage_attention', 'sage'],
  ['flex_attention', 'flex_attention'],
  ['flash_attention', 'flash_attention_2'],
  ['sdp_attention', 'sdpa'],
  ['eager_attention', 'eager'],
];

const PACKS_BY_POSITION_IDS = new Set<AttentionImpl>(['flash_attention_2', 'flash_attention_3', 'flex_attention', 'xformers', 'sage']);

/**
 * Instruction / chat samples as in Axolotl's example datasets: a log-normal with a 512-token mean and a long
 * tail (σ = 1 in log space). An assumption about the data, not a measurement: set
 * `simulation.document_length: {mean_tokens, sigma}` to your dataset's.
 */
export const DEFAULT_DOCUMENTS: DocumentLengths = { meanTokens: 512, sigma: 1 };

/**
 * The fused kernel that computes attention (`simulation.attention_kernel`; Axolotl has no key for it):
 * FlashAttention-2 for every fused backend unless a run says otherwise. The older kernels matter for
 * published runs: `flash_attention_1` is flash-attn < 2.0 (what `flash_attention: true` meant before
 * July 2023), `flash_attention_triton` the Triton FlashAttention kernel (flash_attn/flash_attn_triton.py),
 * e.g. MPT's `attn_config.attn_impl: triton` in mosaicml/llm-foundry (llmfoundry/models/layers/attention.py
 * `triton_flash_attn_fn`). Each has its own measured table in the hardware profile
 * (`kernels.attention_kernels`).
 */
export type AttentionKernel = 'flash_attention_2' | 'flash_attention_1' | 'flash_attention_triton';
export const ATTENTION_KERNELS: readonly AttentionKernel[] = ['flash_attention_2', 'flash_attention_1', 'flash_attention_triton'];

/** The kernel a scenario runs: refused with eager attention, which runs no fused kernel. */
export function resolveAttentionKernel(impl: AttentionImpl, requested: AttentionKernel | undefined): AttentionKernel {
  if (requested === undefined) return 'flash_attention_2';
  if (!isFusedAttention(impl)) {
    throw new ShardsimError(`${requested} is a fused attention kernel, but attention runs eager (scores materialised by two matmuls and a softmax)`, { key: 'simulation.attention_kernel', fix: 'remove simulation.attention_kernel, or choose a fused backend (attn_implementation: flash_attention_2 or sdpa)' });
  }
  return requested;
}

export interface AttentionConfig {
  implementation: AttentionImpl;
  /** The fused kernel's measured table (`simulation.attention_kernel`; FlashAttention-2 by default). */
  kernel: AttentionKernel;
  /**
   * How the kernel masks a row: 'causal' (one causal sequence per row), 'documents' (varlen/block-sparse:
   * causal within each document only), 'dense' (a 4-D mask the kernel applies to every score of the row).
   */
  masking: 'causal' | 'documents' | 'dense';
  /** Document lengths when rows are made of samples (packing, or padded unpacked rows). */
  documents?: DocumentLengths;
  /**
   * A pattern of the trainer's own (strided EBFT's block mask, src/strategy/ebft-strided.ts), as the
   * equivalent batch of sequences the kernel model takes (src/model/attention-work.ts); overrides `masking`
   * for a fused kernel.
   */
  equivalent?: { batch: number; seqLen: number; causal: boolean };
}

export interface DataShape {
  packing: boolean;
  /** Rows of one micro-batch as the model sees them. */
  rows: number;
  /**
   * Tokens per row, padding included, that every kernel processes: unpacked samples padded to the longest of
   * the slowest data-parallel rank's micro-batch.
   */
  rowTokens: number;
  /** Tokens per row as the trainer counts them (each rank's own padding; = rowTokens unless padded to the longest). */
  countedRowTokens: number;
  /** The longest row of the run (sets the memory peak; = rowTokens unless padded to the longest). */
  peakRowTokens: number;
  /** Non-padding tokens of one micro-batch. */
  realTokens: number;
}

export interface AttentionInput {
  attn_implementation?: string | null;
  sample_packing?: boolean | null;
  pad_to_sequence_len?: boolean | null;
  multipack_real_batches?: boolean | null;
  datasets?: unknown;
  pretraining_dataset?: unknown;
  min_sample_len?: number | null;
  sequence_len?: number;
  micro_batch_size?: number;
  document_length?: { mean_tokens?: number; sigma?: number; max_tokens?: number };
  [legacy: string]: unknown;
}

/** What padding to the longest needs beyond the config keys: how many ranks wait for each other, the pad multiple. */
export interface PaddingContext {
  /** Data-parallel ranks whose micro-batches synchronise (dp_shard × dp_replicate). */
  dataParallel: number;
  /**
   * The collator's pad_to_multiple_of: Axolotl's `pad_to_multiple_of` key, default 64 when pad_to_sequence_len
   * is unset (core/builders/causal.py `data_collator_kwargs`: "A100 is best at 64"); other trainers' is unknown,
   * taken as 1 (torchtune's padded_collate_sft pads to the longest).
   */
  padMultiple: number;
}

/**
 * The backend, and a warning when it is approximated. Hub-kernel paths (a name with "/", e.g.
 * kernels-community/vllm-flash-attn3) pass through Axolotl to transformers' kernels hub; they are modelled as
 * the flash kernel they package.
 */
/**
 * How a backend takes packed samples (axolotl utils/schemas/enums.py ATTN_IMPLS_SUPPORTING_PACKING,
 * config.py `attn_decontaminates_packing`, core/builders/causal.py `sample_packing_drop_attention_mask`):
 * - 'varlen': flash_attention_2/3, flex_attention, xformers, sage and the kernels-community flash-attn2/3 and
 *   sage-attention hub kernels — one row of micro_batch_size × sequence_len, documents isolated by their
 *   position_ids (varlen kernels, or flex's document BlockMask);
 * - 'block-mask': sdpa and eager chosen explicitly — micro_batch_size rows, a dense 4-D block-diagonal mask
 *   built from position_ids (the kernel computes every score of the row);
 * - 'row-causal': attention left unset, fp8, or any other hub kernel — Axolotl keeps the segment-id mask,
 *   which transformers reads as all-ones, so each of the micro_batch_size rows is one causal sequence across
 *   its documents' boundaries (validation.py warns of the cross-contamination).
 */
export type PackedAttention = 'varlen' | 'block-mask' | 'row-causal';

const PACKING_HUB_KERNELS = new Set(['kernels-community/flash-attn2', 'kernels-community/flash-attn3', 'kernels-community/sage-attention']);

export function resolveAttentionImpl(s: AttentionInput): { impl: AttentionImpl; packed: PackedAttention; warning?: string } {
  const legacy = LEGACY_FLAGS.filter(([flag]) => s[flag] === true);
  if (s.attn_implementation !== undefined && s.attn_implementation !== null) {
    if (legacy.length > 0) {
      throw new ShardsimError(`cannot be combined with the deprecated ${legacy.map(([f]) => f).join(', ')} (Axolotl refuses both)`, { key: 'attn_implementation', fix: 'keep only attn_implementation' });
    }
    const v = s.attn_implementation;
    if (v.includes('/')) {
      const impl: AttentionImpl = /flash[-_]?attn[-_]?3|fa3/i.test(v) ? 'flash_attention_3' : /sage/i.test(v) ? 'sage' : 'flash_attention_2';
      const packed: PackedAttention = PACKING_HUB_KERNELS.has(v.split('@')[0]!) ? 'varlen' : 'row-causal';
      return { impl, packed, warning: `attn_implementation: hub kernel "${v}" is modelled as ${impl}` };
    }
    if ((ATTENTION_IMPLS as readonly string[]).includes(v)) {
      const impl = v as AttentionImpl;
      const packed = packedAttention(impl);
      if (impl === 'flash_attention_3' || impl === 'sage' || impl === 'xformers') return { impl, packed, warning: `attn_implementation: ${impl} runs at FlashAttention-2's measured rates (no ${impl} kernel table in the hardware profiles)` };
      if (impl === 'fp8') return { impl, packed: 'row-causal', warning: 'attn_implementation: fp8 loads as sdpa and is modelled as bf16 sdpa (the fp8 attention kernel is not modelled)' };
      return { impl, packed };
    }
    throw new ShardsimError(`unknown attention implementation "${v}"`, { key: 'attn_implementation', fix: `use one of ${ATTENTION_IMPLS.join(', ')}, or a hub kernel path with "/"` });
  }
  const flagged = legacy[0]?.[1];
  return flagged ? { impl: flagged, packed: packedAttention(flagged) } : { impl: 'sdpa', packed: 'row-causal' };
}

function packedAttention(impl: AttentionImpl): PackedAttention {
  return PACKS_BY_POSITION_IDS.has(impl) ? 'varlen' : impl === 'fp8' ? 'row-causal' : 'block-mask';
}

/** Whether the backend's kernel never materialises the score matrix (everything but eager). */
export function isFusedAttention(impl: AttentionImpl): boolean {
  return impl !== 'eager';
}

export function resolveDataShape(
  s: AttentionInput,
  impl: AttentionImpl,
  packed: PackedAttention = packedAttention(impl),
  padding: PaddingContext = { dataParallel: 1, padMultiple: 64 },
  kernel: AttentionKernel = 'flash_attention_2',
): { attention: AttentionConfig; shape: DataShape } {
  const mb = s.micro_batch_size ?? 1;
  const seq = s.sequence_len ?? 1;
  const packing = s.sample_packing === true;
  const samples = s.datasets !== undefined || s.pretraining_dataset !== undefined || s.document_length !== undefined;
  // simulation.document_length overrides, key by key, what the dataset's profile measured.
  const profiled = profileOfDatasets(s.datasets)?.documentLength;
  const maxTokens = s.document_length?.max_tokens ?? (s.document_length?.mean_tokens === undefined ? profiled?.maxTokens : undefined);
  const documents: DocumentLengths | undefined = samples
    ? {
        meanTokens: s.document_length?.mean_tokens ?? profiled?.meanTokens ?? DEFAULT_DOCUMENTS.meanTokens,
        sigma: s.document_length?.sigma ?? profiled?.sigma ?? DEFAULT_DOCUMENTS.sigma,
        // Axolotl drops samples shorter than min_sample_len (default 2) before packing.
        ...(s.min_sample_len ? { minTokens: s.min_sample_len } : {}),
        ...(maxTokens !== undefined ? { maxTokens } : {}),
      }
    : undefined;
  if (packing) {
    // multipack_real_batches defaults to `not attn_supports_packing` (core/builders/causal.py).
    const varlen = packed === 'varlen' && s.multipack_real_batches !== true;
    // Multipack fills each bin with whole samples; the little left over is padding (pad_to_sequence_len).
    const rowTokens = varlen ? mb * seq : seq;
    const shape: DataShape = { packing, rows: varlen ? 1 : mb, rowTokens, countedRowTokens: rowTokens, peakRowTokens: rowTokens, realTokens: mb * seq };
    const masking = !documents || packed === 'row-causal' ? 'causal' : packed === 'varlen' ? 'documents' : 'dense';
    return { attention: { implementation: impl, kernel, masking, ...(documents ? { documents } : {}) }, shape };
  }
  if (!documents) return { attention: { implementation: impl, kernel, masking: 'causal' }, shape: { packing, rows: mb, rowTokens: seq, countedRowTokens: seq, peakRowTokens: seq, realTokens: mb * seq } };
  // Unpacked samples: padded to the longest of the micro-batch (a multiple of the collator's
  // pad_to_multiple_of) or to sequence_len. Flash kernels unpad and attend per sample; SDPA and eager apply
  // the padding mask densely.
  const padded = (n: number) => Math.min(seq, Math.ceil(expectedLongest(n, documents, seq) / padding.padMultiple) * padding.padMultiple);
  const longest = s.pad_to_sequence_len ? seq : padded(mb * Math.max(1, padding.dataParallel));
  const counted = s.pad_to_sequence_len ? seq : padded(mb);
  // The run's longest micro-batch holds its longest sample, truncated to sequence_len; unbounded lengths reach the cap.
  const peak = s.pad_to_sequence_len ? seq : Math.max(longest, Math.min(seq, Math.ceil((documents.maxTokens ?? seq) / padding.padMultiple) * padding.padMultiple));
  const keptMean = keptDocumentMoments(documents).mean;
  const real = Math.min(mb * keptMean, mb * counted);
  const masking = PACKS_BY_POSITION_IDS.has(impl) ? 'documents' : mb > 1 || longest > keptMean ? 'dense' : 'causal';
  return { attention: { implementation: impl, kernel, masking, documents }, shape: { packing, rows: mb, rowTokens: longest, countedRowTokens: counted, peakRowTokens: peak, realTokens: real } };
}
