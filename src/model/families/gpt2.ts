/**
 * gpt2 (transformers modeling_gpt2.py; also Cerebras-GPT): Conv1D projections c_attn (fused q/k/v) and
 * c_proj, MLP c_fc / c_proj with GELU, biases everywhere, LayerNorm with bias, learned wpe, lm_head tied to wte.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, ModelSpec } from '../types.ts';

export function gpt2(r: ConfigReader): ModelSpec {
  const hiddenSize = r.reqInt('n_embd');
  const numLayers = r.reqInt('n_layer');
  const numHeads = r.reqInt('n_head');
  const vocabSize = r.reqInt('vocab_size');
  if (hiddenSize % numHeads !== 0) r.headDim(hiddenSize, numHeads, 'n_embd', 'n_head');
  const headDim = hiddenSize / numHeads;
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads: numHeads, headDim, vHeadDim: headDim, rotaryDims: 0, qkNorm: false };
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.optInt('n_inner', 4 * hiddenSize), gated: false };
  const ln = { kind: 'layernorm', bias: true } as const;
  const layer = makeLayer({
    hiddenSize,
    mixer,
    ffn,
    linears: [
      ...attentionLinears(hiddenSize, mixer, { qkv: true, out: true }, { qkv: 'c_attn', out: 'c_proj' }),
      ...denseMlpLinears(hiddenSize, ffn, true, { up: 'c_fc', down: 'c_proj' }),
    ],
    norms: norms(2, ln, hiddenSize),
    extraParams: 0,
    parallelResidual: false,
  });
  return {
    id: r.id,
    modelType: 'gpt2',
    hiddenSize,
    vocabSize,
    tiedEmbeddings: r.optBool('tie_word_embeddings', true),
    learnedPositions: true,
    maxPositions: r.optInt('n_positions', 1024),
    numLayers,
    layers: Array.from({ length: numLayers }, () => layer),
    finalNorm: { ...ln, width: hiddenSize },
  };
}
