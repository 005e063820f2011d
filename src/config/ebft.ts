import { ShardsimError } from '../util/errors.ts';

/**
 * Axolotl's energy-based fine-tuning (`rl: ebft`, core/trainers/ebft/) in strided mode
 * (`ebft.mode: strided`, AxolotlStridedEBFTTrainer in strided.py), which runs on the training GPU with no
 * vLLM. One micro-batch of B documents, each padded to sequence_len = S tokens by its dataset transform
 * (examples/ebft/ebft_pretrain.py, prompt_strategies/ebft/ebft_strided_structured.py: padding to
 * `seq_len`), goes through `compute_loss`:
 *
 * 1. Anchors: from `anchor_offset` = context_length (or, for prompt/completion data, the batch's longest
 *    prompt + min_completion_prefix, at least context_length) every `stride` tokens:
 *    NB = (S − G − anchor_offset) // stride + 1 blocks, G = generate_max_len. NB ≤ 0 returns a zero loss.
 * 2. `_generate_strided_blocks` (no_grad): the B documents repeated N = n_samples_per_prompt times; G
 *    forwards WITHOUT a KV cache, step g over the whole current sequence of S + g·NB tokens, with eager
 *    attention (`override_attn_implementation(model, "eager")`) and a dense [BN, 1, L, L] mask built by
 *    Python loops (`build_strided_dense_mask_and_positions`), full logits, NB tokens sampled per row.
 * 3. The trained forward over L = S + NB·G tokens with flex_attention and a block mask
 *    (`create_strided_block_mask`), log-probs at R positions — the NB·G generated ones (from S − 1), or all
 *    L − 1 when ce_coef > 0 — each 256-position chunk's `log_softmax(logits.float())` gathered at the sampled
 *    tokens. Which path runs depends on the model object: `getattr(unwrapped, "model")` must itself have
 *    `.model` and `.lm_head`, which holds under PEFT (PeftModel → LoraModel.model = the *ForCausalLM) but not
 *    for a bare *ForCausalLM (its `.model` is the decoder). Under PEFT, one row at a time
 *    (`for s_idx in range(BN)`): the backbone, then lm_head chunk by chunk over the R positions only; every
 *    row's autograd graph stays alive until the single backward. Otherwise the fallback: one forward of all BN
 *    rows through the whole model, logits at every position, the chunks sliced from them.
 * 4. `_compute_block_rewards` (no_grad): ONE forward of all BN rows over L tokens through the feature network
 *    with `output_hidden_states=True` — the actor with its adapters disabled under PEFT on one GPU
 *    (`disable_adapter()`, SDPA with the dense strided mask built by the same Python loops), else a bf16
 *    deep copy of the model (flex_attention with the block mask). Then per (document, block) an SVD
 *    whitening when use_whitening, cosine alignment and diversity.
 * 5. RLOO / group-norm advantages, REINFORCE loss (+ ce_coef × CE), one backward over the BN rows.
 *
 * The trainer is modelled on one GPU only: with more visible GPUs its feature network is a deep copy on the
 * next GPU even under PEFT (strided.py `__init__`), on a meta-device (FSDP) model it is reloaded from the hub,
 * and under PEFT the row-by-row backbone calls go through `self.accelerator.unwrap_model(model)`, outside DDP,
 * so the DDP reducer never prepares for them.
 */
export interface EbftStrided {
  kind: 'ebft-strided';
  /** N: rollouts per document (`n_samples_per_prompt`). */
  samplesPerDocument: number;
  stride: number;
  contextLength: number;
  /** G: tokens generated per block, one no-grad forward each (`generate_max_len`). */
  generateTokens: number;
  /** Where the first anchor sits (context_length, or past the prompt for prompt/completion data). */
  anchorOffset: number;
  /** NB: anchors (blocks) per row. */
  blocks: number;
  /** S: tokens per document row (sequence_len: the transforms pad to it). */
  documentTokens: number;
  /** L = S + NB·G: a row once every block has been generated. */
  fullTokens: number;
  /** R: positions whose log-probs the trained head computes (NB·G, or L − 1 with ce_coef > 0). */
  logProbTokens: number;
  /** 'per-row': the backbone row by row and lm_head over R positions (PEFT); 'batched': one forward of all rows, lm_head everywhere. */
  trainedForward: 'per-row' | 'batched';
  /** Prompt/completion data (a `prompt_length` column): anchors start after the prompt. */
  structured: boolean;
  /** SVD whitening per (document, block) in the reward. */
  whitening: boolean;
  /** Fractional depths of the feature layers (`feature_layers`). */
  featureLayers: number[];
  /** The feature network: the actor's base weights with adapters disabled (PEFT), or a bf16 deep copy. */
  featureNetwork: 'adapters-disabled' | 'copy';
}

