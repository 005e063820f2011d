import { ShardsimError } from '../util/errors.ts';
import { resolveDiffusion, type Diffusion, type DiffusionInput } from './diffusion.ts';
import { resolveEbftStrided, type EbftInput, type EbftStrided } from './ebft.ts';

export type { Diffusion } from './diffusion.ts';
export type { EbftStrided } from './ebft.ts';

/**
 * The trainer a config runs, as far as it changes the step's work:
 *
 * - `sft`: causal language modelling (lm_head over the vocabulary, next-token loss).
 * - `reward` (`reward_model: true`): Axolotl's reward trainer (TRL RewardTrainer) on
 *   AutoModelForSequenceClassification — the decoder, then a `score` Linear(h → num_labels, no bias) in place
 *   of lm_head; chosen and rejected sequences are collated into one batch and run in one forward
 *   (trl/trainer/reward_trainer.py compute_loss: `torch.chunk(outputs.logits, chunks=2)`), so a micro-batch
 *   has twice micro_batch_size rows; the loss is a log-sigmoid over one score per row.
 * - `token-classification` (`process_reward_model: true`): TRL's PRMTrainer on
 *   AutoModelForTokenClassification — the same score head applied to every token, cross-entropy over
 *   num_labels classes at the step-separator tokens; one row per sample.
 * - `diffusion`: Axolotl's diffusion plugin (src/config/diffusion.ts): one forward with a bidirectional 4-D
 *   mask over randomly masked tokens, the loss over the masked positions.
 * - `ebft-strided`: EBFT's strided mode (src/config/ebft.ts): no-grad generation forwards, one trained
 *   forward per rollout row, a no-grad feature forward, one backward (src/strategy/ebft-strided.ts).
 */
export type Trainer =
  | { kind: 'sft' }
  | Preference
  | Diffusion
  | EbftStrided
  | { kind: 'reward'; numLabels: number; rowsPerSample: 2 }
  | { kind: 'token-classification'; numLabels: number; rowsPerSample: 1 };

/**
 * Preference trainers (`rl:`; TRL's DPOTrainer, ORPOTrainer, CPOTrainer for SimPO, KTOTrainer):
 * - DPO / IPO (trl/trainer/dpo_trainer.py concatenated_forward): chosen and rejected in one forward with
 *   gradients (2 rows per sample), then `compute_ref_log_probs` under no_grad over the same rows — the
 *   same model with its adapters disabled (`null_ref_context`) or, for a full fine-tune, a frozen copy of the
 *   model (`create_reference_model`); `precompute_ref_log_probs` moves that forward out of the step.
 * - ORPO / SimPO: the concatenated forward only (no reference).
 * - KTO (kto_trainer.py forward): one row per sample with gradients, the mismatched KL batch through the
 *   policy under no_grad, and the reference over both: 3 no-grad rows per sample.
 */
export interface Preference {
  kind: 'preference';
  rl: 'dpo' | 'ipo' | 'orpo' | 'simpo' | 'kto';
  rowsPerSample: 1 | 2;
  /** Rows per sample run forward under no_grad (reference and KL passes). */
  noGradRowsPerSample: number;
  /** A full fine-tune's reference is a second, frozen copy of the weights. */
  referenceCopy: boolean;
}

export interface TrainerInput extends DiffusionInput, EbftInput {
  rl?: string | null;
  precompute_ref_log_probs?: boolean | null;
  adapter?: string | null;
  reward_model?: boolean | null;
  process_reward_model?: boolean | null;
  num_labels?: number | null;
}

export function resolveTrainer(s: TrainerInput): Trainer {
  const rl = s.rl !== undefined && s.rl !== null && String(s.rl) !== 'false' ? String(s.rl).toLowerCase() : undefined;
  const diffusion = resolveDiffusion(s);
  if (diffusion) {
    // integrations/diffusion/README.md, Limitations: "No RL training support"; its trainer replaces the causal-LM one.
    const other = rl ? 'rl' : s.reward_model === true ? 'reward_model' : s.process_reward_model === true ? 'process_reward_model' : undefined;
    if (other) throw new ShardsimError(`${other} with the diffusion plugin: its trainer is a causal-LM trainer with a diffusion loss (integrations/diffusion/README.md: "No RL training support")`, { key: other, fix: 'remove the key, or remove DiffusionPlugin from plugins' });
    return diffusion;
  }
  if (rl === 'ebft') return resolveEbftStrided(s);
  if (rl) return resolvePreference(rl, s);
  if (s.reward_model === true && s.process_reward_model === true) {
    throw new ShardsimError('reward_model and process_reward_model are both set', { key: 'process_reward_model', fix: 'keep the one the config trains' });
  }
  // transformers' PretrainedConfig defaults num_labels to 2 (id2label of two entries).
  const numLabels = s.num_labels ?? (s.reward_model === true ? 1 : 2);
  if (s.reward_model === true) return { kind: 'reward', numLabels, rowsPerSample: 2 };
  if (s.process_reward_model === true) return { kind: 'token-classification', numLabels, rowsPerSample: 1 };
  if (s.num_labels !== undefined && s.num_labels !== null) {
    throw new ShardsimError('a classification head without reward_model or process_reward_model is not a trainer Axolotl runs', { key: 'num_labels', fix: 'set reward_model: true or process_reward_model: true, or remove num_labels' });
  }
  return { kind: 'sft' };
}

