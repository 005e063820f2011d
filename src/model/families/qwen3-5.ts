/**
 * qwen3_next (Qwen3-Next; transformers modeling_qwen3_next.py) and its successors qwen3_5_text /
 * qwen3_5_moe_text (Qwen3.5; transformers modeling_qwen3_5.py, modular_qwen3_5_moe.py, which
 * take the decoder layer, attention, experts and sparse block from modeling_qwen3_next.py): a hybrid of Gated
 * DeltaNet linear attention and gated softmax attention. `layer_types` names each layer's mixer
 * ("linear_attention" / "full_attention"); without it every `full_attention_interval`-th layer (4) is full.
 *
 * - Gated DeltaNet (`linear_attn`, Qwen3_5GatedDeltaNet): kd = linear_num_key_heads × linear_key_head_dim,
 *   vd = linear_num_value_heads × linear_value_head_dim; in_proj_qkv h → 2·kd + vd, in_proj_z h → vd (output
 *   gate), in_proj_b and in_proj_a h → value heads (β and the decay), a depthwise conv1d over the 2·kd + vd
 *   channels of `linear_conv_kernel_dim` without bias, A_log and dt_bias per value head, a gated RMSNorm of
 *   the value head dim shared by all heads, out_proj vd → h. Qwen3-Next fuses the projections: in_proj_qkvz
 *   h → 2·kd + 2·vd and in_proj_ba h → 2 · value heads (the same weights, two GEMMs instead of four).
 * - Full attention (`self_attn`, Qwen3NextAttention): q_proj h → 2·heads·head_dim (the query and a per-head
 *   sigmoid output gate, `attn_output_gate`), k/v h → kv_heads·head_dim, o_proj, q_norm / k_norm of head_dim,
 *   rotary over `partial_rotary_factor` (0.25) of each head.
 * - Feed-forward: a SwiGLU MLP (dense) or Qwen3NextSparseMoeBlock: a router (`gate`, h → E), E experts of
 *   moe_intermediate_size held as 3-D gate_up_proj / down_proj, a shared expert (`shared_expert.gate_proj` …)
 *   of shared_expert_intermediate_size and its sigmoid gate (`shared_expert_gate`, h → 1). Qwen3.5-MoE puts it in
 *   every layer; Qwen3-Next where (i + 1) % decoder_sparse_step == 0 and i ∉ mlp_only_layers (else the dense MLP).
 *
 * Tensor parallelism: the projections are split by heads as Megatron does; transformers' own tp_plan instead
 * marks every linear_attn projection `colwise_gather_output` (sharded GEMMs, gathered outputs, an unsplit
 * recurrent core), so a transformers-TP run spends more on the DeltaNet core than simulated.
 *
 * The checkpoint's multi-token-prediction layer (`mtp.*`) is not loaded by transformers
 * (`_keys_to_ignore_on_load_unexpected`), the vision tower is reported by the multimodal wrapper.
 */
import type { ConfigReader } from '../config-keys.ts';
import { denseMlpLinears, makeLayer, moeLinears, norms, TRANSFORMERS_MOE } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearAttentionMixer, LinearSpec, ModelSpec, MoeFfn } from '../types.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

/**
 * Tokens per chunk of the chunked gated delta rule transformers calls (fla-org flash-linear-attention
 * `fla/ops/gated_delta_rule/chunk.py`: chunk_gated_delta_rule runs on chunks of BT = 64 tokens).
 */
export const GATED_DELTA_CHUNK_TOKENS = 64;

/** The partial-rotary factor from transformers 5's `rope_parameters` or the flat key (default 0.25). */
function partialRotary(r: ConfigReader): number {
  const rope = r.optObject('rope_parameters');
  const v = rope.partial_rotary_factor;
  return typeof v === 'number' && v > 0 ? v : r.optNumber('partial_rotary_factor', 0.25);
}

