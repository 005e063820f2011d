import { describe, expect, it } from 'vitest';
import { loadScenarioObject, resolveConfig } from '../../src/config/index.ts';
import { activationTensorsPerLayer, loadModel } from '../../src/model/index.ts';
import { stepMemory } from '../../src/memory/step-memory.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';

async function cfgOf(s: Record<string, unknown>) {
  return resolveConfig(loadScenarioObject(s, { name: 'm' }), { hardware: 'dgx-h100', gpusPerNode: 8 });
}

const llama7 = loadModel({ baseModel: 'meta-llama/Llama-2-7b-hf' });
const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 8, bf16: true, flash_attention: true };
const T = 8 * 2048;
const h = 4096;
const I = 11008;

describe('what a Llama layer saves, as transformers runs it', () => {
  it('LlamaRMSNorm keeps an fp32 input copy, the normalized tensor and its output: 8 bytes per element in bf16', () => {
    const t = Object.fromEntries(activationTensorsPerLayer(llama7.layers[0]!, { microBatch: 8, seqLen: 2048, flashAttention: true, transformersEager: true }).map((x) => [x.name, x.bytes]));
    expect(t.attn_norm_input! + t.attn_norm_normalized! + t.qkv_input!).toBe(T * h * 8);
    expect(t.mlp_norm_input! + t.mlp_norm_normalized! + t.mlp_input!).toBe(T * h * 8);
    // Flash attention: q, k, v, its output and the fp32 logsumexp; SwiGLU: gate, up, act and the product.
    const total = Object.values(t).reduce((a, b) => a + b, 0);
    expect(total).toBe(T * (2 * 8 * h + 2 * 4 * h + 2 * 4 * I) + 8 * 32 * 2048 * 4);
  });

  it('eager attention keeps the fp32 softmax and its bf16 cast, and repeats GQA K/V to every head', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const t = Object.fromEntries(activationTensorsPerLayer(spec.layers[0]!, { microBatch: 1, seqLen: 1024, flashAttention: false, transformersEager: true }).map((x) => [x.name, x.bytes]));
    expect(t.softmax_output_fp32).toBe(32 * 1024 * 1024 * 4);
    expect(t.softmax_output).toBe(32 * 1024 * 1024 * 2);
    expect(t.k).toBe(1024 * 4096 * 2);
    const flash = Object.fromEntries(activationTensorsPerLayer(spec.layers[0]!, { microBatch: 1, seqLen: 1024, flashAttention: true, transformersEager: true }).map((x) => [x.name, x.bytes]));
    expect(flash.k).toBe(1024 * 1024 * 2);
  });
});

