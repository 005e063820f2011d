/**
 * lfm2 (Liquid AI LFM2; transformers modeling_lfm2.py, the module tree as mlx-lm `models/lfm2.py` loads it):
 * a hybrid of gated short-convolution blocks and GQA attention blocks, each `operator_norm` → operator →
 * `ffn_norm` → `feed_forward`.
 *
 * - Short conv (`conv`, Lfm2ShortConv) on layers `layer_types` marks "conv" (or not in `full_attn_idxs`):
 *   in_proj h → 3h (B, C, x), a depthwise causal conv1d of `conv_L_cache` over h channels (bias `conv_bias`),
 *   y = C ⊙ conv(B ⊙ x), out_proj h → h.
 * - Attention (`self_attn`): q/k/v/out_proj without biases, head_dim = h / heads, q_layernorm / k_layernorm
 *   (RMSNorm of head_dim).
 * - Feed-forward (Lfm2MLP): w1 (gate), w3 (up), w2 (down), SwiGLU; with `block_auto_adjust_ff_dim` the width is
 *   int(2·I/3), times `block_ffn_dim_multiplier`, rounded up to a multiple of `block_multiple_of`
 *   (LFM2-350M: 6656 → 4608).
 * - The final norm is `embedding_norm`; embeddings are tied (`tie_embedding`, default true).
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, ModelSpec, ShortConvMixer } from '../types.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

/** Lfm2MLP's width: the config's intermediate size, auto-adjusted as the file comment says. */
export function lfm2FfnWidth(r: ConfigReader): number {
  let ff = r.has('intermediate_size') ? r.reqInt('intermediate_size') : r.reqInt('block_ff_dim');
  if (r.optBool('block_auto_adjust_ff_dim', true)) {
    ff = Math.floor((2 * ff) / 3);
    if (r.has('block_ffn_dim_multiplier')) ff = Math.floor(r.optNumber('block_ffn_dim_multiplier', 1) * ff);
    const m = r.optInt('block_multiple_of', 256);
    ff = m * Math.ceil(ff / m);
  }
  return ff;
}

export function lfm2(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads');
  const ffn: DenseFfn = { kind: 'dense', intermediate: lfm2FfnWidth(r), gated: true };
  const mlp = denseMlpLinears(h, ffn, false, { gate: 'w1', up: 'w3', down: 'w2' });
  const attnMixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: true };
  const attn = makeLayer({
    hiddenSize: h, mixer: attnMixer, ffn,
    linears: [...attentionLinears(h, attnMixer, { qkv: false, out: false }, { qkv: ['q_proj', 'k_proj', 'v_proj'], out: 'out_proj' }), ...mlp],
    norms: [...norms(2, RMS, h), ...norms(2, RMS, headDim)], extraParams: 0, parallelResidual: false,
  });
  const kernel = r.optInt('conv_L_cache', 3);
  const convBias = r.optBool('conv_bias', false);
  const convMixer: ShortConvMixer = { kind: 'short_conv', channels: h, convKernel: kernel };
  const convLinears: LinearSpec[] = [
    { name: 'in_proj', in: h, out: 3 * h, bias: convBias, part: 'attention', tp: 'colwise' },
    { name: 'out_proj', in: h, out: h, bias: convBias, part: 'attention', tp: 'rowwise' },
  ];
  const conv = makeLayer({ hiddenSize: h, mixer: convMixer, ffn, linears: [...convLinears, ...mlp], norms: norms(2, RMS, h), extraParams: h * kernel + (convBias ? h : 0), parallelResidual: false });
  const types = Array.isArray(r.cfg.layer_types) && r.cfg.layer_types.length === n ? (r.cfg.layer_types as unknown[]) : undefined;
  const fullIdx = new Set(Array.isArray(r.cfg.full_attn_idxs) ? (r.cfg.full_attn_idxs as unknown[]) : []);
  const layers: LayerSpec[] = Array.from({ length: n }, (_, i) => ((types ? types[i] === 'full_attention' : fullIdx.has(i)) ? attn : conv));
  const tied = r.has('tie_word_embeddings') ? r.optBool('tie_word_embeddings', true) : r.optBool('tie_embedding', true);
  return {
    id: r.id, modelType: 'lfm2', hiddenSize: h, vocabSize: r.reqInt('vocab_size'), tiedEmbeddings: tied,
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 128000), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