export function qwen3_5(r: ConfigReader, modelType: 'qwen3_5_text' | 'qwen3_5_moe_text' | 'qwen3_next'): ModelSpec {
  const next = modelType === 'qwen3_next';
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  // Gated DeltaNet (Qwen3_5TextConfig defaults: 16 key heads, 32 value heads, both of dim 128, kernel 4).
  const nk = r.optInt('linear_num_key_heads', 16);
  const nv = r.optInt('linear_num_value_heads', 32);
  const dk = r.optInt('linear_key_head_dim', 128);
  const dv = r.optInt('linear_value_head_dim', 128);
  const kernel = r.optInt('linear_conv_kernel_dim', 4);
  const kd = nk * dk;
  const vd = nv * dv;
  const gdn: LinearAttentionMixer = { kind: 'linear_attention', numKeyHeads: nk, numValueHeads: nv, keyDim: dk, valueDim: dv, convKernel: kernel, chunk: GATED_DELTA_CHUNK_TOKENS };
  const lin = (name: string, inF: number, outF: number, tp: LinearSpec['tp'], heads?: number): LinearSpec => ({ name, in: inF, out: outF, bias: false, part: 'attention', tp, ...(heads ? { heads } : {}) });
  const gdnLinears: LinearSpec[] = next
    ? [lin('in_proj_qkvz', h, 2 * kd + 2 * vd, 'colwise'), lin('in_proj_ba', h, 2 * nv, 'colwise', nv), lin('out_proj', vd, h, 'rowwise')]
    : [
        lin('in_proj_qkv', h, 2 * kd + vd, 'colwise'),
        lin('in_proj_z', h, vd, 'colwise', nv),
        lin('in_proj_b', h, nv, 'colwise', nv),
        lin('in_proj_a', h, nv, 'colwise', nv),
        lin('out_proj', vd, h, 'rowwise'),
      ];
  // conv1d weight (channels × kernel, no bias), A_log and dt_bias per value head.
  const gdnExtra = (2 * kd + vd) * kernel + 2 * nv;
  // Gated attention.
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.optInt('head_dim', 256);
  const gated = r.optBool('attn_output_gate', true);
  const attn: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: Math.floor(headDim * partialRotary(r)), qkNorm: true };
  const ab = r.optBool('attention_bias', false);
  const attnLinears: LinearSpec[] = [
    { ...lin('q_proj', h, (gated ? 2 : 1) * numHeads * headDim, 'colwise', numHeads), bias: ab },
    { ...lin('k_proj', h, numKvHeads * headDim, 'colwise', numKvHeads), bias: ab },
    { ...lin('v_proj', h, numKvHeads * headDim, 'colwise', numKvHeads), bias: ab },
    { ...lin('o_proj', numHeads * headDim, h, 'rowwise'), bias: ab },
  ];
  // Feed-forward.
  // Qwen3NextConfig defaults: 512 experts top-10 of 512, a 512-wide shared expert; Qwen3.5-MoE: 256 top-8.
  const numExperts = modelType === 'qwen3_5_moe_text' ? r.optInt('num_experts', 256) : next ? r.optCount('num_experts', 512) : 0;
  const moeFfn = (): { ffn: MoeFfn; linears: LinearSpec[] } => {
    const moe: MoeFfn = {
      kind: 'moe', numExperts, topK: r.optInt('num_experts_per_tok', next ? 10 : 8), expertIntermediate: r.optInt('moe_intermediate_size', 512), gated: true,
      sharedIntermediate: r.optCount('shared_expert_intermediate_size', 512),
    };
    return { ffn: moe, linears: moeLinears(h, moe, { router: false, experts: false, shared: false }, { ...TRANSFORMERS_MOE, shared: { gate: 'shared_expert.gate_proj', up: 'shared_expert.up_proj', down: 'shared_expert.down_proj' }, sharedGate: 'shared_expert_gate' }) };
  };
  const denseFfn = (): { ffn: DenseFfn; linears: LinearSpec[] } => {
    const dense: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
    return { ffn: dense, linears: denseMlpLinears(h, dense, false) };
  };
  const step = r.optInt('decoder_sparse_step', 1);
  const mlpOnly = new Set(next && Array.isArray(r.cfg.mlp_only_layers) ? (r.cfg.mlp_only_layers as unknown[]) : []);
  const sparseAt = (i: number) => numExperts > 0 && (!next || (!mlpOnly.has(i) && (i + 1) % step === 0));
  const types = Array.isArray(r.cfg.layer_types) && r.cfg.layer_types.length === n ? (r.cfg.layer_types as unknown[]) : undefined;
  const interval = r.optInt('full_attention_interval', 4);
  const cache = new Map<string, LayerSpec>();
  const layers: LayerSpec[] = Array.from({ length: n }, (_, i) => {
    const full = types ? types[i] === 'full_attention' : (i + 1) % interval === 0;
    const f = sparseAt(i) ? moeFfn() : denseFfn();
    // Saved beyond the mixer's own tensors: the DeltaNet's output gate z (the gated norm's backward reads it) and
    // the gated attention's sigmoid gate (the product's backward reads it).
    const layer = full
      ? makeLayer({
          hiddenSize: h, mixer: attn, ffn: f.ffn, linears: [...attnLinears, ...f.linears], norms: [...norms(2, RMS, h), ...norms(2, RMS, headDim)], extraParams: 0, parallelResidual: false,
          ...(gated ? { extraSaved: [{ name: 'attn_output_gate', elementsPerToken: numHeads * headDim }] } : {}),
        })
      : makeLayer({
          hiddenSize: h, mixer: gdn, ffn: f.ffn, linears: [...gdnLinears, ...f.linears], norms: [...norms(2, RMS, h), { ...RMS, width: dv }], extraParams: gdnExtra, parallelResidual: false,
          extraSaved: [{ name: 'gdn_output_gate', elementsPerToken: vd }],
        });
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return {
    id: r.id, modelType, hiddenSize: h, vocabSize: r.optInt('vocab_size', next ? 151936 : 248320), tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', next ? 32768 : 262144), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
