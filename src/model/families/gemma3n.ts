/**
 * gemma3n_text (Gemma 3n, the language model inside Gemma3nForConditionalGeneration; transformers
 * modeling_gemma3n.py, the module tree as mlx-lm `models/gemma3n.py` loads it): Gemma 3's attention (q/k
 * norms, a weightless v_norm, sliding-window layers from `layer_types`) and GeGLU MLP with four norms, plus:
 *
 * - AltUp (`altup`, Gemma3nAltUp): the residual stream is `altup_num_inputs` (4) copies of h. Each layer
 *   predicts all copies from the active one (modality_router h → n after router_norm, prediction_coefs n → n²),
 *   runs attention and MLP on the active copy only, and corrects the copies (correction_coefs n → n,
 *   correct_output_scale [h]). A checkpointed layer therefore keeps 4·h per token (plus its per-layer input).
 * - LAUREL (`laurel`): linear_left h → laurel_rank, linear_right back, post_laurel_norm, beside attention.
 * - Per-layer inputs: `embed_tokens_per_layer` (vocab_size_per_layer_input × layers·d) and
 *   `per_layer_model_projection` (h → layers·d) with per_layer_projection_norm (d) at the model level; per layer
 *   per_layer_input_gate (h → d), per_layer_projection (d → h), post_per_layer_input_norm. The table's slice of
 *   each layer is counted with that layer (a lookup), the model-level projection and AltUp's
 *   altup_projections (3 × h → h, after the embedding) with the first layer, altup_unembed_projections (3 ×
 *   h → h, before the head) with the last (their module paths are approximate for adapter regexes).
 * - KV sharing (`num_kv_shared_layers`): the last layers reuse earlier layers' keys and values at inference;
 *   their k_proj / v_proj are in the checkpoint and transformers computes them when no cache is passed (training).
 * - `activation_sparsity_pattern` (a top-k GELU on the first layers) adds an elementwise mean/std, no parameters.
 *
 * The elementwise AltUp arithmetic (a few n·h passes per layer) is not timed; its saved tensors are counted.
 */
import type { ConfigReader } from '../config-keys.ts';
import { denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, ModelSpec } from '../types.ts';

const RMS = { kind: 'rmsnorm', bias: false } as const;

export function gemma3nText(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const n = r.reqInt('num_hidden_layers');
  const numHeads = r.reqInt('num_attention_heads');
  const numKvHeads = r.optInt('num_key_value_heads', numHeads);
  r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
  const headDim = r.optInt('head_dim', 256);
  const window = r.optInt('sliding_window', 512);
  const streams = r.optInt('altup_num_inputs', 4);
  const laurel = r.optInt('laurel_rank', 64);
  const ple = r.optInt('hidden_size_per_layer_input', 256);
  const plVocab = r.optInt('vocab_size_per_layer_input', 262144);
  const widths = r.cfg.intermediate_size;
  const widthOf = (i: number): number => (Array.isArray(widths) ? r.checkInt(widths[i], 'intermediate_size') : r.reqInt('intermediate_size'));
  const types = Array.isArray(r.cfg.layer_types) && r.cfg.layer_types.length === n ? (r.cfg.layer_types as unknown[]) : undefined;
  const isSliding = (i: number) => (types ? types[i] === 'sliding_attention' : (i + 1) % 5 !== 0);
  const lin = (name: string, inF: number, outF: number, part: LinearSpec['part'], tp: LinearSpec['tp'], module?: string): LinearSpec => ({ name, in: inF, out: outF, bias: false, part, tp, ...(module !== undefined ? { module } : {}) });
  // AltUp predict (the n·h streams its matmul reads) and correct (the innovation), LAUREL's rank-r and norm
  // inputs, the per-layer gate's input, GELU input, product operands and projection input, its norm input.
  const extraSaved = [
    { name: 'altup_streams', elementsPerToken: streams * h },
    { name: 'altup_innovation', elementsPerToken: h },
    { name: 'laurel', elementsPerToken: laurel + h },
    { name: 'per_layer_input_gate', elementsPerToken: 2 * h + 4 * ple },
  ];
  const build = (i: number): LayerSpec => {
    const sliding = isSliding(i);
    const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: true, ...(sliding ? { window } : {}) };
    const ffn: DenseFfn = { kind: 'dense', intermediate: widthOf(i), gated: true };
    const linears: LinearSpec[] = [
      { ...lin('q_proj', h, numHeads * headDim, 'attention', 'colwise'), heads: numHeads },
      { ...lin('k_proj', h, numKvHeads * headDim, 'attention', 'colwise'), heads: numKvHeads },
      { ...lin('v_proj', h, numKvHeads * headDim, 'attention', 'colwise'), heads: numKvHeads },
      lin('o_proj', numHeads * headDim, h, 'attention', 'rowwise'),
      ...denseMlpLinears(h, ffn, false),
      lin('modality_router', h, streams, 'mlp', 'replicated', 'altup'),
      lin('linear_left', h, laurel, 'mlp', 'replicated', 'laurel'),
      lin('linear_right', laurel, h, 'mlp', 'replicated', 'laurel'),
      lin('per_layer_input_gate', h, ple, 'mlp', 'replicated', ''),
      lin('per_layer_projection', ple, h, 'mlp', 'replicated', ''),
    ];
    // Model-level projections carried by the first and last layer (see the file comment).
    if (i === 0) linears.push(lin('per_layer_model_projection', h, n * ple, 'mlp', 'replicated', ''), ...[0, 1, 2].map((k) => lin(`altup_projections.${k}`, h, h, 'mlp', 'replicated', '')));
    if (i === n - 1) linears.push(...[0, 1, 2].map((k) => lin(`altup_unembed_projections.${k}`, h, h, 'mlp', 'replicated', '')));
    // 4 layer norms, q/k norms (v_norm has no weight), altup.router_norm, post_laurel_norm, post_per_layer_input_norm.
    const layerNorms = [...norms(4, RMS, h), ...norms(2, RMS, headDim), ...norms(3, RMS, h)];
    // correct_output_scale [h], prediction_coefs n → n², correction_coefs n → n, this layer's slice of the
    // per-layer embedding table; the first layer also carries per_layer_projection_norm.
    const extra = h + streams * streams * streams + streams * streams + plVocab * ple + (i === 0 ? ple : 0);
    return makeLayer({ hiddenSize: h, mixer, ffn, linears, norms: layerNorms, extraParams: extra, parallelResidual: false, checkpointedInputWidth: streams * h + ple, extraSaved });
  };
  const cache = new Map<string, LayerSpec>();
  const layers = Array.from({ length: n }, (_, i) => {
    const layer = build(i);
    const hit = cache.get(layer.signature);
    if (hit) return hit;
    cache.set(layer.signature, layer);
    return layer;
  });
  return {
    id: r.id, modelType: 'gemma3n_text', hiddenSize: h, vocabSize: r.optInt('vocab_size', 262400), tiedEmbeddings: r.optBool('tie_word_embeddings', true),
    learnedPositions: false, maxPositions: r.optInt('max_position_embeddings', 32768), numLayers: n, layers, finalNorm: { ...RMS, width: h },
  };
}
