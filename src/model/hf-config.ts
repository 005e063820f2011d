/**
 * Normalise a Hugging Face `config.json` (one of the supported decoder-only families) into a ModelSpec.
 * Defaults follow the transformers `*Config` classes, so a config.json that omits a key means what it
 * means to transformers (e.g. MptConfig.no_bias defaults to true, GPT2Config.n_inner=None means 4·n_embd).
 */
import { ShardsimError } from '../util/errors.ts';
import type { ModelSpec, ModelType } from './types.ts';

export const SUPPORTED_MODEL_TYPES: readonly ModelType[] = ['llama', 'mistral', 'qwen2', 'mpt', 'gpt2', 'gpt_neox'];

type Config = Record<string, unknown>;

function keyName(key: string): string {
  return `model_config.${key}`;
}

/** A required positive integer (key missing or null → error naming it). */
function reqInt(cfg: Config, key: string, id: string): number {
  const v = cfg[key];
  if (v === undefined || v === null) {
    throw new ShardsimError(`missing required key "${key}" in the config of ${id}`, {
      key: keyName(key),
      fix: `add "${key}" (a positive integer) to model_config or the model's config.json`,
    });
  }
  return checkInt(v, key, id);
}

/** An optional positive integer: absent or null → fallback. */
function optInt(cfg: Config, key: string, id: string, fallback: number): number {
  const v = cfg[key];
  return v === undefined || v === null ? fallback : checkInt(v, key, id);
}

function checkInt(v: unknown, key: string, id: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ShardsimError(`must be a positive integer, got ${JSON.stringify(v)} (config of ${id})`, {
      key: keyName(key),
    });
  }
  return v;
}

function optBool(cfg: Config, key: string, id: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') {
    throw new ShardsimError(`must be true or false, got ${JSON.stringify(v)} (config of ${id})`, { key: keyName(key) });
  }
  return v;
}

function optNumber(cfg: Config, key: string, id: string, fallback: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v > 0)) {
    throw new ShardsimError(`must be a positive number, got ${JSON.stringify(v)} (config of ${id})`, { key: keyName(key) });
  }
  return v;
}

/** head_dim given → used as is (Llama-3.2, some Mistral/Qwen variants); else hidden must split evenly into heads. */
function headDimOf(cfg: Config, id: string, hidden: number, heads: number, hiddenKey: string, headsKey: string): number {
  if (cfg.head_dim !== undefined && cfg.head_dim !== null) return checkInt(cfg.head_dim, 'head_dim', id);
  if (hidden % heads !== 0) {
    throw new ShardsimError(`${hiddenKey}=${hidden} is not divisible by ${headsKey}=${heads} (config of ${id})`, {
      key: keyName(headsKey),
      fix: 'give head_dim explicitly or fix the head count',
    });
  }
  return hidden / heads;
}

function checkKvHeads(heads: number, kv: number, id: string, kvKey: string): void {
  if (heads % kv !== 0) {
    throw new ShardsimError(`${kvKey}=${kv} must divide the number of attention heads (${heads}) (config of ${id})`, {
      key: keyName(kvKey),
    });
  }
}

