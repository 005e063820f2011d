import { ShardsimError } from '../util/errors.ts';

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
 */
export type Trainer =
  | { kind: 'sft' }
  | { kind: 'reward'; numLabels: number; rowsPerSample: 2 }
  | { kind: 'token-classification'; numLabels: number; rowsPerSample: 1 };

export interface TrainerInput {
  reward_model?: boolean | null;
  process_reward_model?: boolean | null;
  num_labels?: number | null;
}

export function resolveTrainer(s: TrainerInput): Trainer {
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

/** The score head's width: the vocabulary for a language model, num_labels for a classification head. */
export function headOutputs(trainer: Trainer, vocabSize: number): number {
  return trainer.kind === 'sft' ? vocabSize : trainer.numLabels;
}
