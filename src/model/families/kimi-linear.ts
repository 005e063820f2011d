/**
 * kimi_linear (Moonshot Kimi-Linear; the checkpoint's remote code `modeling_kimi.py`, which the config's
 * `auto_map` names and Axolotl loads with trust_remote_code; module tree as mlx-lm `models/kimi_linear.py`
 * loads and renames it): a hybrid of Kimi Delta Attention (KDA) and multi-head latent attention (MLA) with
 * DeepSeek-V3-style MoE. `linear_attn_config` lists 1-based layer numbers: `kda_layers` run KDA, the others
 * (`full_attn_layers`) MLA.
 *
 * - KDA (`self_attn`, KimiDeltaAttention): P = num_heads × head_dim of `linear_attn_config`; q/k/v_proj h → P,
 *   each followed by a depthwise short conv of `short_conv_kernel_size` without bias (q_conv1d …); a low-rank
 *   per-channel forget gate f_a_proj h → head_dim, f_b_proj head_dim → P; b_proj h → heads (β); a low-rank
 *   output gate g_a_proj / g_b_proj; A_log per head, dt_bias per channel (P); o_norm (a gated RMSNorm of
 *   head_dim); o_proj P → h. The chunked gated delta rule runs per head with head_dim keys and values.
 * - MLA (`self_attn`): q_proj (no q_lora_rank), kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj, with no
 *   rotary embedding at all (`mla_use_nope`).
 * - Feed-forward: dense SwiGLU (`mlp`) for the first `first_k_dense_replace` layers, then every `moe_layer_freq`
 *   a `block_sparse_moe`: a router (gate: a weight parameter and an e_score_correction_bias, sigmoid scores),
 *   `num_experts` experts of moe_intermediate_size — one nn.Linear each for w1 (gate), w3 (up), w2 (down),
 *   looped over in Python, so bitsandbytes quantises them and LoRA reaches them only by those names — top
 *   `num_experts_per_token`, and `num_shared_experts` shared experts (shared_experts.gate/up/down_proj).
 */
import type { ConfigReader } from '../config-keys.ts';
import { denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { DenseFfn, LayerSpec, LinearAttentionMixer, LinearSpec, ModelSpec, MoeFfn } from '../types.ts';
import { mlaAttention } from './moe-families.ts';
import { GATED_DELTA_CHUNK_TOKENS } from './qwen3-5.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

export function kimiLinear(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const la = r.optObject('linear_attn_config');
  const int = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback);
  const heads = int(la.num_heads, r.reqInt('num_attention_heads'));
  const hd = int(la.head_dim, 128);
  const kernel = int(la.short_conv_kernel_size, 4);
  const kda = new Set(Array.isArray(la.kda_layers) ? (la.kda_layers as unknown[]) : []);
  const P = heads * hd;
  const lin = (name: string, inF: number, outF: number, tp: LinearSpec['tp'], hh?: number): LinearSpec => ({ name, in: inF, out: outF, bias: false, part: 'attention', tp, ...(hh ? { heads: hh } : {}) });
  const kdaMixer: LinearAttentionMixer = { kind: 'linear_attention', numKeyHeads: heads, numValueHeads: heads, keyDim: hd, valueDim: hd, convKernel: kernel, chunk: GATED_DELTA_CHUNK_TOKENS };
  const kdaLinears: LinearSpec[] = [
    lin('q_proj', h, P, 'colwise', heads), lin('k_proj', h, P, 'colwise', heads), lin('v_proj', h, P, 'colwise', heads),
    lin('f_a_proj', h, hd, 'replicated'), lin('f_b_proj', hd, P, 'colwise', heads), lin('b_proj', h, heads, 'colwise', heads),
    lin('g_a_proj', h, hd, 'replicated'), lin('g_b_proj', hd, P, 'colwise', heads), lin('o_proj', P, h, 'rowwise'),
  ];
  // Three depthwise convs (P × kernel each), A_log per head, dt_bias per channel.
  const kdaExtra = 3 * P * kernel + heads + P;
  const mla = mlaAttention(r, h);
  const mlaMixer = { ...mla.mixer, rotaryDims: r.optBool('mla_use_nope', false) ? 0 : mla.mixer.rotaryDims };
  const firstDense = r.optCount('first_k_dense_replace', 0);
  const freq = r.optInt('moe_layer_freq', 1);
  const numExperts = r.optCount('num_experts', 0);
  const ffnOf = (i: number): { ffn: DenseFfn | MoeFfn; linears: LinearSpec[]; extra: number } => {
    if (numExperts === 0 || i < firstDense || i % freq !== 0) {
      const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
      return { ffn, linears: denseMlpLinears(h, ffn, false), extra: 0 };
    }
    const im = r.reqInt('moe_intermediate_size');
    const ffn: MoeFfn = { kind: 'moe', numExperts, topK: r.reqInt('num_experts_per_token'), expertIntermediate: im, gated: true, sharedIntermediate: r.optCount('num_shared_experts', 0) * im };
    const experts = { count: numExperts, topK: ffn.topK, linear: true };
    const m = 'block_sparse_moe';
    const linears: LinearSpec[] = [
      { name: 'gate', in: h, out: numExperts, bias: false, part: 'mlp', tp: 'replicated', router: true, module: m },
      { name: 'experts.w1', in: h, out: im, bias: false, part: 'mlp', tp: 'colwise', experts, module: m },
      { name: 'experts.w3', in: h, out: im, bias: false, part: 'mlp', tp: 'colwise', experts, module: m },
      { name: 'experts.w2', in: im, out: h, bias: false, part: 'mlp', tp: 'rowwise', experts, module: m },
      ...(ffn.sharedIntermediate > 0
        ? denseMlpLinears(h, { kind: 'dense', intermediate: ffn.sharedIntermediate, gated: true }, false, { gate: 'shared_experts.gate_proj', up: 'shared_experts.up_proj', down: 'shared_experts.down_proj' }).map((l) => ({ ...l, module: m }))
        : []),
    ];
    return { ffn, linears, extra: numExperts }; // e_score_correction_bias
  };
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    const isKda = kda.has(i + 1);
    const f = ffnOf(i);
    const layer = makeLayer({
      hiddenSize: h, mixer: isKda ? kdaMixer : mlaMixer, ffn: f.ffn,
      linears: [...(isKda ? kdaLinears : mla.linears), ...f.linears],
      norms: [...norms(2, RMS, h), ...(isKda ? [{ ...RMS, width: hd }] : mla.norms)],
      extraParams: (isKda ? kdaExtra : 0) + f.extra, parallelResidual: false,
    });
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return {
    id: r.id, modelType: 'kimi_linear', hiddenSize: h, vocabSize: r.reqInt('vocab_size'), tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', r.optInt('model_max_length', 1048576)), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
