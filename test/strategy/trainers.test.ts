import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';
import type { SimulationRun } from '../../src/pipeline/simulate.ts';
import { stepMemory } from '../../src/memory/step-memory.ts';

// One GPU, rows padded to sequence_len (no datasets): the steps differ only by what the trainer adds.
const qwen = { base_model: 'Qwen/Qwen2.5-0.5B', sequence_len: 1024, micro_batch_size: 2, gradient_accumulation_steps: 2, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { gpus: 1 } };
const lora = { adapter: 'lora', lora_r: 16, lora_alpha: 32, lora_target_linear: true };

const spans = (r: SimulationRun, label: RegExp) => r.timeline.spans.filter((s) => label.test(s.tag.label));
const tasksOf = (r: SimulationRun, label: RegExp) => r.plan.tasks.filter((t) => label.test(t.tag.label));

describe('DPO against SFT on the same rows (src/strategy/trainer-passes.ts)', () => {
  it('runs one reference forward per micro-batch on the compute stream, without gradients, between the head forward and backward', async () => {
    const dpo = await run({ ...qwen, rl: 'dpo' });
    const ref = spans(dpo, /^reference forward/);
    expect(ref.map((s) => s.tag.microBatch)).toEqual([0, 1]);
    for (const s of ref) {
      expect(s.stream).toBe('compute');
      expect(s.tag.phase).toBe('forward');
      const head = spans(dpo, /^head/).filter((x) => x.tag.microBatch === s.tag.microBatch);
      expect(s.start).toBeGreaterThanOrEqual(head.find((x) => x.tag.phase === 'forward')!.end);
      expect(head.find((x) => x.tag.phase === 'backward')!.start).toBeGreaterThanOrEqual(s.end);
    }
    // No gradients and nothing kept: transient activations only, and the trained logits dropped at its end.
    for (const t of tasksOf(dpo, /^reference forward/)) {
      expect(t.memory!.every((m) => m.category === 'activations')).toBe(true);
      expect(t.memory!.reduce((a, m) => a + m.bytes, 0)).toBeLessThan(0);
    }
    // Chosen + rejected: the trained forward sees the rows of an SFT micro-batch twice as large; the reference
    // forward adds about a third of forward + backward, and no recompute.
    const sft = await run({ ...qwen, micro_batch_size: 4 });
    expect(dpo.cfg.shape.rows).toBe(sft.cfg.shape.rows);
    expect(dpo.plan.tasks.filter((t) => t.tag.phase === 'recompute').length).toBe(sft.plan.tasks.filter((t) => t.tag.phase === 'recompute').length);
    const refSeconds = ref.reduce((a, s) => a + s.end - s.start, 0);
    expect(dpo.result.step_time_s - sft.result.step_time_s).toBeGreaterThan(0.8 * refSeconds);
    expect(refSeconds).toBeLessThan(0.5 * sft.result.time_breakdown_s.compute);
  });

  it('a full fine-tune holds a frozen second copy of the weights; LoRA disables its adapters instead', async () => {
    const sft = await run({ ...qwen, micro_batch_size: 4 });
    const dpo = await run({ ...qwen, rl: 'dpo' });
    expect(dpo.plan.persistentBytes.parameters - sft.plan.persistentBytes.parameters).toBe(dpo.result.model.parameters * 2);
    const loraSft = await run({ ...qwen, ...lora, micro_batch_size: 4 });
    const loraDpo = await run({ ...qwen, ...lora, rl: 'dpo' });
    expect(loraDpo.plan.persistentBytes.parameters).toBe(loraSft.plan.persistentBytes.parameters);
    expect(spans(loraDpo, /^reference forward/)).toHaveLength(2);
  });

  it('under DeepSpeed ZeRO-2 the reference forward runs as under DDP, with the reference copy whole on every GPU', async () => {
    const zero = { deepspeed: { zero_optimization: { stage: 2 }, bf16: { enabled: 'auto' } }, simulation: { gpus: 2 } };
    const dpo = await run({ ...qwen, ...zero, rl: 'dpo' });
    const orpo = await run({ ...qwen, ...zero, rl: 'orpo' });
    expect(spans(dpo, /^reference forward/)).toHaveLength(2);
    expect(dpo.plan.persistentBytes.parameters - orpo.plan.persistentBytes.parameters).toBe(dpo.result.model.parameters * 2);
  });

  it('is refused where each layer would be gathered or synchronised again (TP)', async () => {
    const err = await run({ ...qwen, rl: 'dpo', tensor_parallel_size: 2, simulation: { gpus: 2 } }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/^rl: dpo's reference forward .* under tensor or context parallelism/);
  });
});

describe('KTO', () => {
  it('runs the policy KL forward before the trained forward and the two reference forwards after it', async () => {
    const kto = await run({ ...qwen, ...lora, rl: 'kto' });
    expect(kto.cfg.shape.rows).toBe(2);
    const kl = spans(kto, /^policy KL forward/);
    expect(kl).toHaveLength(2);
    expect(spans(kto, /^reference forward/)).toHaveLength(4);
    const embed0 = spans(kto, /^embedding$/).find((s) => s.tag.phase === 'forward' && s.tag.microBatch === 0)!;
    expect(kl[0]!.end).toBeLessThanOrEqual(embed0.start);
    // precompute_ref_log_probs drops the reference forwards, not the policy's KL forward.
    const pre = await run({ ...qwen, ...lora, rl: 'kto', precompute_ref_log_probs: true });
    expect(spans(pre, /^policy KL forward/)).toHaveLength(2);
    expect(spans(pre, /^reference forward/)).toHaveLength(0);
  });
});

describe('the diffusion plugin against SFT on the same rows (src/config/diffusion.ts)', () => {
  // Llama-3.2-1B (32 heads of 64), 4 rows of 2048 tokens, SDPA: no packing, no padding — SFT attends causally.
  const llama = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 2048, micro_batch_size: 4, gradient_accumulation_steps: 1, bf16: true, simulation: { gpus: 1 } };
  const diffusion = { ...llama, plugins: ['axolotl.integrations.diffusion.DiffusionPlugin'] };

  it('runs the same one forward and backward, with the upper triangle of the scores computed too', async () => {
    const sft = await run(llama);
    const dlm = await run(diffusion);
    const phases = (r: SimulationRun) => r.plan.tasks.map((t) => `${t.tag.phase} ${t.tag.label}`);
    expect(phases(dlm)).toEqual(phases(sft));
    // Per layer the bidirectional mask adds the other half of 2 · b · s² · a · (d + d_v) = 2 · 4 · 2048² · 32 · 128.
    const layer0 = (r: SimulationRun) => r.plan.tasks.find((t) => t.tag.label === 'layer 0' && t.tag.phase === 'forward')!.tag.flops!;
    expect(layer0(dlm) - layer0(sft)).toBe(68_719_476_736);
    expect(spans(dlm, /^layer 0$/)[0]!.end - spans(dlm, /^layer 0$/)[0]!.start).toBeGreaterThan(spans(sft, /^layer 0$/)[0]!.end - spans(sft, /^layer 0$/)[0]!.start);
  });

  it('keeps the fp32 log-softmax of the masked half of the logits for backward', async () => {
    const dlm = await run(diffusion);
    // E[p_mask] = (1 + 1e-3) / 2 of 4 · 2048 positions × 128,256 logits, 4 bytes each.
    expect(stepMemory(dlm.cfg, dlm.model).head.lossHeldBytes).toBeCloseTo(0.5005 * 4 * 2048 * 128_256 * 4, 0);
    expect(dlm.result.trainer).toMatchObject({ kind: 'diffusion', masked_fraction: 0.5005 });
  });
});