const PREFERENCE: Readonly<Record<string, { rowsPerSample: 1 | 2; reference: number; policyNoGrad: number }>> = {
  dpo: { rowsPerSample: 2, reference: 2, policyNoGrad: 0 },
  ipo: { rowsPerSample: 2, reference: 2, policyNoGrad: 0 },
  orpo: { rowsPerSample: 2, reference: 0, policyNoGrad: 0 },
  simpo: { rowsPerSample: 2, reference: 0, policyNoGrad: 0 },
  kto: { rowsPerSample: 1, reference: 2, policyNoGrad: 1 },
};

function resolvePreference(rl: string, s: TrainerInput): Preference {
  const p = PREFERENCE[rl];
  if (!p) {
    throw new ShardsimError(`"${rl}" runs generation or a reward model in the loop (GRPO, online DPO …), which is not simulated`, { key: 'rl', fix: `simulate one of ${Object.keys(PREFERENCE).join(', ')}, or the supervised fine-tuning step (remove rl)` });
  }
  const precomputed = s.precompute_ref_log_probs === true;
  const reference = precomputed ? 0 : p.reference;
  // Who holds a full fine-tune's reference weights: for dpo / ipo Axolotl loads the copy itself
  // (train.py setup_reference_model) and hands it to DPOTrainer, which keeps a given ref_model even with
  // precompute_ref_log_probs (dpo_trainer.py __init__: only `ref_model is None` consults it); KTO gets none
  // from Axolotl (core/builders/rl.py `trainer_cls_args = [self.model]`) and TRL creates one unless the
  // log-probs are precomputed (kto_trainer.py __init__).
  const adapter = s.adapter !== undefined && s.adapter !== null && s.adapter !== '';
  const referenceCopy = !adapter && p.reference > 0 && (rl === 'kto' ? !precomputed : true);
  return {
    kind: 'preference',
    rl: rl as Preference['rl'],
    rowsPerSample: p.rowsPerSample,
    noGradRowsPerSample: reference + p.policyNoGrad,
    referenceCopy,
  };
}

/** The score head's width: the vocabulary for a language model, num_labels for a classification head. */
export function headOutputs(trainer: Trainer, vocabSize: number): number {
  return trainer.kind === 'reward' || trainer.kind === 'token-classification' ? trainer.numLabels : vocabSize;
}

/**
 * Whole-model no-grad forwards per trained forward (each over as many rows as the trained one): DPO / IPO 1
 * (the reference over the 2·B rows), KTO 3 (the policy's KL forward and the reference's KL and batch forwards,
 * B rows each); 0 for the other trainers and when the log-probs are precomputed (KTO's policy KL stays).
 */
export function noGradForwardsPerMicroBatch(trainer: Trainer): number {
  return trainer.kind === 'preference' ? trainer.noGradRowsPerSample / trainer.rowsPerSample : 0;
}

/**
 * The output head and its loss:
 * - 'lm-cross-entropy': lm_head over the vocabulary, the loss implementation of `kernels.loss` (SFT);
 * - 'lm-log-probs': lm_head, TRL's `selective_log_softmax` per row (trl/trainer/utils.py), summed per
 *   sequence (DPO / IPO / KTO `_compute_loss`);
 * - 'lm-log-probs-nll': the same plus the chosen half's cross-entropy (ORPO `concatenated_forward`; CPO for
 *   SimPO with its default cpo_alpha = 1);
 * - 'score': the `score` Linear(hidden, num_labels) of the classification models;
 * - 'diffusion-masked-ce': the diffusion trainer's loss — full 16-bit logits, a shifted copy, the masked
 *   positions gathered, upcast and cross-entropy (integrations/diffusion/trainer.py);
 * - 'ebft-log-probs': strided EBFT's chunked head — lm_head 256 tokens at a time, `log_softmax(.float())` and
 *   gather per chunk (core/trainers/ebft/strided.py compute_loss).
 */
export type TrainerHead = 'lm-cross-entropy' | 'lm-log-probs' | 'lm-log-probs-nll' | 'score' | 'diffusion-masked-ce' | 'ebft-log-probs';

export function trainerHead(trainer: Trainer): TrainerHead {
  if (trainer.kind === 'reward' || trainer.kind === 'token-classification') return 'score';
  if (trainer.kind === 'diffusion') return 'diffusion-masked-ce';
  if (trainer.kind === 'ebft-strided') return 'ebft-log-probs';
  if (trainer.kind === 'preference') return trainer.rl === 'orpo' || trainer.rl === 'simpo' ? 'lm-log-probs-nll' : 'lm-log-probs';
  return 'lm-cross-entropy';
}

/**
 * Where the no-grad forwards run relative to the trained forward (src/strategy/trainer-passes.ts): KTO's
 * policy KL forward first (kto_trainer.py `_compute_loss` calls `_compute_kl_logps` before the policy
 * forward; it stays when the reference log-probs are precomputed), the reference forwards after it.
 */
export function noGradForwardsAround(trainer: Trainer): { before: number; after: number } {
  const n = noGradForwardsPerMicroBatch(trainer);
  const before = trainer.kind === 'preference' && trainer.rl === 'kto' && n > 0 ? 1 : 0;
  return { before, after: n - before };
}

/** Rows a micro-batch holds per configured sample (reward and pairwise preference trainers: 2). */
export function rowsPerSample(trainer: Trainer): number {
  return trainer.kind === 'reward' || trainer.kind === 'token-classification' || trainer.kind === 'preference' ? trainer.rowsPerSample : 1;
}
