/**
 * Building blocks for decoder layers: the projections of an attention block and of an MLP, named as the
 * Hugging Face modules are named (so adapters can target them by name), and the layer record with its
 * signature. Family normalisers (src/model/families/) compose these.
 */
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, MoeFfn, NormSpec } from './types.ts';

export interface AttentionNames {
  /** Separate q/k/v projections, or one fused projection (gpt_neox query_key_value, mpt Wqkv, gpt2 c_attn). */
  qkv: readonly [string, string, string] | string;
  out: string;
}

export const LLAMA_ATTENTION: AttentionNames = { qkv: ['q_proj', 'k_proj', 'v_proj'], out: 'o_proj' };

/**
 * The projections of a softmax-attention block: q (a·d), k and v (a_kv·d each; v uses the value head dim),
 * then the output projection back to h. Column-parallel q/k/v, row-parallel output (transformers' tp plans).
 */
export function attentionLinears(h: number, m: AttentionMixer, bias: { qkv: boolean; out: boolean }, names: AttentionNames = LLAMA_ATTENTION): LinearSpec[] {
  const q = m.numHeads * m.headDim;
  const k = m.numKvHeads * m.headDim;
  const v = m.numKvHeads * m.vHeadDim;
  const lin = (name: string, inF: number, outF: number, b: boolean, tp: LinearSpec['tp'], heads?: number): LinearSpec => ({
    name, in: inF, out: outF, bias: b, part: 'attention', tp, ...(heads ? { heads } : {}),
  });
  const out: LinearSpec[] =
    typeof names.qkv === 'string'
      ? [lin(names.qkv, h, q + k + v, bias.qkv, 'colwise', m.numHeads + 2 * m.numKvHeads)]
      : [lin(names.qkv[0], h, q, bias.qkv, 'colwise', m.numHeads), lin(names.qkv[1], h, k, bias.qkv, 'colwise', m.numKvHeads), lin(names.qkv[2], h, v, bias.qkv, 'colwise', m.numKvHeads)];
  out.push(lin(names.out, m.numHeads * m.vHeadDim, h, bias.out, 'rowwise'));
  return out;
}

export interface MlpNames {
  gate?: string;
  up: string;
  down: string;
}

export const LLAMA_MLP: MlpNames = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' };

/** A dense MLP's projections: [gate,] up (h → I, column-parallel), down (I → h, row-parallel). */
export function denseMlpLinears(h: number, f: DenseFfn, bias: boolean, names: MlpNames = LLAMA_MLP): LinearSpec[] {
  const lin = (name: string, inF: number, outF: number, tp: LinearSpec['tp']): LinearSpec => ({ name, in: inF, out: outF, bias, part: 'mlp', tp });
  const out: LinearSpec[] = [];
  if (f.gated) out.push(lin(names.gate ?? 'gate_proj', h, f.intermediate, 'colwise'));
  out.push(lin(names.up, h, f.intermediate, 'colwise'), lin(names.down, f.intermediate, h, 'rowwise'));
  return out;
}

/** A layer record; its signature is its whole structure, so equal layers share costs. */
export function makeLayer(parts: Omit<LayerSpec, 'signature'> & { signature?: string }): LayerSpec {
  const { hiddenSize, mixer, parallelMixer, ffn, linears, norms, extraParams, parallelResidual, checkpointedInputWidth, extraSaved } = parts;
  return {
    hiddenSize, mixer, ...(parallelMixer ? { parallelMixer } : {}), ffn, linears, norms, extraParams, parallelResidual,
    ...(checkpointedInputWidth ? { checkpointedInputWidth } : {}), ...(extraSaved ? { extraSaved } : {}),
    signature: JSON.stringify([hiddenSize, mixer, parallelMixer ?? null, ffn, linears, norms, extraParams, parallelResidual, checkpointedInputWidth ?? null, extraSaved ?? null]),
  };
}

/**
 * Rebuild every layer with `rebuild` (returning the layer itself keeps it) and share the records of equal
 * layers, so that costs computed per signature are computed once.
 */
export function rebuildLayers(layers: readonly LayerSpec[], rebuild: (layer: LayerSpec, i: number) => LayerSpec | Omit<LayerSpec, 'signature'>): LayerSpec[] {
  const cache = new Map<string, LayerSpec>();
  return layers.map((layer, i) => {
    const parts = rebuild(layer, i);
    if (parts === layer) return layer;
    const next = makeLayer(parts);
    const shared = cache.get(next.signature);
    if (shared) return shared;
    cache.set(next.signature, next);
    return next;
  });
}

/** `count` norms of one kind over the hidden size. */
export function norms(count: number, norm: Omit<NormSpec, 'width'>, width: number): NormSpec[] {
  return Array.from({ length: count }, () => ({ ...norm, width }));
}

/** The attention mixer of a layer, or undefined for attention-free layers. */
export function attentionOf(layer: LayerSpec): AttentionMixer | undefined {
  return layer.mixer?.kind === 'attention' ? layer.mixer : undefined;
}

export interface MoeNames {
  router: string;
  /** Routed experts: one fused gate/up projection (transformers 5 `experts.gate_up_proj`) and the down one. */
  gateUp: string;
  down: string;
  /** Shared (always-on) experts' projections. */
  shared?: MlpNames;
  /** Qwen2-MoE's sigmoid gate on the shared expert's output (h → 1). */
  sharedGate?: string;
}

export const TRANSFORMERS_MOE: MoeNames = { router: 'gate', gateUp: 'experts.gate_up_proj', down: 'experts.down_proj', shared: { gate: 'shared_experts.gate_proj', up: 'shared_experts.up_proj', down: 'shared_experts.down_proj' } };

/**
 * The projections of a routed-experts feed-forward in forward order: the router (h → E, replicated under TP),
 * the experts' gate/up (h → 2I, or h → I when not gated) and down (I → h) projections held as 3-D
 * parameters (one matrix per expert), then the shared experts as a dense MLP (and Qwen2-MoE's shared gate).
 */
export function moeLinears(h: number, f: MoeFfn, bias: { router: boolean; experts: boolean; shared: boolean }, names: MoeNames = TRANSFORMERS_MOE): LinearSpec[] {
  const experts = { count: f.numExperts, topK: f.topK, ...(f.denseDispatch ? { computed: f.numExperts } : {}) };
  const out: LinearSpec[] = [
    { name: names.router, in: h, out: f.numExperts, bias: bias.router, part: 'mlp', tp: 'replicated', router: true },
    { name: names.gateUp, in: h, out: (f.gated ? 2 : 1) * f.expertIntermediate, bias: bias.experts, part: 'mlp', tp: 'colwise', experts },
    { name: names.down, in: f.expertIntermediate, out: h, bias: bias.experts, part: 'mlp', tp: 'rowwise', experts },
  ];
  if (f.sharedIntermediate > 0) {
    out.push(...denseMlpLinears(h, { kind: 'dense', intermediate: f.sharedIntermediate, gated: f.gated }, bias.shared, names.shared ?? TRANSFORMERS_MOE.shared!));
    if (names.sharedGate) out.push({ name: names.sharedGate, in: h, out: 1, bias: false, part: 'mlp', tp: 'replicated' });
  }
  return out;
}
