/**
 * Mixture-of-experts families beyond the Llama-shaped ones (transformers modeling_<family>.py):
 *
 * - gpt_oss: attention with biases and one learned sink logit per head (`sinks`), head_dim 64, sliding-window
 *   (`sliding_window`, 128) and full layers alternating (`layer_types`); a router with a bias and experts whose
 *   fused gate/up and down projections have biases (`num_local_experts`, `num_experts_per_tok`).
 * - deepseek_v2 / deepseek_v3 / glm4_moe_lite: multi-head latent attention — q through a low-rank q_a_proj /
 *   q_a_layernorm / q_b_proj (or one q_proj without `q_lora_rank`), keys and values through kv_a_proj_with_mqa
 *   (h → kv_lora_rank + rope dims), kv_a_layernorm and kv_b_proj (kv_lora_rank → heads·(nope + v)); attention
 *   runs with q/k head dim nope + rope and value head dim `v_head_dim`. The first `first_k_dense_replace` layers
 *   are dense MLPs, the rest MoE every `moe_layer_freq` with `n_shared_experts` shared experts.
 * - glm4_moe (GLM-4.5): q/k/v with biases, partial rotary, the same dense-then-MoE layout with a shared
 *   expert and an expert-score correction bias; the checkpoint's next-token-prediction layer is not part of
 *   the transformers model.
 * - minimax_m2: RMSNorm over the whole q and k projections (`qk_norm_type: per_layer`), partial rotary, experts
 *   with a routing bias.
 * - llama4 (text): chunked attention (`attention_chunk_size`) with RoPE on three of every four layers and
 *   global attention without RoPE on the fourth (`no_rope_layers`), an L2 q/k norm without parameters; MoE
 *   layers every `interleave_moe_layer_step` with a shared expert of `intermediate_size`, dense layers of
 *   `intermediate_size_mlp`. transformers runs the MoE block densely: every expert computes every token
 *   (`Llama4TextMoe.forward` repeats the tokens num_experts times and scales the unselected rows to zero).
 * - mimo: a Qwen2-shaped decoder; its multi-token-prediction layers are reported, not simulated.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, moeLinears, norms, TRANSFORMERS_MOE } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, ModelSpec, MoeFfn } from '../types.ts';
import { llamaLike } from './llama.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

function layerTypes(r: ConfigReader, n: number): string[] | undefined {
  const t = r.cfg.layer_types;
  return Array.isArray(t) && t.length === n ? (t as string[]) : undefined;
}

function spec(r: ConfigReader, modelType: string, h: number, layers: LayerSpec[], extra: Partial<ModelSpec> = {}): ModelSpec {
  return {
    id: r.id, modelType, hiddenSize: h, vocabSize: r.reqInt('vocab_size'), tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 4096), numLayers: layers.length, layers, finalNorm: { ...RMS, width: h }, ...extra,
  };
}

export function gptOss(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = r.optInt('head_dim', 64);
  const window = r.optInt('sliding_window', 128);
  const moe: MoeFfn = { kind: 'moe', numExperts: r.reqInt('num_local_experts'), topK: r.optInt('num_experts_per_tok', r.optInt('experts_per_token', 4)), expertIntermediate: r.reqInt('intermediate_size'), gated: true, sharedIntermediate: 0 };
  const bias = r.optBool('attention_bias', true);
  const build = (sliding: boolean): LayerSpec => {
    const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: false, ...(sliding ? { window } : {}) };
    return makeLayer({
      hiddenSize: h, mixer, ffn: moe,
      linears: [...attentionLinears(h, mixer, { qkv: bias, out: bias }), ...moeLinears(h, moe, { router: true, experts: true, shared: false }, { ...TRANSFORMERS_MOE, router: 'router' })],
      norms: norms(2, RMS, h), extraParams: numHeads, parallelResidual: false,
    });
  };
  const local = build(true);
  const global = build(false);
  const types = layerTypes(r, n);
  return spec(r, 'gpt_oss', h, Array.from({ length: n }, (_, i) => ((types ? types[i] === 'sliding_attention' : i % 2 === 0) ? local : global)));
}

/** Multi-head latent attention's projections and mixer (DeepSeek-V2/V3, GLM-4.7-Flash, Kimi). */
export function mlaAttention(r: ConfigReader, h: number): { mixer: AttentionMixer; linears: LinearSpec[]; norms: { kind: 'rmsnorm'; bias: false; width: number }[] } {
  const numHeads = r.reqInt('num_attention_heads');
  const nope = r.reqInt('qk_nope_head_dim');
  const rope = r.reqInt('qk_rope_head_dim');
  const v = r.reqInt('v_head_dim');
  const kvRank = r.reqInt('kv_lora_rank');
  const qRank = r.has('q_lora_rank') ? r.checkInt(r.cfg.q_lora_rank, 'q_lora_rank') : undefined;
  const bias = r.optBool('attention_bias', false);
  const qk = nope + rope;
  const lin = (name: string, inF: number, outF: number, tp: LinearSpec['tp'], heads?: number): LinearSpec => ({ name, in: inF, out: outF, bias: false, part: 'attention', tp, ...(heads ? { heads } : {}) });
  const linears: LinearSpec[] = [];
  const extraNorms: { kind: 'rmsnorm'; bias: false; width: number }[] = [];
  if (qRank) {
    linears.push({ ...lin('q_a_proj', h, qRank, 'replicated'), bias }, lin('q_b_proj', qRank, numHeads * qk, 'colwise', numHeads));
    extraNorms.push({ ...RMS, width: qRank });
  } else linears.push(lin('q_proj', h, numHeads * qk, 'colwise', numHeads));
  linears.push({ ...lin('kv_a_proj_with_mqa', h, kvRank + rope, 'replicated'), bias }, lin('kv_b_proj', kvRank, numHeads * (nope + v), 'colwise', numHeads), { ...lin('o_proj', numHeads * v, h, 'rowwise'), bias });
  extraNorms.push({ ...RMS, width: kvRank });
  return { mixer: { kind: 'attention', numHeads, numKvHeads: numHeads, headDim: qk, vHeadDim: v, rotaryDims: rope, qkNorm: false }, linears, norms: extraNorms };
}

