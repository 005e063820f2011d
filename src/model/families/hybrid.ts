/**
 * Hybrid state-space families (transformers modeling_falcon_h1.py, modeling_jamba.py):
 *
 * - falcon_h1: every layer runs attention and a Mamba-2 mixer side by side on the same normalised input and
 *   adds their (scaled) outputs, then a SwiGLU MLP (`mamba_use_mlp`). The Mamba-2 mixer: d_ssm =
 *   mamba_n_heads × mamba_d_head channels (`mamba_d_ssm`), in_proj h → 2·d_ssm + 2·n_groups·d_state + heads,
 *   a depthwise conv1d of `mamba_d_conv` (bias `mamba_conv_bias`) over x, B, C, A_log / D / dt_bias per head,
 *   an optional gated RMSNorm (`mamba_rms_norm`), out_proj d_ssm → h. Multipliers (μP) are constants.
 * - jamba: Mamba-1 layers with attention every `attn_layer_period` layers (from `attn_layer_offset`) and MoE
 *   feed-forwards every `expert_layer_period` (from `expert_layer_offset`), dense SwiGLU otherwise. The Mamba-1
 *   mixer: d_inner = mamba_expand × h, in_proj h → 2·d_inner, conv1d (`mamba_d_conv`), x_proj d_inner →
 *   dt_rank + 2·d_state, dt_proj dt_rank → d_inner (with bias), A_log (d_inner × d_state), D, out_proj, and
 *   Jamba's RMSNorms on Δ, B and C.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, moeLinears, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, Mamba1Mixer, Mamba2Mixer, ModelSpec, MoeFfn } from '../types.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

export function falconH1(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads');
  const attn: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: false };
  const nHeads = r.reqInt('mamba_n_heads');
  const dHead = r.reqInt('mamba_d_head');
  const dSsm = r.optInt('mamba_d_ssm', nHeads * dHead);
  const dState = r.reqInt('mamba_d_state');
  const nGroups = r.optInt('mamba_n_groups', 1);
  const convKernel = r.optInt('mamba_d_conv', 4);
  const ssm: Mamba2Mixer = { kind: 'mamba2', nHeads, headDim: dSsm / nHeads, dState, nGroups, convKernel, chunk: r.optInt('mamba_chunk_size', 128) };
  const projBias = r.optBool('mamba_proj_bias', false);
  const convDim = dSsm + 2 * nGroups * dState;
  const mambaLinears: LinearSpec[] = [
    { name: 'in_proj', in: h, out: 2 * dSsm + 2 * nGroups * dState + nHeads, bias: projBias, part: 'attention', tp: 'colwise', branch: 'parallel' },
    { name: 'out_proj', in: dSsm, out: h, bias: projBias, part: 'attention', tp: 'rowwise', branch: 'parallel' },
  ];
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
  const ab = r.optBool('attention_bias', false);
  const layer = makeLayer({
    hiddenSize: h, mixer: attn, parallelMixer: ssm, ffn,
    linears: [...attentionLinears(h, attn, { qkv: ab, out: ab }), ...mambaLinears, ...denseMlpLinears(h, ffn, r.optBool('mlp_bias', false))],
    norms: [...norms(2, RMS, h), ...(r.optBool('mamba_rms_norm', false) ? [{ ...RMS, width: dSsm }] : [])],
    extraParams: convDim * convKernel + (r.optBool('mamba_conv_bias', true) ? convDim : 0) + 3 * nHeads,
    parallelResidual: false,
  });
  return {
    id: r.id, modelType: 'falcon_h1', hiddenSize: h, vocabSize: r.reqInt('vocab_size'), tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 8192), numLayers: n, layers: Array.from({ length: n }, () => layer), finalNorm: { ...RMS, width: h },
  };
}

export function jamba(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = h / numHeads;
  const attn: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: 0, qkNorm: false };
  const dInner = r.optInt('mamba_expand', 2) * h;
  const dState = r.optInt('mamba_d_state', 16);
  const dtRank = r.optInt('mamba_dt_rank', Math.ceil(h / 16));
  const convKernel = r.optInt('mamba_d_conv', 4);
  const projBias = r.optBool('mamba_proj_bias', false);
  const ssm: Mamba1Mixer = { kind: 'mamba1', dInner, dState, convKernel };
  const mambaLinears: LinearSpec[] = [
    { name: 'in_proj', in: h, out: 2 * dInner, bias: projBias, part: 'attention', tp: 'colwise' },
    { name: 'x_proj', in: dInner, out: dtRank + 2 * dState, bias: false, part: 'attention', tp: 'replicated' },
    { name: 'dt_proj', in: dtRank, out: dInner, bias: true, part: 'attention', tp: 'colwise' },
    { name: 'out_proj', in: dInner, out: h, bias: projBias, part: 'attention', tp: 'rowwise' },
  ];
  const mambaExtra = dInner * convKernel + (r.optBool('mamba_conv_bias', true) ? dInner : 0) + dInner * dState + dInner;
  const dense: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
  const moe: MoeFfn = { kind: 'moe', numExperts: r.optInt('num_experts', 16), topK: r.optInt('num_experts_per_tok', 2), expertIntermediate: r.reqInt('intermediate_size'), gated: true, sharedIntermediate: 0 };
  const attnPeriod = r.optInt('attn_layer_period', 8);
  const attnOffset = r.optCount('attn_layer_offset', 4);
  const expertPeriod = r.optInt('expert_layer_period', 2);
  const expertOffset = r.optCount('expert_layer_offset', 1);
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    const isAttn = i % attnPeriod === attnOffset;
    const isMoe = moe.numExperts > 1 && i % expertPeriod === expertOffset;
    const ffn = isMoe ? moe : dense;
    const layer = makeLayer({
      hiddenSize: h, mixer: isAttn ? attn : ssm, ffn,
      linears: [...(isAttn ? attentionLinears(h, attn, { qkv: false, out: false }) : mambaLinears), ...(isMoe ? moeLinears(h, moe, { router: false, experts: false, shared: false }, { router: 'router', gateUp: 'experts.gate_up_proj', down: 'experts.down_proj' }) : denseMlpLinears(h, dense, false))],
      // input and pre-feed-forward norms; Mamba layers also normalise Δ (dt_rank), B and C (d_state).
      norms: [...norms(2, RMS, h), ...(isAttn ? [] : [{ ...RMS, width: dtRank }, { ...RMS, width: dState }, { ...RMS, width: dState }])],
      extraParams: isAttn ? 0 : mambaExtra,
      parallelResidual: false,
    });
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return {
    id: r.id, modelType: 'jamba', hiddenSize: h, vocabSize: r.reqInt('vocab_size'), tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 262144), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