/** llama, mistral, qwen2: RMSNorm, RoPE, SwiGLU MLP (gate/up/down), untied unless the config says so. */
function llamaLike(cfg: Config, id: string, modelType: 'llama' | 'mistral' | 'qwen2'): ModelSpec {
  const hiddenSize = reqInt(cfg, 'hidden_size', id);
  const intermediateSize = reqInt(cfg, 'intermediate_size', id);
  const numLayers = reqInt(cfg, 'num_hidden_layers', id);
  const numHeads = reqInt(cfg, 'num_attention_heads', id);
  const numKvHeads = optInt(cfg, 'num_key_value_heads', id, numHeads);
  checkKvHeads(numHeads, numKvHeads, id, 'num_key_value_heads');
  const headDim = headDimOf(cfg, id, hiddenSize, numHeads, 'hidden_size', 'num_attention_heads');
  const vocabSize = reqInt(cfg, 'vocab_size', id);
  // transformers defaults: LlamaConfig 2048, MistralConfig 4096*32, Qwen2Config 32768.
  const defaultMaxPos = modelType === 'llama' ? 2048 : modelType === 'mistral' ? 4096 * 32 : 32768;
  const maxPositions = optInt(cfg, 'max_position_embeddings', id, defaultMaxPos);
  // LlamaAttention: q/k/v AND o_proj all take bias=config.attention_bias; LlamaMLP: bias=config.mlp_bias.
  // MistralAttention: no biases. Qwen2Attention: q/k/v bias=True, o_proj bias=False (hard-coded).
  const attentionBias = modelType === 'llama' ? optBool(cfg, 'attention_bias', id, false) : false;
  const qkvBias = modelType === 'qwen2' ? true : attentionBias;
  const attnOutBias = attentionBias;
  const mlpBias = modelType === 'llama' ? optBool(cfg, 'mlp_bias', id, false) : false;
  return {
    id,
    modelType,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize,
    mlpKind: 'gated',
    vocabSize,
    tiedEmbeddings: optBool(cfg, 'tie_word_embeddings', id, false),
    learnedPositions: false,
    maxPositions,
    qkvBias,
    attnOutBias,
    mlpBias,
    normKind: 'rmsnorm',
    normBias: false,
    parallelResidual: false,
  };
}

/**
 * mpt (transformers MptConfig / mosaicml llm-foundry): keys d_model, n_heads, n_layers, expansion_ratio,
 * max_seq_len; fused Wqkv; GELU MLP of expansion_ratio·d_model; LayerNorm whose bias follows no_bias;
 * embeddings tied. Positions: ALiBi by default (attn_config.alibi, transformers default true) → no table;
 * llm-foundry builds a learned `wpe` table only when learned_pos_emb is true AND neither alibi nor rope is on.
 */
function mpt(cfg: Config, id: string): ModelSpec {
  const hiddenSize = reqInt(cfg, 'd_model', id);
  const numHeads = reqInt(cfg, 'n_heads', id);
  const numLayers = reqInt(cfg, 'n_layers', id);
  const expansion = optNumber(cfg, 'expansion_ratio', id, 4);
  const intermediateSize = Math.round(expansion * hiddenSize);
  const vocabSize = reqInt(cfg, 'vocab_size', id);
  const maxPositions = optInt(cfg, 'max_seq_len', id, 2048);
  const noBias = optBool(cfg, 'no_bias', id, true);
  const attn = (cfg.attn_config ?? {}) as Config;
  if (typeof attn !== 'object' || Array.isArray(attn)) {
    throw new ShardsimError(`must be an object (config of ${id})`, { key: keyName('attn_config') });
  }
  const alibi = attn.alibi === undefined || attn.alibi === null ? true : attn.alibi === true;
  const rope = attn.rope === true;
  const learnedPositions = optBool(cfg, 'learned_pos_emb', id, true) && !alibi && !rope;
  const attnType = typeof attn.attn_type === 'string' ? attn.attn_type : 'multihead_attention';
  let numKvHeads = numHeads;
  if (attnType === 'multiquery_attention') numKvHeads = 1;
  else if (attnType === 'grouped_query_attention') {
    const kv = attn.kv_n_heads;
    numKvHeads = kv === undefined || kv === null ? numHeads : checkInt(kv, 'attn_config.kv_n_heads', id);
  }
  checkKvHeads(numHeads, numKvHeads, id, 'attn_config.kv_n_heads');
  return {
    id,
    modelType: 'mpt',
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim: headDimOf({}, id, hiddenSize, numHeads, 'd_model', 'n_heads'),
    intermediateSize,
    mlpKind: 'plain',
    vocabSize,
    tiedEmbeddings: optBool(cfg, 'tie_word_embeddings', id, true),
    learnedPositions,
    maxPositions,
    qkvBias: !noBias,
    attnOutBias: !noBias,
    mlpBias: !noBias,
    normKind: 'layernorm',
    normBias: !noBias,
    parallelResidual: false,
  };
}

