/**
 * gpt_neox (Pythia, GPT-NeoX-20B, RedPajama-INCITE; transformers modeling_gpt_neox.py): fused
 * query_key_value and dense with bias=config.attention_bias (default true), MLP dense_h_to_4h /
 * dense_4h_to_h with biases, LayerNorm with bias, rotary on rotary_pct of each head (default 0.25), separate
 * embed_out (tie_word_embeddings default false), attention and MLP in parallel when use_parallel_residual
 * (default true).
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, ModelSpec } from '../types.ts';

export function gptNeox(r: ConfigReader): ModelSpec {
  const hiddenSize = r.reqInt('hidden_size');
  const numHeads = r.reqInt('num_attention_heads');
  const numLayers = r.reqInt('num_hidden_layers');
  const attentionBias = r.optBool('attention_bias', true);
  if (hiddenSize % numHeads !== 0) r.headDim(hiddenSize, numHeads, 'hidden_size', 'num_attention_heads');
  const headDim = hiddenSize / numHeads;
  const rotaryDims = Math.floor(headDim * r.optNumber('rotary_pct', 0.25));
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads: numHeads, headDim, vHeadDim: headDim, rotaryDims, qkNorm: false };
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: false };
  const ln = { kind: 'layernorm', bias: true } as const;
  const layer = makeLayer({
    hiddenSize,
    mixer,
    ffn,
    linears: [
      ...attentionLinears(hiddenSize, mixer, { qkv: attentionBias, out: attentionBias }, { qkv: 'query_key_value', out: 'dense' }),
      ...denseMlpLinears(hiddenSize, ffn, true, { up: 'dense_h_to_4h', down: 'dense_4h_to_h' }),
    ],
    norms: norms(2, ln, hiddenSize),
    extraParams: 0,
    parallelResidual: r.optBool('use_parallel_residual', true),
  });
  return {
    id: r.id,
    modelType: 'gpt_neox',
    hiddenSize,
    vocabSize: r.reqInt('vocab_size'),
    tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false,
    maxPositions: r.optInt('max_position_embeddings', 2048),
    numLayers,
    layers: Array.from({ length: numLayers }, () => layer),
    finalNorm: { ...ln, width: hiddenSize },
  };
}
