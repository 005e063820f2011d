/**
 * gemma4_text (Gemma 4, the language model inside Gemma4ForConditionalGeneration; transformers
 * modeling_gemma4.py, its module tree as mlx-lm `models/gemma4_text.py` loads the checkpoint strictly):
 * Gemma's (1 + w) RMSNorms, four norms per layer, GeGLU MLP, tied embeddings, and:
 *
 * - `layer_types`: sliding-window layers (`sliding_window`) with `head_dim` heads and full rotary, and full
 *   layers with `global_head_dim` heads and rotary over `partial_rotary_factor` (0.25) of them. With
 *   `attention_k_eq_v` (26B, 31B) a full layer has no v_proj — the values are the keys — and
 *   `num_global_key_value_heads` KV heads. q_norm / k_norm of the head dim; v_norm has no weight.
 * - `enable_moe_block` (26B-A4B): every layer runs the dense MLP (`mlp`, `intermediate_size`; the card's
 *   "shared expert") AND routed experts beside it: `router.proj` (h → E, an nn.Linear) with `router.scale` [h]
 *   and `router.per_expert_scale` [E], `experts.gate_up_proj` / `experts.down_proj` (3-D, `moe_intermediate_size`),
 *   top `top_k_experts`; three more norms (pre_feedforward_layernorm_2, post_feedforward_layernorm_1/_2).
 * - `layer_scalar` [1] per layer.
 * - Per-layer embeddings (`hidden_size_per_layer_input` > 0, E2B/E4B): a table `embed_tokens_per_layer`
 *   (vocab_size_per_layer_input × layers·d_ple) and `per_layer_model_projection` (h → layers·d_ple) with
 *   `per_layer_projection_norm` (d_ple) at the model level; per layer `per_layer_input_gate` (h → d_ple),
 *   `per_layer_projection` (d_ple → h) and `post_per_layer_input_norm`. The model-level table and projection
 *   are counted with the layer whose slice they feed (extra parameters: a lookup, and a GEMM under 1% of the
 *   layer's); the per-layer projections are ordinary linears.
 * - KV sharing (`num_kv_shared_layers`): the last layers reuse earlier layers' keys and values; the checkpoint
 *   still holds their k_proj / v_proj / k_norm (mlx-lm's `sanitize` drops them; transformers keeps the
 *   modules), so they are counted and adapted like any projection. `use_double_wide_mlp` doubles the MLP
 *   width on those layers.
 */
import type { ConfigReader } from '../config-keys.ts';
import { denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, ModelSpec, MoeFfn } from '../types.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

function fullRotaryFactor(r: ConfigReader): number {
  const rope = r.optObject('rope_parameters');
  const full = rope.full_attention;
  const v = full && typeof full === 'object' ? (full as Record<string, unknown>).partial_rotary_factor : undefined;
  return typeof v === 'number' && v > 0 ? v : 0.25;
}

