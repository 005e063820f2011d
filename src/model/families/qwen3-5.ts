/**
 * qwen3_5_text / qwen3_5_moe_text (Qwen3.5; transformers modeling_qwen3_5.py, modular_qwen3_5_moe.py, which
 * take the decoder layer, attention, experts and sparse block from modeling_qwen3_next.py): a hybrid of Gated
 * DeltaNet linear attention and gated softmax attention. `layer_types` names each layer's mixer
 * ("linear_attention" / "full_attention"); without it every `full_attention_interval`-th layer (4) is full.
 *
 * - Gated DeltaNet (`linear_attn`, Qwen3_5GatedDeltaNet): kd = linear_num_key_heads × linear_key_head_dim,
 *   vd = linear_num_value_heads × linear_value_head_dim; in_proj_qkv h → 2·kd + vd, in_proj_z h → vd (output
 *   gate), in_proj_b and in_proj_a h → value heads (β and the decay), a depthwise conv1d over the 2·kd + vd
 *   channels of `linear_conv_kernel_dim` without bias, A_log and dt_bias per value head, a gated RMSNorm of
 *   the value head dim shared by all heads, out_proj vd → h.
 * - Full attention (`self_attn`, Qwen3NextAttention): q_proj h → 2·heads·head_dim (the query and a per-head
 *   sigmoid output gate, `attn_output_gate`), k/v h → kv_heads·head_dim, o_proj, q_norm / k_norm of head_dim,
 *   rotary over `partial_rotary_factor` (0.25) of each head.
 * - Feed-forward: a SwiGLU MLP (dense) or Qwen3NextSparseMoeBlock: a router (`gate`, h → E), E experts of
 *   moe_intermediate_size held as 3-D gate_up_proj / down_proj, a shared expert (`shared_expert.gate_proj` …)
 *   of shared_expert_intermediate_size and its sigmoid gate (`shared_expert_gate`, h → 1).
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

export function qwen3_5(r: ConfigReader, modelType: 'qwen3_5_text' | 'qwen3_5_moe_text'): ModelSpec {
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
  const gdnLinears: LinearSpec[] = [
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
  const numExperts = modelType === 'qwen3_5_moe_text' ? r.optInt('num_experts', 256) : 0;
  let ffn: DenseFfn | MoeFfn;
  let ffnLinears: LinearSpec[];
  if (numExperts > 0) {
    const moe: MoeFfn = { kind: 'moe', numExperts, topK: r.optInt('num_experts_per_tok', 8), expertIntermediate: r.optInt('moe_intermediate_size', 512), gated: true, sharedIntermediate: r.optCount('shared_expert_intermediate_size', 512) };
    ffn = moe;
    ffnLinears = moeLinears(h, moe, { router: false, experts: false, shared: false }, { ...TRANSFORMERS_MOE, shared: { gate: 'shared_expert.gate_proj', up: 'shared_expert.up_proj', down: 'shared_expert.down_proj' }, sharedGate: 'shared_expert_gate' });
  } else {
    const dense: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
    ffn = dense;
    ffnLinears = denseMlpLinears(h, dense, false);
  }
  // Saved beyond the mixer's own tensors: the DeltaNet's output gate z (the gated norm's backward reads it) and
  // the gated attention's sigmoid gate (the product's backward reads it).
  const linearLayer = makeLayer({
    hiddenSize: h, mixer: gdn, ffn, linears: [...gdnLinears, ...ffnLinears], norms: [...norms(2, RMS, h), { ...RMS, width: dv }], extraParams: gdnExtra, parallelResidual: false,
    extraSaved: [{ name: 'gdn_output_gate', elementsPerToken: vd }],
  });
  const fullLayer = makeLayer({
    hiddenSize: h, mixer: attn, ffn, linears: [...attnLinears, ...ffnLinears], norms: [...norms(2, RMS, h), ...norms(2, RMS, headDim)], extraParams: 0, parallelResidual: false,
    ...(gated ? { extraSaved: [{ name: 'attn_output_gate', elementsPerToken: numHeads * headDim }] } : {}),
  });
  const types = Array.isArray(r.cfg.layer_types) && r.cfg.layer_types.length === n ? (r.cfg.layer_types as unknown[]) : undefined;
  const interval = r.optInt('full_attention_interval', 4);
  const layers: LayerSpec[] = Array.from({ length: n }, (_, i) => ((types ? types[i] === 'full_attention' : (i + 1) % interval === 0) ? fullLayer : linearLayer));
  return {
    id: r.id, modelType, hiddenSize: h, vocabSize: r.optInt('vocab_size', 248320), tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 262144), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