describe('stepMemory', () => {
  it('full checkpointing keeps the layer input and recomputes the whole saved set', async () => {
    const m = stepMemory(await cfgOf({ ...base, gradient_checkpointing: true }), llama7);
    expect(m.layers[0]!.savedBytes).toBe(T * h * 2);
    expect(m.layers[0]!.recomputeBytes).toBe(m.layers[0]!.fullBytes);
  });

  it("selective (torchtitan's op policy) keeps the input, every other matmul output and the attention output", async () => {
    const m = stepMemory(await cfgOf({ ...base, gradient_checkpointing: 'selective' }), llama7);
    // input + q_proj + v_proj + gate_proj + down_proj outputs + flash output, all bf16, + logsumexp
    const lse = 8 * 32 * 2048 * 4;
    expect(m.layers[0]!.savedBytes).toBe(T * 2 * (h + h + h + I + h + h) + lse);
    // Backward re-creates everything except what is the cached tensor itself (v, gate output, attention output, lse).
    expect(m.layers[0]!.recomputeBytes).toBe(m.layers[0]!.fullBytes - T * 2 * (h + I + h) - lse);
    const none = stepMemory(await cfgOf(base), llama7);
    expect(m.layers[0]!.savedBytes).toBeLessThan(none.layers[0]!.savedBytes);
  });

  it('the loss holds bf16 logits + fp32 upcast + log-softmax at the forward (10 B/logit) and 12 B/logit in its backward', async () => {
    const m = stepMemory(await cfgOf(base), llama7);
    const E = T * 32000;
    expect(m.head.lossForwardBytes).toBe(10 * E);
    expect(m.head.lossHeldBytes).toBe(4 * E);
    expect(m.head.lossHeldBytes + m.head.lossBackwardBytes).toBe(12 * E);
    const fp32 = stepMemory(await cfgOf({ ...base, bf16: false, flash_attention: false }), llama7);
    expect(fp32.head.lossForwardBytes).toBe(8 * E);
  });

  it('compiled, the loss keeps the 16-bit logits and a per-row log-sum-exp (Inductor fuses upcast, log-softmax and NLL): 2 B/logit held, 2 B/logit of gradient', async () => {
    const E = T * 32000;
    for (const extra of [{}, { chunked_cross_entropy: true }]) {
      const m = stepMemory(await cfgOf({ ...base, ...extra, torch_compile: true }), llama7);
      expect(m.head.lossHeldBytes).toBe(2 * E + 4 * T);
      expect(m.head.lossBackwardBytes).toBe(2 * E);
    }
  });

  it('simulation.compile_loss: false (a framework that compiles the blocks only, e.g. torchtitan at 2024-12): the loss runs eagerly on fp32 logits', async () => {
    const E = T * 32000;
    const other = { ...base, torch_compile: true, simulation: { framework: 'other' } };
    const eagerLoss = stepMemory(await cfgOf({ ...other, simulation: { framework: 'other', compile_loss: false } }), llama7);
    expect(eagerLoss.head.lossHeldBytes).toBe(4 * E);
    expect(eagerLoss.head.lossHeldBytes + eagerLoss.head.lossBackwardBytes).toBe(12 * E);
    expect(stepMemory(await cfgOf(other), llama7).head.lossHeldBytes).toBe(2 * E + 4 * T);
    await expect(cfgOf({ ...base, torch_compile: true, simulation: { compile_loss: false } })).rejects.toThrow(/Axolotl compiles the whole model/);
    await expect(cfgOf({ ...base, simulation: { framework: 'other', compile_loss: false } })).rejects.toThrow(/only applies with torch_compile/);
  });

  it("torchtune's chunked output (framework other): each logits chunk has its own backward, so the loss backward adds one chunk's gradient, not all of them", async () => {
    const E = T * 32000;
    const tt = { ...base, chunked_cross_entropy: true, simulation: { framework: 'other' } };
    const compiled = stepMemory(await cfgOf({ ...tt, torch_compile: true }), llama7);
    expect(compiled.head.lossHeldBytes).toBe(2 * E + 4 * T);
    expect(compiled.head.lossBackwardBytes).toBe((2 * E) / 8);
    // Eager: fp32 log-softmax outputs held (4 B/logit), one chunk's fp32 gradients (8 B/logit) at a time.
    const eager = stepMemory(await cfgOf({ ...tt, chunked_cross_entropy_num_chunks: 4 }), llama7);
    expect(eager.head.lossHeldBytes).toBe(4 * E);
    expect(eager.head.lossBackwardBytes).toBe((8 * E) / 4);
    // Axolotl splits one logits tensor: the chunk gradients meet in one E-sized gradient.
    expect(stepMemory(await cfgOf({ ...base, chunked_cross_entropy: true }), llama7).head.lossBackwardBytes).toBe(2 * E + (8 * E) / 8);
  });

  it("autocast's weight cache exists only when a 16-bit forward sees fp32 weights", async () => {
    expect(stepMemory(await cfgOf(base), llama7).autocastCache.layerBytes[0]).toBe(0);
    expect(stepMemory(await cfgOf({ ...base, simulation: { master_weights: 'fp32' } }), llama7).autocastCache.layerBytes[0]).toBeGreaterThan(0);
    // FSDP gathers bf16 for compute even with fp32 masters: no cache; gathering fp32 brings it back.
    expect(stepMemory(await cfgOf({ ...base, fsdp_version: 2, simulation: { master_weights: 'fp32' } }), llama7).autocastCache.layerBytes[0]).toBe(0);
    const fp32Gather = stepMemory(await cfgOf({ ...base, fsdp_version: 2, fsdp_config: { mixed_precision_policy: { param_dtype: 'float32' } }, simulation: { master_weights: 'fp32' } }), llama7);
    expect(fp32Gather.autocastCache.layerBytes[0]).toBe((4 * h * h + 3 * h * I) * 2);
    expect(fp32Gather.autocastCache.rootBytes).toBe(32000 * h * 2);
  });
});

describe('where the peak is, end to end', () => {
  it('one GPU, no checkpointing, activations ≫ gradients: the peak is the loss backward — model states less gradients, every layer, the head, 12 B per logit', async () => {
    const run = await simulateLoaded(loadScenarioObject({ ...base, micro_batch_size: 4, simulation: { gpus: 1 } }, { name: 'm' }));
    const m = stepMemory(run.cfg, llama7);
    const p = run.plan.persistentBytes;
    const E = 4 * 2048 * 32000;
    // The lm_head's gradient (V×h bf16) has just been allocated by the head's backward.
    const expected = p.parameters + p.optimizer_states + 32 * m.layers[0]!.savedBytes + m.head.savedBytes + 12 * E + 32000 * h * 2 + h * 2;
    expect(run.result.memory.peak_bytes).toBe(expected);
  });

  it('FSDP2 reserves the all-gather and reduce-scatter pools on top of the compute pool; FSDP1 has no second gather buffer', async () => {
    const f2 = (await simulateLoaded(loadScenarioObject({ ...base, fsdp_version: 2, gradient_checkpointing: true }, { name: 'm' }))).result;
    const f1 = (await simulateLoaded(loadScenarioObject({ ...base, fsdp_version: 1, fsdp_config: { sharding_strategy: 'FULL_SHARD' }, gradient_checkpointing: true, simulation: { master_weights: 'bf16' } }, { name: 'm' }))).result;
    // Same persistent states (bf16) either way; FSDP2's flat all-gather output is a second unsharded copy in flight.
    expect(f2.memory.model_states_bytes).toBe(f1.memory.model_states_bytes);
    expect(f2.memory.breakdown_at_peak.communication_buffers).toBeGreaterThan(0);
    expect(f1.memory.breakdown_at_peak.communication_buffers).toBe(0);
    // Sharded gradients live in the reduce-scatter stream's pool: reserved ≥ (peak + gradients) × overhead.
    const factor = f2.memory.reserved_bytes / f2.memory.peak_bytes;
    expect(factor).toBeGreaterThan(1);
  });
});