/** DeepSeek-style layouts: dense for the first k layers, then MoE every `moe_layer_freq` (shared experts). */
function deepseekFfn(r: ConfigReader, h: number, i: number): { ffn: DenseFfn | MoeFfn; linears: LinearSpec[]; extraParams: number } {
  const firstDense = r.optCount('first_k_dense_replace', 0);
  const freq = r.optInt('moe_layer_freq', 1);
  const experts = r.optCount('n_routed_experts', 0);
  if (experts === 0 || i < firstDense || (i - firstDense) % freq !== 0) {
    const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
    return { ffn, linears: denseMlpLinears(h, ffn, false), extraParams: 0 };
  }
  const moeI = r.reqInt('moe_intermediate_size');
  const ffn: MoeFfn = { kind: 'moe', numExperts: experts, topK: r.reqInt('num_experts_per_tok'), expertIntermediate: moeI, gated: true, sharedIntermediate: r.optCount('n_shared_experts', 0) * moeI };
  // noaux_tc routing (DeepSeek-V3, GLM-4.5) keeps an expert-score correction bias of one value per expert.
  const correction = r.optString('topk_method', 'greedy') === 'noaux_tc' ? experts : 0;
  return { ffn, linears: moeLinears(h, ffn, { router: false, experts: false, shared: false }), extraParams: correction };
}

export function deepseek(r: ConfigReader, modelType: 'deepseek_v2' | 'deepseek_v3' | 'glm4_moe_lite'): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const att = mlaAttention(r, h);
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    const f = deepseekFfn(r, h, i);
    const layer = makeLayer({ hiddenSize: h, mixer: att.mixer, ffn: f.ffn, linears: [...att.linears, ...f.linears], norms: [...norms(2, RMS, h), ...att.norms], extraParams: f.extraParams, parallelResidual: false });
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return spec(r, modelType, h, layers);
}

export function glm4Moe(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads');
  const qkNorm = r.optBool('use_qk_norm', false);
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: Math.floor(headDim * r.optNumber('partial_rotary_factor', 0.5)), qkNorm };
  const bias = r.optBool('attention_bias', false);
  const attn = attentionLinears(h, mixer, { qkv: bias, out: false });
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    const f = deepseekFfn(r, h, i);
    const layer = makeLayer({ hiddenSize: h, mixer, ffn: f.ffn, linears: [...attn, ...f.linears], norms: [...norms(2, RMS, h), ...(qkNorm ? norms(2, RMS, headDim) : [])], extraParams: f.extraParams, parallelResidual: false });
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return spec(r, 'glm4_moe', h, layers);
}