export interface EbftInput {
  rl?: string | null;
  ebft?: Record<string, unknown> | null;
  sequence_len?: number;
  adapter?: string | null;
  datasets?: unknown;
}

/** AxolotlStridedEBFTConfig / EBFTConfig defaults (core/trainers/ebft/args.py, utils/schemas/config.py). */
export const EBFT_DEFAULTS = { stride: 8, context_length: 8, generate_max_len: 8, n_samples_per_prompt: 4, ce_coef: 0, min_completion_prefix: 0, use_whitening: false, feature_layers: [0.25, 0.5, 0.75] } as const;

/** The lm_head chunk of the trained forward (strided.py `chunk_size = 256`). */
export const EBFT_HEAD_CHUNK_TOKENS = 256;

/** Dataset transforms that emit `prompt_length` (prompt_strategies/ebft/ebft_strided_structured.py, ebft_strided_chat.py). */
const STRUCTURED_TRANSFORMS = /ebft_strided_(structured|chat)/;

function ebftMode(ebft: unknown): string {
  const mode = ebft && typeof ebft === 'object' ? (ebft as { mode?: unknown }).mode : undefined;
  return typeof mode === 'string' && mode !== '' ? mode : 'structured';
}

/**
 * EBFT's structured modes generate completions for GRPO on a vLLM server on another GPU (or, with
 * trl.use_vllm: false, with TRL's generate inside the trainer): refused before the `trl` / `vllm` keys are
 * met, so the line names the EBFT mode. Called on the raw config.
 */
export function refuseEbftStructured(raw: Record<string, unknown>): void {
  if (String(raw.rl ?? '').toLowerCase() !== 'ebft') return;
  if (raw.ebft === undefined || raw.ebft === null) {
    throw new ShardsimError('rl: ebft needs an ebft: section (Axolotl check_ebft_config_required refuses the config)', { key: 'ebft', fix: 'add ebft: with mode: strided' });
  }
  const mode = ebftMode(raw.ebft);
  if (mode !== 'strided') {
    const trl = raw.trl && typeof raw.trl === 'object' ? (raw.trl as { use_vllm?: unknown }) : {};
    const where = trl.use_vllm === false ? "with TRL's generate inside its GRPO trainer (trl.use_vllm: false)" : 'on a separate vLLM server (docs/ebft.qmd)';
    throw new ShardsimError(`EBFT ${mode} mode generates completions ${where}, which is out of scope`, { key: 'ebft', fix: 'simulate strided mode (ebft.mode: strided), which generates on the training GPU' });
  }
}

