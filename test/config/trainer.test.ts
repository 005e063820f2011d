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

describe('preference trainers (rl)', () => {
  const pref = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 1024, micro_batch_size: 2, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { gpus: 1 } };
  const lora = { adapter: 'lora', lora_r: 16, lora_alpha: 32, lora_target_linear: true };

  it('reads TRL trainers: DPO/IPO/ORPO/SimPO pair rows, DPO/IPO/KTO run a reference under no_grad, generation trainers are refused', () => {
    expect(resolveTrainer({ rl: 'dpo', adapter: 'lora' })).toEqual({ kind: 'preference', rl: 'dpo', rowsPerSample: 2, noGradRowsPerSample: 2, referenceCopy: false });
    expect(resolveTrainer({ rl: 'dpo' })).toMatchObject({ referenceCopy: true });
    // Axolotl hands DPOTrainer its loaded copy, which TRL keeps even when the log-probs are precomputed;
    // KTO's copy is TRL's own, made only when it will run.
    expect(resolveTrainer({ rl: 'dpo', precompute_ref_log_probs: true })).toMatchObject({ noGradRowsPerSample: 0, referenceCopy: true });
    expect(resolveTrainer({ rl: 'kto', precompute_ref_log_probs: true })).toMatchObject({ noGradRowsPerSample: 1, referenceCopy: false });
    expect(resolveTrainer({ rl: 'kto' })).toMatchObject({ referenceCopy: true });
    expect(resolveTrainer({ rl: 'orpo' })).toMatchObject({ rowsPerSample: 2, noGradRowsPerSample: 0 });
    expect(resolveTrainer({ rl: 'kto', adapter: 'qlora' })).toMatchObject({ rowsPerSample: 1, noGradRowsPerSample: 3 });
    expect(() => resolveTrainer({ rl: 'grpo' })).toThrow(/^rl: "grpo" runs generation/);
  });

  it("RL trainers keep Axolotl's automatic LoRA kernels off (config.py check_auto_enable_lora_kernels returns early for rl)", async () => {
    const sft = await run({ ...pref, ...lora });
    const dpo = await run({ ...pref, ...lora, rl: 'dpo' });
    expect(sft.cfg.peft!.fusedKernels.auto).toBe(true);
    expect(dpo.cfg.peft!.fusedKernels).toEqual({ qkv: false, o: false, mlp: false, auto: false });
    expect(dpo.result.adapter!.fused_kernels).toEqual([]);
  });

  it('DPO runs the reference forward between the policy forward and its backward; ORPO does not', async () => {
    const dpo = await run({ ...pref, ...lora, rl: 'dpo' });
    const orpo = await run({ ...pref, ...lora, rl: 'orpo' });
    const labels = dpo.plan.tasks.filter((t) => t.process === 0).map((t) => t.tag.label);
    const ref = labels.indexOf('reference forward (no grad)');
    expect(ref).toBeGreaterThan(labels.indexOf('head (norm, lm_head, loss)'));
    expect(ref).toBeLessThan(labels.findIndex((l, i) => i > ref && /layer/.test(l ?? '')));
    expect(orpo.plan.tasks.some((t) => t.tag.label === 'reference forward (no grad)')).toBe(false);
    expect(dpo.result.step_time_s).toBeGreaterThan(orpo.result.step_time_s);
    expect(dpo.result.batch.rows_per_micro_batch).toBe(4);
    expect(dpo.result.trainer).toEqual({ kind: 'preference', rl: 'dpo', rows_per_sample: 2, no_grad_rows_per_sample: 2, reference_copy: false });
    expect(orpo.result.trainer?.no_grad_rows_per_sample).toBe(0);
    // LoRA's reference is the same weights with adapters off: no second copy.
    expect(dpo.result.memory.model_states_bytes).toBe(orpo.result.memory.model_states_bytes);
  });

  it("a full fine-tune's DPO keeps a frozen reference copy; under FSDP with CPU offload the reference forward is refused", async () => {
    const full = (await run({ ...pref, rl: 'dpo' })).result;
    const orpo = (await run({ ...pref, rl: 'orpo' })).result;
    expect(full.memory.model_states_bytes - orpo.memory.model_states_bytes).toBe(full.model.parameters * 2);
    const err = await run({ ...pref, rl: 'dpo', fsdp_version: 2, fsdp_config: { reshard_after_forward: true, offload_params: true }, simulation: { gpus: 2 } }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/^rl: dpo's reference forward is modelled on one GPU, under DDP, DeepSpeed ZeRO-1\/2 and FSDP; under FSDP with KTO's KL pass and units kept unsharded after forward, expert parallelism or a CPU-offloaded reference model/);
  });
});

describe('what a trainer computes, in model FLOPs', () => {
  const pref = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 1024, micro_batch_size: 2, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { gpus: 1 } };

  it('model FLOPs count the no-grad forwards: DPO one per micro-batch (4/3 of a precomputed run), KTO three', async () => {
    const flops = (r: { result: { throughput: { tflops_per_gpu: number }; step_time_s: number } }) => r.result.throughput.tflops_per_gpu * r.result.step_time_s;
    const dpo = await run({ ...pref, rl: 'dpo' });
    const pre = await run({ ...pref, rl: 'dpo', precompute_ref_log_probs: true });
    expect(flops(dpo) / flops(pre)).toBeCloseTo(4 / 3, 6);
    const kto = await run({ ...pref, rl: 'kto' });
    const ktoPre = await run({ ...pref, rl: 'kto', precompute_ref_log_probs: true });
    expect(flops(kto) / flops(ktoPre)).toBeCloseTo(6 / 4, 6);
  });
});

describe('a reward model under LoRA', () => {
  it('trains its score head beside the adapters (PEFT SEQ_CLS puts the classifier in modules_to_save)', async () => {
    const rm = { base_model: 'Qwen/Qwen2.5-0.5B', sequence_len: 1024, micro_batch_size: 2, bf16: true, flash_attention: true, reward_model: true, simulation: { gpus: 1 } };
    const lora = { adapter: 'lora', lora_r: 8, lora_alpha: 16, lora_target_modules: ['q_proj', 'v_proj'] };
    const withHead = (await run({ ...rm, ...lora })).result;
    const lm = (await run({ ...rm, reward_model: false, ...lora })).result;
    // Same adapters; the reward model adds the trainable h × 1 score copy.
    expect(withHead.model.trainable_parameters - lm.model.trainable_parameters).toBe(896);
  });
});
