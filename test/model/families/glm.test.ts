import { describe, expect, it } from 'vitest';
import { loadModel, parameterCounts } from '../../../src/model/index.ts';
import { applyPeft } from '../../../src/model/peft.ts';

describe('glm4', () => {
  it('GLM-4-32B-0414: 32.57 B as llama.cpp counts its GGUF (q/k/v biases, fused gate_up_proj, four RMSNorms, untied)', () => {
    const m = loadModel({ baseModel: 'THUDM/GLM-4-32B-0414' });
    expect(Math.round(parameterCounts(m).total / 1e7) / 100).toBe(32.57);
    expect(m.layers[0]!.norms).toHaveLength(4);
    expect(m.layers[0]!.linears.map((l) => `${l.name}${l.bias ? '+b' : ''}`)).toEqual(['q_proj+b', 'k_proj+b', 'v_proj+b', 'o_proj', 'gate_up_proj', 'down_proj']);
  });

  it("Axolotl's GLM-4 QLoRA targets name gate_proj/up_proj, which the fused gate_up_proj does not match: 65.0 M adapted", () => {
    const m = applyPeft(loadModel({ baseModel: 'THUDM/GLM-4-32B-0414' }), {
      r: 16, dropout: false, dora: false, modulesToSave: [],
      targets: { kind: 'names', names: ['gate_proj', 'down_proj', 'up_proj', 'q_proj', 'v_proj', 'k_proj', 'o_proj'] },
    });
    const perLayer = m.layers[0]!.linears.filter((l) => l.lora).reduce((s, l) => s + 16 * (l.in + l.out), 0);
    expect(perLayer * 61).toBe(64_962_560);
  });

  it('glm4v (GLM-4.6V-Flash): the glm4 decoder at model.language_model, the vision tower reported, 9.40 B simulated', () => {
    const m = loadModel({ baseModel: 'zai-org/GLM-4.6V-Flash' });
    expect(m.modelType).toBe('glm4v_text');
    expect(m.languageModelPrefix).toBe('model.language_model');
    expect(m.layers[0]!.norms).toHaveLength(4);
    expect(parameterCounts(m).total).toBe(9_400_279_040);
    expect(m.omitted?.map((o) => o.name)).toEqual(['vision (glm4v)']);
  });
});