describe('DPO with a LoRA adapter under FSDP: the reference forward re-gathers the policy units (fsdp2.ts referenceForwards)', () => {
  const fsdp = { ...qwen, ...lora, fsdp_version: 2, fsdp_config: { reshard_after_forward: true }, simulation: { hardware: 'dgx-h100', gpus: 4 } };
  const L = 24; // Qwen2.5-0.5B

  it('one no-grad pass per micro-batch between the trained head forward and the backward, each resharded layer gathered again', async () => {
    const dpo = await run({ ...fsdp, rl: 'dpo' });
    const gathers = dpo.plan.tasks.filter((t) => t.stream === 'all_gather' && /\(ref0\)$/.test(t.tag.label));
    expect(gathers).toHaveLength(L * 2);
    for (const mb of [0, 1]) {
      const headF = spans(dpo, /^head \(norm, lm_head, loss\)$/).find((s) => s.tag.phase === 'forward' && s.tag.microBatch === mb)!;
      const headB = spans(dpo, /^head \(norm, lm_head, loss\)$/).find((s) => s.tag.phase === 'backward' && s.tag.microBatch === mb)!;
      const ref = spans(dpo, /\(reference(, no grad| log-probs, no grad)\)$/).filter((s) => s.tag.microBatch === mb);
      expect(ref).toHaveLength(L + 2);
      for (const s of ref) {
        expect(s.start).toBeGreaterThanOrEqual(headF.end - 1e-12);
        expect(s.end).toBeLessThanOrEqual(headB.start + 1e-12);
      }
    }
    // The same rows without a reference model (ORPO): the passes and gathers are what DPO adds.
    const orpo = await run({ ...fsdp, rl: 'orpo' });
    expect(dpo.result.step_time_s).toBeGreaterThan(orpo.result.step_time_s);
  });

  it('units not resharded after forward are not gathered again', async () => {
    const kept = await run({ ...fsdp, rl: 'dpo', fsdp_config: { reshard_after_forward: false } });
    expect(kept.plan.tasks.filter((t) => t.stream === 'all_gather' && /\(ref0\)$/.test(t.tag.label))).toHaveLength(0);
    expect(spans(kept, /^layer \d+ \(reference, no grad\)$/)).toHaveLength(L * 2);
  });

  it("a full fine-tune's own reference model: FSDP2 keeps it unsharded after its first forward (one root unit), FSDP1 gathers its layers", async () => {
    const full = { ...qwen, fsdp_version: 2, fsdp_config: { reshard_after_forward: true }, simulation: { hardware: 'dgx-h100', gpus: 4 } };
    const dpo2 = await run({ ...full, rl: 'dpo' });
    const orpo2 = await run({ ...full, rl: 'orpo' });
    const refGathers = (r: SimulationRun) => r.plan.tasks.filter((t) => t.stream === 'all_gather' && /\(ref0\)$/.test(t.tag.label)).length;
    expect(refGathers(dpo2)).toBe(0);
    // Resident: the reference's bf16 shard plus its whole unsharded copy.
    const P = dpo2.result.model.parameters;
    expect(dpo2.plan.persistentBytes.parameters - orpo2.plan.persistentBytes.parameters).toBe(Math.ceil(P / 4) * 2 + P * 2);
    const dpo1 = await run({ ...full, rl: 'dpo', fsdp_version: 1, fsdp_config: { sharding_strategy: 'FULL_SHARD' } });
    expect(refGathers(dpo1)).toBe(L * 2);
  });

  it("KTO: its policy KL pass gathers every unit before the trained forward, whose own gathers follow it; refused when units stay unsharded after forward", async () => {
    const kto = await run({ ...fsdp, rl: 'kto' });
    for (const mb of [0, 1]) {
      const kl = spans(kto, /\(policy KL(, no grad| log-probs, no grad)\)$/).filter((s) => s.tag.microBatch === mb);
      expect(kl).toHaveLength(L + 2);
      const trainedEmbedding = spans(kto, /^embedding$/).find((s) => s.tag.microBatch === mb)!;
      expect(Math.max(...kl.map((s) => s.end))).toBeLessThanOrEqual(trainedEmbedding.start + 1e-12);
      const klGathers = kto.timeline.spans.filter((s) => s.stream === 'all_gather' && s.tag.microBatch === mb && /\(kl0\)$/.test(s.tag.label));
      const trainedGathers = kto.timeline.spans.filter((s) => s.stream === 'all_gather' && s.tag.microBatch === mb && /^layer \d+$/.test(s.tag.label) && s.tag.phase === 'forward');
      expect(klGathers).toHaveLength(L);
      expect(Math.min(...trainedGathers.map((s) => s.workStart))).toBeGreaterThanOrEqual(Math.max(...kl.map((s) => s.end)) - 1e-12);
    }
    const refused = (s: Record<string, unknown>) => run(s).then(() => '', (e: unknown) => (e as Error).message);
    expect(await refused({ ...fsdp, rl: 'kto', fsdp_config: { reshard_after_forward: false } })).toMatch(/KTO's KL pass and units kept unsharded after forward/);
  });
});