export function gemma4Text(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  const headDim = r.optInt('head_dim', 256);
  const globalHeadDim = r.optInt('global_head_dim', headDim);
  const kEqV = r.optBool('attention_k_eq_v', false);
  const globalKvHeads = kEqV ? r.optInt('num_global_key_value_heads', numKvHeads) : numKvHeads;
  const window = r.optInt('sliding_window', 512);
  const shared = r.optCount('num_kv_shared_layers', 0);
  const firstShared = n - shared;
  const doubleWide = r.optBool('use_double_wide_mlp', false);
  const intermediate = r.reqInt('intermediate_size');
  const ple = r.optCount('hidden_size_per_layer_input', 0);
  const plVocab = r.optInt('vocab_size_per_layer_input', r.optInt('vocab_size', 262144));
  const moeOn = r.optBool('enable_moe_block', false);
  const bias = r.optBool('attention_bias', false);
  const types = Array.isArray(r.cfg.layer_types) && r.cfg.layer_types.length === n ? (r.cfg.layer_types as unknown[]) : undefined;
  const pattern = r.optInt('sliding_window_pattern', 5);
  const isSliding = (i: number) => (types ? types[i] === 'sliding_attention' : (i + 1) % pattern !== 0 && i !== n - 1);
  const lin = (name: string, inF: number, outF: number, part: LinearSpec['part'], tp: LinearSpec['tp'], heads?: number): LinearSpec => ({ name, in: inF, out: outF, bias, part, tp, ...(heads ? { heads } : {}) });

  const build = (sliding: boolean, kvShared: boolean): LayerSpec => {
    const d = sliding ? headDim : globalHeadDim;
    const noV = kEqV && !sliding;
    const kv = sliding ? numKvHeads : globalKvHeads;
    const mixer: AttentionMixer = {
      kind: 'attention', numHeads, numKvHeads: kv, headDim: d, vHeadDim: d, rotaryDims: sliding ? d : Math.floor(d * fullRotaryFactor(r)), qkNorm: true, ...(sliding ? { window } : {}),
    };
    const attn: LinearSpec[] = [lin('q_proj', h, numHeads * d, 'attention', 'colwise', numHeads), lin('k_proj', h, kv * d, 'attention', 'colwise', kv)];
    if (!noV) attn.push(lin('v_proj', h, kv * d, 'attention', 'colwise', kv));
    attn.push(lin('o_proj', numHeads * d, h, 'attention', 'rowwise'));
    const dense: DenseFfn = { kind: 'dense', intermediate: intermediate * (doubleWide && kvShared ? 2 : 1), gated: true };
    const mlp = denseMlpLinears(h, dense, false);
    const layerNorms = [...norms(4, RMS, h), ...norms(2, RMS, d)];
    let ffn: DenseFfn | MoeFfn = dense;
    const ffnLinears: LinearSpec[] = [];
    let extra = 1; // layer_scalar
    if (moeOn) {
      const numExperts = r.reqInt('num_experts');
      const moe: MoeFfn = { kind: 'moe', numExperts, topK: r.reqInt('top_k_experts'), expertIntermediate: r.reqInt('moe_intermediate_size'), gated: true, sharedIntermediate: dense.intermediate };
      ffn = moe;
      const experts = { count: numExperts, topK: moe.topK };
      ffnLinears.push(
        ...mlp,
        { name: 'proj', in: h, out: numExperts, bias: false, part: 'mlp', tp: 'replicated', router: true, module: 'router' },
        { name: 'gate_up_proj', in: h, out: 2 * moe.expertIntermediate, bias: false, part: 'mlp', tp: 'colwise', experts, module: 'experts' },
        { name: 'down_proj', in: moe.expertIntermediate, out: h, bias: false, part: 'mlp', tp: 'rowwise', experts, module: 'experts' },
      );
      layerNorms.push(...norms(3, RMS, h));
      extra += h + numExperts; // router.scale, router.per_expert_scale
    } else ffnLinears.push(...mlp);
    if (ple > 0) {
      ffnLinears.push(
        { name: 'per_layer_input_gate', in: h, out: ple, bias: false, part: 'mlp', tp: 'replicated', module: '' },
        { name: 'per_layer_projection', in: ple, out: h, bias: false, part: 'mlp', tp: 'replicated', module: '' },
      );
      layerNorms.push({ ...RMS, width: h });
      // This layer's slice of embed_tokens_per_layer and of per_layer_model_projection (see the file comment).
      extra += plVocab * ple + h * ple;
    }
    return makeLayer({ hiddenSize: h, mixer, ffn, linears: [...attn, ...ffnLinears], norms: layerNorms, extraParams: extra, parallelResidual: false });
  };
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    const layer = build(isSliding(i), shared > 0 && i >= firstShared);
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  // The model-level per_layer_projection_norm (d_ple weights) is counted with the first layer.
  if (ple > 0) layers[0] = makeLayer({ ...layers[0]!, extraParams: layers[0]!.extraParams + ple });
  return {
    id: r.id, modelType: 'gemma4_text', hiddenSize: h, vocabSize: r.optInt('vocab_size', 262144), tiedEmbeddings: r.optBool('tie_word_embeddings', true),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 131072), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