export function resolveEbftStrided(s: EbftInput): EbftStrided {
  const e = s.ebft ?? {};
  const num = (k: keyof typeof EBFT_DEFAULTS): number => (typeof e[k] === 'number' ? (e[k] as number) : (EBFT_DEFAULTS[k] as number));
  const stride = num('stride');
  const contextLength = num('context_length');
  const G = num('generate_max_len');
  const N = num('n_samples_per_prompt');
  const S = s.sequence_len ?? 1;
  const datasets = Array.isArray(s.datasets) ? s.datasets : [];
  const structured = datasets.some((d) => d && typeof d === 'object' && STRUCTURED_TRANSFORMS.test(String((d as { type?: unknown }).type ?? '')));
  // strided.py compute_loss: anchor_offset = max(max_prompt_len + min_completion_prefix, ctx_len) for
  // prompt/completion data, else ctx_len. The prompt length is the data's; with none assumed the anchors start
  // as early as they can (the most blocks: an upper bound on the work).
  const anchorOffset = structured ? Math.max(num('min_completion_prefix'), contextLength) : contextLength;
  const blocks = Math.floor((S - G - anchorOffset) / stride) + 1;
  if (blocks <= 0) {
    throw new ShardsimError(`${S} tokens leave no anchor for strided EBFT (needs ≥ generate_max_len + ${structured ? 'the anchor offset' : 'context_length'} + stride = ${G + anchorOffset + stride}; strided.py returns a zero loss)`, { key: 'sequence_len', fix: `raise sequence_len to at least ${G + anchorOffset + stride}` });
  }
  const L = S + blocks * G;
  const ce = typeof e.ce_coef === 'number' ? e.ce_coef : EBFT_DEFAULTS.ce_coef;
  const layers = Array.isArray(e.feature_layers) ? (e.feature_layers as number[]) : [...EBFT_DEFAULTS.feature_layers];
  const adapter = s.adapter !== undefined && s.adapter !== null && s.adapter !== '';
  return {
    kind: 'ebft-strided',
    samplesPerDocument: N,
    stride,
    contextLength,
    generateTokens: G,
    anchorOffset,
    blocks,
    documentTokens: S,
    fullTokens: L,
    // strided.py: gen_start = seq_len − 1; compute_start = 0 if ce_coef > 0 else gen_start; region [start, L − 1).
    logProbTokens: ce > 0 ? L - 1 : L - S,
    trainedForward: adapter ? 'per-row' : 'batched',
    structured,
    whitening: e.use_whitening === true,
    featureLayers: layers,
    featureNetwork: adapter ? 'adapters-disabled' : 'copy',
  };
}

/** Whether a validated config runs strided EBFT. */
export function isEbftStrided(s: EbftInput): boolean {
  return String(s.rl ?? '').toLowerCase() === 'ebft' && ebftMode(s.ebft) === 'strided';
}

/**
 * Assignments the Python loops of `build_strided_dense_mask_and_positions` (strided.py) make for
 * `generationStep` generated steps: for every earlier step s and block, the context slice, the diagonal and
 * one entry per still earlier step of the same block — NB · Σ_{s<g} (2 + s). Each is a host-side indexing
 * plus a fill kernel.
 */
export function denseMaskAssignments(blocks: number, generationStep: number): number {
  const g = generationStep;
  return blocks * (2 * g + (g * (g - 1)) / 2);
}

/** One forward of the strided EBFT step: its rows, tokens per row and how its attention masks a row. */
export interface EbftPass {
  rows: number;
  rowTokens: number;
  /**
   * 'eager-dense': eager attention over every score of the row (the generation steps); 'sdpa-dense': SDPA's
   * masked kernel given the dense float mask, every score computed; 'flex-strided': flex_attention skipping
   * the 128 × 128 blocks the strided block mask hides.
   */
  attention: 'eager-dense' | 'sdpa-dense' | 'flex-strided';
  /** Assignments of the Python loops that build this pass's dense mask (0 for a block mask). */
  maskAssignments: number;
}

/**
 * The forwards of one micro-batch of `microBatchSize` documents (strided.py compute_loss), in order:
 * G generation steps (no grad) over BN = B·N rows of S + g·NB tokens; the trained forward over the BN rows of L
 * tokens (one row at a time or all at once: `trainedForward`), its lm_head over `headTokens` positions a row;
 * the feature forward (no grad) over all BN rows of L tokens, with SDPA and the dense mask when it borrows the
 * actor's weights (adapters disabled: strided.py `_compute_block_rewards` forces "sdpa"), flex_attention on a
 * copy.
 */
export function ebftStridedPasses(t: EbftStrided, microBatchSize: number): { generation: EbftPass[]; trained: EbftPass & { headTokens: number }; feature: EbftPass } {
  const rows = microBatchSize * t.samplesPerDocument;
  const generation = Array.from({ length: t.generateTokens }, (_, g) => ({
    rows,
    rowTokens: t.documentTokens + g * t.blocks,
    attention: 'eager-dense' as const,
    maskAssignments: denseMaskAssignments(t.blocks, g),
  }));
  const shared = t.featureNetwork === 'adapters-disabled';
  return {
    generation,
    trained: { rows, rowTokens: t.fullTokens, attention: 'flex-strided', maskAssignments: 0, headTokens: t.trainedForward === 'per-row' ? t.logProbTokens : t.fullTokens },
    feature: { rows, rowTokens: t.fullTokens, attention: shared ? 'sdpa-dense' : 'flex-strided', maskAssignments: shared ? denseMaskAssignments(t.blocks, t.generateTokens) : 0 },
  };
}
