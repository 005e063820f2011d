import { describe, expect, it } from 'vitest';
import { activeParameters, parameterCounts, specFromHfConfig, type AttentionMixer } from '../../src/model/index.ts';

// Architecture keys of the published config.json files; totals are the hub's safetensors counts.
const GEMMA_7B = { model_type: 'gemma', hidden_size: 3072, intermediate_size: 24576, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 16, head_dim: 256, vocab_size: 256000 };
const GEMMA2_9B = { model_type: 'gemma2', hidden_size: 3584, intermediate_size: 14336, num_hidden_layers: 42, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 256, vocab_size: 256000, sliding_window: 4096 };
const GEMMA3_1B = { model_type: 'gemma3_text', hidden_size: 1152, intermediate_size: 6912, num_hidden_layers: 26, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 256, vocab_size: 262144, sliding_window: 512, sliding_window_pattern: 6 };
const GEMMA3_4B = {
  model_type: 'gemma3',
  text_config: { model_type: 'gemma3_text', hidden_size: 2560, intermediate_size: 10240, num_hidden_layers: 34, num_attention_heads: 8, num_key_value_heads: 4, sliding_window: 1024 },
  vision_config: { model_type: 'siglip_vision_model', hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, patch_size: 14, image_size: 896 },
};

describe('gemma families', () => {
  it('gemma-7b: 8,537,680,896; gemma-2-9b: 9,241,705,984 (four norms per layer); gemma-3-1b: 999,885,952 (q/k norms)', () => {
    expect(parameterCounts(specFromHfConfig(GEMMA_7B, 'x')).total).toBe(8_537_680_896);
    expect(parameterCounts(specFromHfConfig(GEMMA2_9B, 'x')).total).toBe(9_241_705_984);
    expect(parameterCounts(specFromHfConfig(GEMMA3_1B, 'x')).total).toBe(999_885_952);
  });

  it('gemma2 alternates sliding-window and global layers; gemma3 has five local layers per global one', () => {
    const g2 = specFromHfConfig(GEMMA2_9B, 'x');
    expect(g2.layers.map((l) => (l.mixer as AttentionMixer).window ?? 0).slice(0, 4)).toEqual([4096, 0, 4096, 0]);
    const g3 = specFromHfConfig(GEMMA3_1B, 'x');
    expect(g3.layers.filter((l) => (l.mixer as AttentionMixer).window === undefined)).toHaveLength(4);
  });

  it('gemma-3-4b: the language model (3,880,263,168) is simulated and the SigLIP tower reported: with the 2,950,272-parameter projector they make the hub total 4,300,079,472', () => {
    const m = specFromHfConfig(GEMMA3_4B, 'x');
    const lm = parameterCounts(m).total;
    expect(lm).toBe(3_880_263_168);
    expect(m.omitted).toHaveLength(1);
    expect(lm + m.omitted![0]!.params + (1152 * 2560 + 1152)).toBe(4_300_079_472);
    expect(activeParameters(m)).toBe(lm);
  });
});

describe('dense families (hub totals)', () => {
  const cases: [string, Record<string, unknown>, number][] = [
    ['phi-2', { model_type: 'phi', hidden_size: 2560, num_hidden_layers: 32, num_attention_heads: 32, intermediate_size: 10240, partial_rotary_factor: 0.4, vocab_size: 51200 }, 2_779_683_840],
    ['Phi-3-mini', { model_type: 'phi3', hidden_size: 3072, intermediate_size: 8192, num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 32, vocab_size: 32064, sliding_window: 2047 }, 3_821_079_552],
    ['phi-4', { model_type: 'phi3', hidden_size: 5120, intermediate_size: 17920, num_attention_heads: 40, num_hidden_layers: 40, num_key_value_heads: 10, vocab_size: 100352 }, 14_659_507_200],
    ['gpt-j-6b', { model_type: 'gptj', n_embd: 4096, n_head: 16, n_layer: 28, rotary_dim: 64, vocab_size: 50400, tie_word_embeddings: false }, 6_050_882_784],
    ['falcon-7b', { model_type: 'falcon', hidden_size: 4544, num_hidden_layers: 32, num_attention_heads: 71, multi_query: true, parallel_attn: true, bias: false, vocab_size: 65024 }, 6_921_720_704],
    ['stablelm-2-1_6b', { model_type: 'stablelm', hidden_size: 2048, intermediate_size: 5632, num_attention_heads: 32, num_hidden_layers: 24, num_key_value_heads: 32, partial_rotary_factor: 0.25, use_qkv_bias: true, vocab_size: 100352, tie_word_embeddings: false }, 1_644_515_328],
    ['starcoder2-3b', { model_type: 'starcoder2', vocab_size: 49152, hidden_size: 3072, intermediate_size: 12288, num_hidden_layers: 30, num_attention_heads: 24, num_key_value_heads: 2, sliding_window: 4096, use_bias: true }, 3_030_371_328],
    ['Qwen-1_8B (Qwen-1)', { model_type: 'qwen', hidden_size: 2048, intermediate_size: 11008, num_attention_heads: 16, num_hidden_layers: 24, vocab_size: 151936, no_bias: true, tie_word_embeddings: false }, 1_836_828_672],
  ];
  for (const [name, cfg, total] of cases) {
    it(`${name}: ${total.toLocaleString('en-US')}`, () => expect(parameterCounts(specFromHfConfig(cfg, name)).total).toBe(total));
  }
});
