/**
 * Dense decoder families whose layers differ from Llama's only in naming, fusion, biases, norms and where the
 * residual branches join (transformers modeling_<family>.py; config defaults from the *Config classes):
 *
 * - phi (phi-1.5, phi-2): one LayerNorm per layer feeding attention and MLP in parallel; q/k/v/dense and
 *   fc1/fc2 with biases, GELU; partial rotary (partial_rotary_factor); lm_head with a bias.
 * - phi3 (Phi-3, Phi-3.5, phi-4): fused qkv_proj and gate_up_proj, SwiGLU, RMSNorm; Phi-3-mini attends within
 *   `sliding_window`.
 * - gptj: q/k/v/out_proj without biases, fc_in/fc_out with biases, one LayerNorm feeding both branches in
 *   parallel, rotary on `rotary_dim` dims, lm_head with a bias.
 * - falcon (the original 7B/40B): query_key_value fused (multi-query: one K/V head), dense, dense_h_to_4h /
 *   dense_4h_to_h with GELU, one LayerNorm and parallel attention (`parallel_attn`); the 40B/180B
 *   `new_decoder_architecture` has two LayerNorms (ln_attn, ln_mlp) and `num_kv_heads` groups.
 * - stablelm: q/k/v with `use_qkv_bias`, o_proj, SwiGLU, LayerNorms with biases, partial rotary.
 * - starcoder2: q/k/v/o and c_fc/c_proj with biases (`use_bias`), GELU, LayerNorms with biases, sliding window.
 * - olmo2 / olmo3: no pre-norms — RMSNorms after attention and after the MLP, RMSNorm over the whole q and k
 *   projections (q_norm of heads·d, k_norm of kv_heads·d); olmo3 adds sliding-window layers (`layer_types`).
 * - seed_oss: Llama with biases on q/k/v (`attention_bias`) but not on o_proj (`attention_out_bias`).
 * - qwen (Qwen-1, remote code modeling_qwen.py): c_attn fused with bias, c_proj, and an MLP of w1, w2
 *   (h → intermediate_size / 2 each) and c_proj; RMSNorm.
 * - nemotron (Nemotron-3/4, Minitron): LayerNorm1P (weight and bias), partial rotary, up/down with squared ReLU.
 * - arcee (AFM): Llama with an up/down MLP and squared ReLU.
 * - apertus: Llama with per-head q/k RMSNorms and an up/down MLP with xIELU (whose α and β are learnable
 *   scalars: 2 per layer... counted as extra parameters).
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, ModelSpec, NormSpec } from '../types.ts';

interface DenseShape {
  h: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
}

function shape(r: ConfigReader, keys = { h: 'hidden_size', layers: 'num_hidden_layers', heads: 'num_attention_heads', kv: 'num_key_value_heads' }): DenseShape {
  const h = r.reqInt(keys.h);
  const numHeads = r.reqInt(keys.heads);
  const numKvHeads = r.optInt(keys.kv, numHeads);
  r.checkKvHeads(numHeads, numKvHeads, keys.kv);
  return { h, numLayers: r.reqInt(keys.layers), numHeads, numKvHeads, headDim: r.headDim(h, numHeads, keys.h, keys.heads), vocabSize: r.reqInt('vocab_size') };
}

function model(r: ConfigReader, modelType: string, d: DenseShape, layers: LayerSpec[], finalNorm: NormSpec, extra: Partial<ModelSpec> = {}, tiedDefault = false): ModelSpec {
  return {
    id: r.id,
    modelType,
    hiddenSize: d.h,
    vocabSize: d.vocabSize,
    tiedEmbeddings: r.optBool('tie_word_embeddings', tiedDefault),
    learnedPositions: false,
    maxPositions: r.optInt('max_position_embeddings', r.optInt('n_positions', 2048)),
    numLayers: layers.length,
    layers,
    finalNorm,
    ...extra,
  };
}

const RMS = { kind: 'rmsnorm', bias: false } as const;
const LN = { kind: 'layernorm', bias: true } as const;

function mixer(d: DenseShape, o: Partial<AttentionMixer> = {}): AttentionMixer {
  return { kind: 'attention', numHeads: d.numHeads, numKvHeads: d.numKvHeads, headDim: d.headDim, vHeadDim: d.headDim, rotaryDims: d.headDim, qkNorm: false, ...o };
}

function uniform(n: number, layer: LayerSpec): LayerSpec[] {
  return Array.from({ length: n }, () => layer);
}

export function phi(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const m = mixer(d, { rotaryDims: Math.floor(d.headDim * r.optNumber('partial_rotary_factor', 0.5)), qkNorm: r.optBool('qk_layernorm', false) });
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: false };
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: true, out: true }, { qkv: ['q_proj', 'k_proj', 'v_proj'], out: 'dense' }), ...denseMlpLinears(d.h, ffn, true, { up: 'fc1', down: 'fc2' })],
    norms: [...norms(1, LN, d.h), ...(m.qkNorm ? [{ ...LN, width: d.headDim }, { ...LN, width: d.headDim }] : [])],
    extraParams: 0, parallelResidual: true,
  });
  return model(r, 'phi', d, uniform(d.numLayers, layer), { ...LN, width: d.h }, { lmHeadBias: true });
}

export function phi3(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const window = r.has('sliding_window') ? r.checkInt(r.cfg.sliding_window, 'sliding_window') : undefined;
  const m = mixer(d, { rotaryDims: Math.floor(d.headDim * r.optNumber('partial_rotary_factor', 1)), ...(window ? { window } : {}) });
  const I = r.reqInt('intermediate_size');
  const bias = r.optBool('attention_bias', false);
  const linears: LinearSpec[] = [
    ...attentionLinears(d.h, m, { qkv: bias, out: bias }, { qkv: 'qkv_proj', out: 'o_proj' }),
    { name: 'gate_up_proj', in: d.h, out: 2 * I, bias: false, part: 'mlp', tp: 'colwise' },
    { name: 'down_proj', in: I, out: d.h, bias: false, part: 'mlp', tp: 'rowwise' },
  ];
  const layer = makeLayer({ hiddenSize: d.h, mixer: m, ffn: { kind: 'dense', intermediate: I, gated: true }, linears, norms: norms(2, RMS, d.h), extraParams: 0, parallelResidual: false });
  return model(r, 'phi3', d, uniform(d.numLayers, layer), { ...RMS, width: d.h });
}

export function gptj(r: ConfigReader): ModelSpec {
  const d = shape(r, { h: 'n_embd', layers: 'n_layer', heads: 'n_head', kv: 'n_head' });
  const m = mixer(d, { rotaryDims: r.optInt('rotary_dim', d.headDim) });
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.optInt('n_inner', 4 * d.h), gated: false };
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: false, out: false }, { qkv: ['q_proj', 'k_proj', 'v_proj'], out: 'out_proj' }), ...denseMlpLinears(d.h, ffn, true, { up: 'fc_in', down: 'fc_out' })],
    norms: norms(1, LN, d.h), extraParams: 0, parallelResidual: true,
  });
  return model(r, 'gptj', d, uniform(d.numLayers, layer), { ...LN, width: d.h }, { lmHeadBias: true });
}

export function falcon(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const numHeads = r.reqInt('num_attention_heads');
  const newArch = r.optBool('new_decoder_architecture', false);
  const numKvHeads = newArch ? r.optInt('num_kv_heads', numHeads) : r.optBool('multi_query', true) ? 1 : numHeads;
  const d: DenseShape = { h, numLayers: r.reqInt('num_hidden_layers'), numHeads, numKvHeads, headDim: r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads'), vocabSize: r.reqInt('vocab_size') };
  const m = mixer(d, { rotaryDims: r.optBool('alibi', false) ? 0 : d.headDim });
  const bias = r.optBool('bias', false);
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.optInt('ffn_hidden_size', 4 * h), gated: false };
  const parallel = newArch || r.optBool('parallel_attn', true);
  const layer = makeLayer({
    hiddenSize: h, mixer: m, ffn,
    linears: [...attentionLinears(h, m, { qkv: bias, out: bias }, { qkv: 'query_key_value', out: 'dense' }), ...denseMlpLinears(h, ffn, bias, { up: 'dense_h_to_4h', down: 'dense_4h_to_h' })],
    norms: norms(newArch || !parallel ? 2 : 1, LN, h), extraParams: 0, parallelResidual: parallel,
  });
  return model(r, 'falcon', d, uniform(d.numLayers, layer), { ...LN, width: h }, {}, true);
}

export function stablelm(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const m = mixer(d, { rotaryDims: Math.floor(d.headDim * r.optNumber('partial_rotary_factor', 0.25)), qkNorm: r.optBool('qk_layernorm', false) });
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
  const parallel = r.optBool('use_parallel_residual', false);
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: r.optBool('use_qkv_bias', false), out: false }), ...denseMlpLinears(d.h, ffn, false)],
    norms: [...norms(parallel ? 1 : 2, LN, d.h), ...(m.qkNorm ? norms(d.numHeads + d.numKvHeads, { kind: 'layernorm', bias: false }, d.headDim) : [])],
    extraParams: 0, parallelResidual: parallel,
  });
  return model(r, 'stablelm', d, uniform(d.numLayers, layer), { ...LN, width: d.h });
}

export function starcoder2(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const bias = r.optBool('use_bias', true);
  const window = r.has('sliding_window') ? r.checkInt(r.cfg.sliding_window, 'sliding_window') : undefined;
  const m = mixer(d, window ? { window } : {});
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: false };
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: bias, out: bias }), ...denseMlpLinears(d.h, ffn, bias, { up: 'c_fc', down: 'c_proj' })],
    norms: norms(2, LN, d.h), extraParams: 0, parallelResidual: false,
  });
  return model(r, 'starcoder2', d, uniform(d.numLayers, layer), { ...LN, width: d.h }, {}, true);
}

export function olmo(r: ConfigReader, modelType: 'olmo2' | 'olmo3'): ModelSpec {
  const d = shape(r);
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
  const bias = r.optBool('attention_bias', false);
  const window = r.optInt('sliding_window', 4096);
  const types = Array.isArray(r.cfg.layer_types) ? (r.cfg.layer_types as unknown[]) : undefined;
  const build = (sliding: boolean): LayerSpec => {
    const m = mixer(d, { qkNorm: true, ...(sliding ? { window } : {}) });
    return makeLayer({
      hiddenSize: d.h, mixer: m, ffn,
      linears: [...attentionLinears(d.h, m, { qkv: bias, out: bias }), ...denseMlpLinears(d.h, ffn, false)],
      // post_attention_layernorm and post_feedforward_layernorm, plus q_norm / k_norm over the whole projections.
      norms: [...norms(2, RMS, d.h), { ...RMS, width: d.numHeads * d.headDim }, { ...RMS, width: d.numKvHeads * d.headDim }],
      extraParams: 0, parallelResidual: false,
    });
  };
  const local = build(true);
  const global = build(false);
  // OLMo 3: three sliding-window layers for every full-attention one, unless layer_types says otherwise.
  const sliding = (i: number) => modelType === 'olmo3' && (types && types.length === d.numLayers ? types[i] === 'sliding_attention' : (i + 1) % 4 !== 0);
  return model(r, modelType, d, Array.from({ length: d.numLayers }, (_, i) => (sliding(i) ? local : global)), { ...RMS, width: d.h });
}

export function seedOss(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const m = mixer(d);
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: r.optBool('attention_bias', true), out: r.optBool('attention_out_bias', false) }), ...denseMlpLinears(d.h, ffn, r.optBool('mlp_bias', false))],
    norms: norms(2, RMS, d.h), extraParams: 0, parallelResidual: false,
  });
  return model(r, 'seed_oss', d, uniform(d.numLayers, layer), { ...RMS, width: d.h });
}

export function qwen1(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const m = mixer(d, { rotaryDims: Math.floor(d.headDim * r.optNumber('rotary_pct', 1)) });
  const ff = r.reqInt('intermediate_size') / 2;
  const linears: LinearSpec[] = [
    ...attentionLinears(d.h, m, { qkv: true, out: !r.optBool('no_bias', true) }, { qkv: 'c_attn', out: 'c_proj' }),
    { name: 'w1', in: d.h, out: ff, bias: false, part: 'mlp', tp: 'colwise' },
    { name: 'w2', in: d.h, out: ff, bias: false, part: 'mlp', tp: 'colwise' },
    { name: 'c_proj', in: ff, out: d.h, bias: false, part: 'mlp', tp: 'rowwise' },
  ];
  const layer = makeLayer({ hiddenSize: d.h, mixer: m, ffn: { kind: 'dense', intermediate: ff, gated: true }, linears, norms: norms(2, RMS, d.h), extraParams: 0, parallelResidual: false });
  return model(r, 'qwen', d, uniform(d.numLayers, layer), { ...RMS, width: d.h });
}

export function nemotron(r: ConfigReader): ModelSpec {
  const d = shape(r);
  const m = mixer(d, { rotaryDims: Math.floor(d.headDim * r.optNumber('partial_rotary_factor', 0.5)) });
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: false };
  const ab = r.optBool('attention_bias', false);
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: ab, out: ab }), ...denseMlpLinears(d.h, ffn, r.optBool('mlp_bias', false), { up: 'up_proj', down: 'down_proj' })],
    norms: norms(2, LN, d.h), extraParams: 0, parallelResidual: false,
  });
  return model(r, 'nemotron', d, uniform(d.numLayers, layer), { ...LN, width: d.h });
}

/** arcee / apertus: Llama attention with an up/down MLP (squared ReLU / xIELU); apertus adds q/k norms and xIELU's scalars. */
export function llamaUpDown(r: ConfigReader, modelType: 'arcee' | 'apertus'): ModelSpec {
  const d = shape(r);
  const qkNorm = modelType === 'apertus' && r.optBool('qk_norm', true);
  const m = mixer(d, { qkNorm });
  const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: false };
  const ab = r.optBool('attention_bias', false);
  const layer = makeLayer({
    hiddenSize: d.h, mixer: m, ffn,
    linears: [...attentionLinears(d.h, m, { qkv: ab, out: ab }), ...denseMlpLinears(d.h, ffn, r.optBool('mlp_bias', false))],
    norms: [...norms(2, RMS, d.h), ...(qkNorm ? norms(2, RMS, d.headDim) : [])],
    // xIELU keeps alpha_p, alpha_n (learnable) per MLP; beta and eps are buffers.
    extraParams: modelType === 'apertus' ? 2 : 0,
    parallelResidual: false,
  });
  return model(r, modelType, d, uniform(d.numLayers, layer), { ...RMS, width: d.h });
}