/** gpt2: Conv1D linears with biases everywhere, LayerNorm with bias, learned wpe, lm_head tied to wte. */
function gpt2(cfg: Config, id: string): ModelSpec {
  const hiddenSize = reqInt(cfg, 'n_embd', id);
  const numLayers = reqInt(cfg, 'n_layer', id);
  const numHeads = reqInt(cfg, 'n_head', id);
  const vocabSize = reqInt(cfg, 'vocab_size', id);
  return {
    id,
    modelType: 'gpt2',
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads: numHeads,
    headDim: headDimOf({}, id, hiddenSize, numHeads, 'n_embd', 'n_head'),
    intermediateSize: optInt(cfg, 'n_inner', id, 4 * hiddenSize),
    mlpKind: 'plain',
    vocabSize,
    tiedEmbeddings: optBool(cfg, 'tie_word_embeddings', id, true),
    learnedPositions: true,
    maxPositions: optInt(cfg, 'n_positions', id, 1024),
    qkvBias: true,
    attnOutBias: true,
    mlpBias: true,
    normKind: 'layernorm',
    normBias: true,
    parallelResidual: false,
  };
}

/**
 * gpt_neox (Pythia, GPT-NeoX-20B): fused query_key_value and dense with bias=config.attention_bias
 * (default true), MLP with biases, LayerNorm with bias, rotary positions, separate embed_out
 * (tie_word_embeddings default false), attention and MLP in parallel when use_parallel_residual (default true).
 */
function gptNeox(cfg: Config, id: string): ModelSpec {
  const hiddenSize = reqInt(cfg, 'hidden_size', id);
  const numHeads = reqInt(cfg, 'num_attention_heads', id);
  const attentionBias = optBool(cfg, 'attention_bias', id, true);
  return {
    id,
    modelType: 'gpt_neox',
    hiddenSize,
    numLayers: reqInt(cfg, 'num_hidden_layers', id),
    numHeads,
    numKvHeads: numHeads,
    headDim: headDimOf({}, id, hiddenSize, numHeads, 'hidden_size', 'num_attention_heads'),
    intermediateSize: reqInt(cfg, 'intermediate_size', id),
    mlpKind: 'plain',
    vocabSize: reqInt(cfg, 'vocab_size', id),
    tiedEmbeddings: optBool(cfg, 'tie_word_embeddings', id, false),
    learnedPositions: false,
    maxPositions: optInt(cfg, 'max_position_embeddings', id, 2048),
    qkvBias: attentionBias,
    attnOutBias: attentionBias,
    mlpBias: true,
    normKind: 'layernorm',
    normBias: true,
    parallelResidual: optBool(cfg, 'use_parallel_residual', id, true),
  };
}

/** Normalise one HF config.json object; `id` names the model in messages and in the spec. */
export function specFromHfConfig(config: Record<string, unknown>, id: string): ModelSpec {
  const modelType = config.model_type;
  if (modelType === undefined || modelType === null) {
    throw new ShardsimError(`missing "model_type" in the config of ${id}`, {
      key: keyName('model_type'),
      fix: `set it to one of: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    });
  }
  switch (modelType) {
    case 'llama':
    case 'mistral':
    case 'qwen2':
      return llamaLike(config, id, modelType as 'llama' | 'mistral' | 'qwen2');
    case 'mpt':
      return mpt(config, id);
    case 'gpt2':
      return gpt2(config, id);
    case 'gpt_neox':
      return gptNeox(config, id);
    default:
      throw new ShardsimError(`unsupported model_type ${JSON.stringify(modelType)} (model ${id})`, {
        key: keyName('model_type'),
        fix: `supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
      });
  }
}
