/**
 * gemma, gemma2, gemma3_text (transformers modeling_gemma.py / modeling_gemma2.py / modeling_gemma3.py):
 * Llama-style attention without biases and a GeGLU MLP (gelu_pytorch_tanh on the gate), RMSNorms that scale
 * by (1 + w), the embedding scaled by √h, embeddings tied to the head (config default true).
 *
 * - gemma: two norms per layer (input, post-attention).
 * - gemma2: four norms per layer (input, post-attention, pre-feedforward, post-feedforward); sliding-window
 *   attention (`sliding_window`, 4096) on every other layer (even layers), global on the rest; attention and
 *   final logit soft-capping (an elementwise tanh; no parameters).
 * - gemma3_text: gemma2's four norms plus RMSNorm over each q and k head (q_norm, k_norm); five sliding-window
 *   layers (`sliding_window`, 512–4096) per global one — from `layer_types` when the config lists them, else
 *   `sliding_window_pattern` (default 6: every sixth layer global). Gemma3TextConfig defaults: head_dim 256,
 *   vocab 262208, sliding_window 4096.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, ModelSpec } from '../types.ts';

export function gemma(r: ConfigReader, modelType: 'gemma' | 'gemma2' | 'gemma3_text'): ModelSpec {
  const g3 = modelType === 'gemma3_text';
  const h = r.reqInt('hidden_size');
  const numLayers = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.optInt('head_dim', 256);
  const vocabSize = g3 ? r.optInt('vocab_size', 262208) : r.reqInt('vocab_size');
  const window = modelType === 'gemma' ? undefined : r.optInt('sliding_window', 4096);
  const bias = r.optBool('attention_bias', false);
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
  const rms = { kind: 'rmsnorm', bias: false } as const;
  const layerNorms = [...norms(modelType === 'gemma' ? 2 : 4, rms, h), ...(g3 ? norms(2, rms, headDim) : [])];
  const variant = (sliding: boolean): LayerSpec => {
    const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: g3, ...(sliding && window ? { window } : {}) };
    return makeLayer({ hiddenSize: h, mixer, ffn, linears: [...attentionLinears(h, mixer, { qkv: bias, out: bias }), ...denseMlpLinears(h, ffn, false)], norms: layerNorms, extraParams: 0, parallelResidual: false });
  };
  const local = variant(true);
  const global = variant(false);
  const types = Array.isArray(r.cfg.layer_types) ? (r.cfg.layer_types as unknown[]) : undefined;
  const pattern = r.optInt('sliding_window_pattern', 6);
  const isSliding = (i: number): boolean => {
    if (modelType === 'gemma') return false;
    if (types && types.length === numLayers) return types[i] === 'sliding_attention';
    return modelType === 'gemma2' ? i % 2 === 0 : (i + 1) % pattern !== 0;
  };
  return {
    id: r.id,
    modelType,
    hiddenSize: h,
    vocabSize,
    tiedEmbeddings: r.optBool('tie_word_embeddings', true),
    learnedPositions: false,
    maxPositions: r.optInt('max_position_embeddings', 8192),
    numLayers,
    layers: Array.from({ length: numLayers }, (_, i) => (isSliding(i) ? local : global)),
    finalNorm: { ...rms, width: h },
  };
}
