/**
 * glm4 (GLM-4-0414: GLM-4-9B/32B-0414; transformers modeling_glm4.py, mlx-lm models/glm4.py) and the
 * language model of glm4v (GLM-4.1V / GLM-4.6V; Glm4vTextModel, the same layer with 3-D mRoPE):
 *
 * - q/k/v with biases (`attention_bias`, Glm4Config default true), o_proj without; GQA with `head_dim`;
 *   rotary on `partial_rotary_factor` (0.5) of each head, interleaved.
 * - MLP: one fused `gate_up_proj` (h → 2·I) and `down_proj`, SwiGLU.
 * - Four RMSNorms per layer: input_layernorm, post_self_attn_layernorm (on the attention output),
 *   post_attention_layernorm (before the MLP) and post_mlp_layernorm (on the MLP output). Untied head.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LinearSpec, ModelSpec } from '../types.ts';

export function glm4(r: ConfigReader, modelType: 'glm4' | 'glm4v_text' = 'glm4'): ModelSpec {
  const h = r.reqInt('hidden_size');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads');
  const numLayers = r.reqInt('num_hidden_layers');
  const I = r.reqInt('intermediate_size');
  const mixer: AttentionMixer = {
    kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim,
    rotaryDims: Math.floor(headDim * r.optNumber('partial_rotary_factor', 0.5)), qkNorm: false,
  };
  const ffn: DenseFfn = { kind: 'dense', intermediate: I, gated: true };
  const linears: LinearSpec[] = [
    ...attentionLinears(h, mixer, { qkv: r.optBool('attention_bias', true), out: false }),
    { name: 'gate_up_proj', in: h, out: 2 * I, bias: false, part: 'mlp', tp: 'colwise' },
    { name: 'down_proj', in: I, out: h, bias: false, part: 'mlp', tp: 'rowwise' },
  ];
  const rms = { kind: 'rmsnorm', bias: false } as const;
  const layer = makeLayer({ hiddenSize: h, mixer, ffn, linears, norms: norms(4, rms, h), extraParams: 0, parallelResidual: false });
  return {
    id: r.id,
    modelType,
    hiddenSize: h,
    vocabSize: r.reqInt('vocab_size'),
    tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false,
    maxPositions: r.optInt('max_position_embeddings', 131072),
    numLayers,
    layers: Array.from({ length: numLayers }, () => layer),
    finalNorm: { ...rms, width: h },
  };
}
