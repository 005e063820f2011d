/**
 * llama, mistral, qwen2 (transformers modeling_llama.py / modeling_mistral.py / modeling_qwen2.py):
 * RMSNorm before attention and before the MLP, RoPE, SwiGLU MLP (gate/up/down), untied unless the config
 * says so.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, ModelSpec } from '../types.ts';

export function llamaLike(r: ConfigReader, modelType: 'llama' | 'mistral' | 'qwen2'): ModelSpec {
  const hiddenSize = r.reqInt('hidden_size');
  const intermediate = r.reqInt('intermediate_size');
  const numLayers = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.headDim(hiddenSize, numHeads, 'hidden_size', 'num_attention_heads');
  const vocabSize = r.reqInt('vocab_size');
  // transformers defaults: LlamaConfig 2048, MistralConfig 4096*32, Qwen2Config 32768.
  const defaultMaxPos = modelType === 'llama' ? 2048 : modelType === 'mistral' ? 4096 * 32 : 32768;
  const maxPositions = r.optInt('max_position_embeddings', defaultMaxPos);
  // LlamaAttention: q/k/v AND o_proj all take bias=config.attention_bias; LlamaMLP: bias=config.mlp_bias.
  // MistralAttention: no biases. Qwen2Attention: q/k/v bias=True, o_proj bias=False (hard-coded).
  const attentionBias = modelType === 'llama' ? r.optBool('attention_bias', false) : false;
  const qkvBias = modelType === 'qwen2' ? true : attentionBias;
  const mlpBias = modelType === 'llama' ? r.optBool('mlp_bias', false) : false;
  // Mistral attends within `sliding_window` tokens (MistralAttention passes it to the attention kernel);
  // Qwen2 only when use_sliding_window is set (and then only above max_window_layers; rarely used).
  const window = modelType === 'mistral' && r.has('sliding_window') ? r.checkInt(r.cfg.sliding_window, 'sliding_window') : undefined;
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: false, ...(window ? { window } : {}) };
  const ffn: DenseFfn = { kind: 'dense', intermediate, gated: true };
  const rms = { kind: 'rmsnorm', bias: false } as const;
  const layer = makeLayer({
    hiddenSize,
    mixer,
    ffn,
    linears: [...attentionLinears(hiddenSize, mixer, { qkv: qkvBias, out: attentionBias }), ...denseMlpLinears(hiddenSize, ffn, mlpBias)],
    norms: norms(2, rms, hiddenSize),
    extraParams: 0,
    parallelResidual: false,
  });
  return {
    id: r.id,
    modelType,
    hiddenSize,
    vocabSize,
    tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false,
    maxPositions,
    numLayers,
    layers: Array.from({ length: numLayers }, () => layer),
    finalNorm: { ...rms, width: hiddenSize },
  };
}
