import { describe, expect, it } from 'vitest';
import { applyUnfrozen, compileUnfrozenPattern } from '../../src/model/freeze.ts';
import { loadModel, trainableParameters } from '../../src/model/index.ts';
import { run } from '../helpers/run.ts';

// Axolotl utils/freeze.py: re.match after escaping every "." not followed by "+"; an optional [start:end] range.
describe("Axolotl's unfrozen_parameters patterns", () => {
  it('escape dots except before "+", anchor at the start only, and drop a row range', () => {
    const moe = compileUnfrozenPattern('model.layers.4[4-9]+.block_sparse_moe.experts');
    expect(moe.test('model.layers.45.block_sparse_moe.experts.0.w1.weight')).toBe(true);
    expect(moe.test('model.layers.4X5.block_sparse_moe.experts')).toBe(false);
    expect(moe.test('xmodel.layers.45.block_sparse_moe.experts')).toBe(false);
    expect(compileUnfrozenPattern('^model.embed_tokens.weight$[:32000]').test('model.embed_tokens.weight')).toBe(true);
    expect(compileUnfrozenPattern('lm_head.weight').test('lm_headXweight')).toBe(false);
  });

  it('Llama-2-7b: only the matched modules train (counts by hand)', () => {
    const base = loadModel({ baseModel: 'meta-llama/Llama-2-7b-hf' });
    expect(trainableParameters(applyUnfrozen(base, ['^lm_head.weight$', '^model.embed_tokens.weight$']))).toBe(2 * 32000 * 4096);
    // Layers 30 and 31's MLP: 2 × 3 × 4096 × 11008.
    expect(trainableParameters(applyUnfrozen(base, ['model.layers.3[01].mlp']))).toBe(2 * 3 * 4096 * 11008);
    // The norms follow the final norm (one rule for the model): 32 layers × 2 + 1 norms of 4096.
    expect(trainableParameters(applyUnfrozen(base, ['model.norm', 'model.layers.0.input_layernorm']))).toBe(65 * 4096);
  });

  it("transformers 5 names Mixtral's experts model.layers.<i>.mlp.experts: Axolotl's block_sparse_moe patterns match none", () => {
    const m = loadModel({ baseModel: 'mistral-community/Mixtral-8x22B-v0.1' });
    const frozen = applyUnfrozen(m, ['^lm_head.weight$', '^model.embed_tokens.weight$', 'model.layers.4[4-9]+.block_sparse_moe.experts']);
    expect(trainableParameters(frozen)).toBe(2 * 32768 * 6144);
    expect(trainableParameters(applyUnfrozen(m, ['model.layers.4[4-9]+.mlp.experts']))).toBeGreaterThan(0);
  });
});

describe('a partially frozen full fine-tune', () => {
  const base = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 1024, micro_batch_size: 1, bf16: true, flash_attention: true, optimizer: 'adamw_torch_fused', simulation: { gpus: 1 } };
  it('keeps gradients and optimizer states for the unfrozen parameters only, and skips frozen weight gradients', async () => {
    const full = (await run(base)).result;
    const part = (await run({ ...base, unfrozen_parameters: ['model.layers.1[0-5].mlp'] })).result;
    // Layers 10–15's MLP of Llama-3.2-1B: 6 × 3 × 2048 × 8192.
    const T = 6 * 3 * 2048 * 8192;
    expect(part.model.trainable_parameters).toBe(T);
    expect(part.memory.breakdown_at_peak.optimizer_states).toBe(T * 4);
    expect(part.memory.model_states_bytes).toBeLessThan(full.memory.model_states_bytes);
    expect(part.step_time_s).toBeLessThan(full.step_time_s);
    expect(part.warnings.map((w) => w.message).join('\n')).not.toMatch(/unfrozen_parameters/);
  });
});
