/**
 * llama, mistral, qwen2, qwen3 (transformers modeling_llama.py / modeling_mistral.py / modeling_qwen2.py /
 * modeling_qwen3.py): RMSNorm before attention and before the MLP, RoPE, SwiGLU MLP (gate/up/down), untied
 * unless the config says so. Qwen3 adds RMSNorm over each q and k head (q_norm, k_norm of head_dim).
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, ModelSpec } from '../types.ts';

export type LlamaLikeType = 'llama' | 'mistral' | 'qwen2' | 'qwen3';

export function llamaLike(r: ConfigReader, modelType: LlamaLikeType): ModelSpec {
  const a = llamaAttention(r, modelType);
  const intermediate = r.reqInt('intermediate_size');
  const numLayers = r.reqInt('num_hidden_layers');
  const mlpBias = modelType === 'llama' ? r.optBool('mlp_bias', false) : false;
  const ffn: DenseFfn = { kind: 'dense', intermediate, gated: true };
  const layer = makeLayer({
    hiddenSize: a.hiddenSize,
    mixer: a.mixer,
    ffn,
    linears: [...a.linears, ...denseMlpLinears(a.hiddenSize, ffn, mlpBias)],
    norms: a.norms,
    extraParams: 0,
    parallelResidual: false,
  });
  const { hiddenSize, vocabSize, maxPositions } = a;
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
    finalNorm: { kind: 'rmsnorm', bias: false, width: hiddenSize },
  };
}

/**
 * The attention block and the two pre-norms shared by the Llama-style families (and their MoE siblings):
 * q/k/v/o with the family's bias rule, GQA, rotary, Mistral's sliding window, Qwen3's per-head q/k norms.
 */
export function llamaAttention(r: ConfigReader, modelType: LlamaLikeType | 'mixtral' | 'qwen2_moe' | 'qwen3_moe') {
  const hiddenSize = r.reqInt('hidden_size');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.headDim(hiddenSize, numHeads, 'hidden_size', 'num_attention_heads');
  const vocabSize = r.reqInt('vocab_size');
  // transformers defaults: LlamaConfig 2048, MistralConfig / MixtralConfig 4096*32, Qwen2/Qwen3 32768 / 40960.
  const defaultMaxPos = modelType === 'llama' ? 2048 : modelType === 'mistral' || modelType === 'mixtral' ? 4096 * 32 : modelType.startsWith('qwen3') ? 40960 : 32768;
  const maxPositions = r.optInt('max_position_embeddings', defaultMaxPos);
  // LlamaAttention: q/k/v AND o_proj all take bias=config.attention_bias. Mistral/Mixtral: no biases.
  // Qwen2/Qwen2-MoE: q/k/v bias=True, o_proj bias=False (hard-coded). Qwen3/Qwen3-MoE: config.attention_bias.
  const qwen2 = modelType === 'qwen2' || modelType === 'qwen2_moe';
  const attentionBias = modelType === 'llama' || modelType.startsWith('qwen3') ? r.optBool('attention_bias', false) : false;
  const qkvBias = qwen2 ? true : attentionBias;
  // Mistral/Mixtral attend within `sliding_window` tokens when it is set; Qwen2/3 only with use_sliding_window.
  const windowKey = modelType === 'mistral' || modelType === 'mixtral' || r.optBool('use_sliding_window', false);
  const window = windowKey && r.has('sliding_window') ? r.checkInt(r.cfg.sliding_window, 'sliding_window') : undefined;
  const qkNorm = modelType.startsWith('qwen3');
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm, ...(window ? { window } : {}) };
  const rms = { kind: 'rmsnorm', bias: false } as const;
  return {
    hiddenSize,
    vocabSize,
    maxPositions,
    mixer,
    linears: attentionLinears(hiddenSize, mixer, { qkv: qkvBias, out: attentionBias }),
    norms: [...norms(2, rms, hiddenSize), ...(qkNorm ? norms(2, rms, headDim) : [])],
  };
}
