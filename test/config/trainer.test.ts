import { describe, expect, it } from 'vitest';
import { resolveTrainer } from '../../src/config/trainer.ts';
import { ShardsimError } from '../../src/util/errors.ts';
import { run } from '../helpers/run.ts';

const base = { base_model: 'Qwen/Qwen2.5-0.5B', sequence_len: 2048, micro_batch_size: 2, bf16: true, flash_attention: true, simulation: { gpus: 1 } };

describe('reward and process-reward models', () => {
  it('reads the trainer from the Axolotl keys, and refuses a head without one', () => {
    expect(resolveTrainer({})).toEqual({ kind: 'sft' });
    expect(resolveTrainer({ reward_model: true })).toEqual({ kind: 'reward', numLabels: 1, rowsPerSample: 2 });
    expect(resolveTrainer({ process_reward_model: true, num_labels: 2 })).toEqual({ kind: 'token-classification', numLabels: 2, rowsPerSample: 1 });
    expect(() => resolveTrainer({ num_labels: 3 })).toThrow(ShardsimError);
    expect(() => resolveTrainer({ reward_model: true, process_reward_model: true })).toThrow(/^process_reward_model: /);
  });

  it('a reward model swaps lm_head for a score head and runs chosen + rejected rows in one forward', async () => {
    const lm = (await run(base)).result;
    const rm = (await run({ ...base, reward_model: true, num_labels: 1 })).result;
    // Qwen2.5-0.5B ties lm_head to the embedding: the classifier adds its own h × 1 score head.
    expect(rm.model.parameters - lm.model.parameters).toBe(896);
    expect(rm.batch.rows_per_micro_batch).toBe(2 * lm.batch.rows_per_micro_batch);
    expect(rm.batch.tokens_per_step).toBe(2 * lm.batch.tokens_per_step);
    // No 151,936-wide logits: at twice the rows the activations still peak lower.
    expect(rm.memory.breakdown_at_peak.activations).toBeLessThan(lm.memory.breakdown_at_peak.activations);
  });

  it('a process reward model keeps one row per sample and a two-label head on every token', async () => {
    const lm = (await run(base)).result;
    const prm = (await run({ ...base, process_reward_model: true, num_labels: 2 })).result;
    expect(prm.batch.rows_per_micro_batch).toBe(lm.batch.rows_per_micro_batch);
    expect(prm.model.parameters - lm.model.parameters).toBe(2 * 896);
    expect(prm.step_time_s).toBeLessThan(lm.step_time_s);
  });
});