export function minimaxM2(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads');
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: r.optInt('rotary_dim', headDim), qkNorm: true };
  const experts = r.reqInt('num_local_experts');
  const moe: MoeFfn = { kind: 'moe', numExperts: experts, topK: r.reqInt('num_experts_per_tok'), expertIntermediate: r.reqInt('intermediate_size'), gated: true, sharedIntermediate: r.optCount('shared_intermediate_size', 0) };
  const layer = makeLayer({
    hiddenSize: h, mixer, ffn: moe,
    linears: [...attentionLinears(h, mixer, { qkv: false, out: false }), ...moeLinears(h, moe, { router: false, experts: false, shared: false })],
    // q_norm over heads·d and k_norm over kv_heads·d (per_layer); the routing bias is one value per expert.
    norms: [...norms(2, RMS, h), { ...RMS, width: numHeads * headDim }, { ...RMS, width: numKvHeads * headDim }],
    extraParams: r.optBool('use_routing_bias', true) ? experts : 0, parallelResidual: false,
  });
  return spec(r, 'minimax_m2', h, Array.from({ length: n }, () => layer));
}

export function llama4Text(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = r.optInt('head_dim', h / numHeads);
  const chunk = r.optInt('attention_chunk_size', 8192);
  const step = r.optInt('interleave_moe_layer_step', 1);
  const moe: MoeFfn = { kind: 'moe', numExperts: r.reqInt('num_local_experts'), topK: r.optInt('num_experts_per_tok', 1), expertIntermediate: r.reqInt('intermediate_size'), gated: true, sharedIntermediate: r.reqInt('intermediate_size'), denseDispatch: true };
  const dense: DenseFfn = { kind: 'dense', intermediate: r.optInt('intermediate_size_mlp', 16384), gated: true };
  const noRope = Array.isArray(r.cfg.no_rope_layers) && (r.cfg.no_rope_layers as unknown[]).length === n ? (r.cfg.no_rope_layers as number[]) : undefined;
  const bias = r.optBool('attention_bias', false);
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    // no_rope_layers[i] == 0 marks a NoPE global layer (every fourth by default); the others are chunked.
    const rope = noRope ? noRope[i] !== 0 : (i + 1) % 4 !== 0;
    const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: rope ? headDim : 0, qkNorm: false, ...(rope ? { window: chunk } : {}) };
    const isMoe = (i + 1) % step === 0;
    const ffn = isMoe ? moe : dense;
    const layer = makeLayer({
      hiddenSize: h, mixer, ffn,
      linears: [...attentionLinears(h, mixer, { qkv: bias, out: bias }), ...(isMoe ? moeLinears(h, moe, { router: false, experts: false, shared: false }, { ...TRANSFORMERS_MOE, router: 'router', shared: { gate: 'shared_expert.gate_proj', up: 'shared_expert.up_proj', down: 'shared_expert.down_proj' } }) : denseMlpLinears(h, dense, false))],
      norms: norms(2, RMS, h), extraParams: 0, parallelResidual: false,
    });
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return spec(r, 'llama4_text', h, layers);
}

export function mimo(r: ConfigReader): ModelSpec {
  const base = llamaLike(r, 'qwen2');
  const mtp = r.optCount('num_nextn_predict_layers', 0);
  if (mtp === 0) return { ...base, modelType: 'mimo' };
  // Each MTP block: two norms, a 2h → h input projection and a full decoder layer.
  const h = base.hiddenSize;
  const layer = base.layers[0]!;
  const layerParams = layer.linears.reduce((a, l) => a + l.in * l.out + (l.bias ? l.out : 0), 0) + layer.norms.reduce((a, x) => a + x.width, 0);
  return { ...base, modelType: 'mimo', omitted: [{ name: `${mtp} multi-token-prediction layer(s)`, params: mtp * (layerParams + 2 * h * h + 3 * h) }] };
}
