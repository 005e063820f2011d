import { describe, expect, it } from 'vitest';
import { loadScenarioObject, resolveConfig } from '../../src/config/index.ts';
import { loadModel } from '../../src/model/index.ts';
import { stepMemory } from '../../src/memory/step-memory.ts';
import { stepCosts } from '../../src/strategy/costs.ts';
import { loadHardwareProfile } from '../../src/hardware/index.ts';

async function cfgOf(s: Record<string, unknown>) {
  return resolveConfig(loadScenarioObject(s, { name: 'm' }), { hardware: 'dgx-h100', gpusPerNode: 8 });
}

const qwen = loadModel({ baseModel: 'Qwen/Qwen2.5-0.5B' });
// No datasets: rows padded to sequence_len, so every size below is exact.
const base = { base_model: 'Qwen/Qwen2.5-0.5B', sequence_len: 1024, micro_batch_size: 2, bf16: true, flash_attention: true };
const V = qwen.vocabSize;
const profile = loadHardwareProfile('dgx-h100');
const gpu = { ...profile.gpu, kernels: profile.kernels, framework: profile.framework };

describe("the preference trainers' head (TRL selective_log_softmax over 16-bit logits)", () => {
  it("DPO saves each row's 16-bit log-softmax, not fp32 log-probabilities, and keeps the logits until compute_loss returns", async () => {
    const sft = stepMemory(await cfgOf({ ...base, micro_batch_size: 4 }), qwen);
    const dpo = stepMemory(await cfgOf({ ...base, rl: 'dpo' }), qwen);
    const E = 4 * 1024 * V;
    expect(dpo.head).toMatchObject({ lossForwardBytes: 2 * E * 2, lossHeldBytes: E * 2, lossBackwardBytes: E * 2, heldUntilLossReturnsBytes: E * 2 });
    // HF's causal-LM loss over the same rows holds fp32 log-probabilities.
    expect(sft.head.lossHeldBytes).toBe(E * 4);
    // A no-grad forward allocates its logits and one row's log-softmax at most.
    expect(dpo.noGradForward.peakBytes).toBe(E * 2 + (E / 4) * 2);
  });

  it("ORPO also keeps the chosen half's cross-entropy log-softmax", async () => {
    const m = stepMemory(await cfgOf({ ...base, rl: 'orpo' }), qwen);
    const E = 4 * 1024 * V;
    expect(m.head.lossHeldBytes).toBe(1.5 * E * 2);
    expect(m.head.lossForwardBytes).toBe(2.5 * E * 2);
  });

  it('a classification head runs transformers\' loss, whatever fused loss is configured', async () => {
    const plugin = { plugins: ['axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin'], cut_cross_entropy: true };
    const rm = { ...qwen, headOutputs: 1, tiedEmbeddings: false };
    const fused = stepMemory(await cfgOf({ ...base, ...plugin, reward_model: true }), rm);
    const plain = stepMemory(await cfgOf({ ...base, reward_model: true }), rm);
    expect(fused.head).toEqual(plain.head);
    expect(plain.head.lossHeldBytes).toBe(4 * 1024 * 1 * 4);
  });

  it('a fused loss does not apply: the model is called without labels', async () => {
    const plugin = { plugins: ['axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin'], cut_cross_entropy: true };
    const dpo = stepMemory(await cfgOf({ ...base, ...plugin, rl: 'dpo' }), qwen);
    const plain = stepMemory(await cfgOf({ ...base, rl: 'dpo' }), qwen);
    expect(dpo.head).toEqual(plain.head);
  });

  it("ORPO's head costs more than DPO's (the chosen half's cross-entropy); a no-grad pass of the head no more than its trained forward", async () => {
    const cfg = await cfgOf({ ...base, rl: 'dpo' });
    const c = stepCosts(cfg, qwen, gpu);
    expect(c.head.noGradForwardSeconds).toBeGreaterThan(0);
    expect(c.head.noGradForwardSeconds).toBeLessThanOrEqual(c.head.forwardSeconds);
    const orpo = stepCosts(await cfgOf({ ...base, rl: 'orpo' }), qwen, gpu);
    expect(orpo.head.forwardSeconds).toBeGreaterThan(c.head.forwardSeconds);
    expect(orpo.head.backwardSeconds).toBeGreaterThan(c.head.backwardSeconds);
  });
});
