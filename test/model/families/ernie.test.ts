import { describe, expect, it } from 'vitest';
import { loadModel, parameterCounts, specFromHfConfig } from '../../../src/model/index.ts';

describe('ernie4_5', () => {
  it('PaddleOCR-VL-1.6: a flat config whose ERNIE-4.5-0.3B decoder (466,654,208) is simulated and the NaViT tower reported', () => {
    const m = loadModel({ baseModel: 'PaddlePaddle/PaddleOCR-VL-1.6' });
    expect(m.modelType).toBe('ernie4_5');
    expect(parameterCounts(m).total).toBe(466_654_208);
    expect(m.omitted).toHaveLength(1);
  });

  it('use_bias puts a bias on every projection', () => {
    const cfg = { model_type: 'ernie4_5', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 100 };
    const off = specFromHfConfig(cfg, 'x');
    const on = specFromHfConfig({ ...cfg, use_bias: true }, 'x');
    expect(off.layers[0]!.linears.some((l) => l.bias)).toBe(false);
    expect(on.layers[0]!.linears.every((l) => l.bias)).toBe(true);
  });
});
