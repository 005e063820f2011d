/**
 * Llama-style decoder layers with routed experts (transformers modeling_mixtral.py, modeling_qwen2_moe.py,
 * modeling_qwen3_moe.py): the family's attention block, then a sparse MoE block — a router (`gate`, h → E,
 * no bias) choosing `num_experts_per_tok` of the experts, each a SwiGLU MLP — or, in the layers the config
 * keeps dense, an ordinary MLP.
 *
 * - mixtral: every layer sparse; `num_local_experts`, expert width `intermediate_size`.
 * - qwen2_moe: sparse where `(i + 1) % decoder_sparse_step == 0` and i ∉ `mlp_only_layers`, expert width
 *   `moe_intermediate_size`, plus one shared expert of `shared_expert_intermediate_size` with a sigmoid gate
 *   (`shared_expert_gate`, h → 1); dense layers use `intermediate_size`.
 * - qwen3_moe: the same placement rule without shared experts; Qwen3's per-head q/k norms.
 */
import { keyName, type ConfigReader } from '../config-keys.ts';
import { ShardsimError } from '../../util/errors.ts';
import { denseMlpLinears, makeLayer, moeLinears, TRANSFORMERS_MOE } from '../layer.ts';
import type { DenseFfn, LayerSpec, ModelSpec, MoeFfn } from '../types.ts';
import { llamaAttention } from './llama.ts';

export function llamaMoe(r: ConfigReader, modelType: 'mixtral' | 'qwen2_moe' | 'qwen3_moe'): ModelSpec {
  const a = llamaAttention(r, modelType);
  const h = a.hiddenSize;
  const numLayers = r.reqInt('num_hidden_layers');
  const mixtral = modelType === 'mixtral';
  const numExperts = mixtral ? r.optInt('num_local_experts', 8) : r.reqInt('num_experts');
  const topK = r.optInt('num_experts_per_tok', mixtral ? 2 : 4);
  if (topK > numExperts) {
    throw new ShardsimError(`num_experts_per_tok=${topK} exceeds the ${numExperts} experts (config of ${r.id})`, { key: keyName('num_experts_per_tok'), fix: `use at most ${numExperts}` });
  }
  const expertIntermediate = mixtral ? r.reqInt('intermediate_size') : r.reqInt('moe_intermediate_size');
  const sharedIntermediate = modelType === 'qwen2_moe' ? r.optCount('shared_expert_intermediate_size', 0) : 0;
  const step = mixtral ? 1 : r.optInt('decoder_sparse_step', 1);
  const mlpOnly = new Set(Array.isArray(r.cfg.mlp_only_layers) ? (r.cfg.mlp_only_layers as number[]) : []);
  const moe: MoeFfn = { kind: 'moe', numExperts, topK, expertIntermediate, gated: true, sharedIntermediate };
  const names = modelType === 'qwen2_moe'
    ? { ...TRANSFORMERS_MOE, shared: { gate: 'shared_expert.gate_proj', up: 'shared_expert.up_proj', down: 'shared_expert.down_proj' }, sharedGate: 'shared_expert_gate' }
    : TRANSFORMERS_MOE;
  const sparse = makeLayer({
    hiddenSize: h,
    mixer: a.mixer,
    ffn: moe,
    linears: [...a.linears, ...moeLinears(h, moe, { router: false, experts: false, shared: false }, names)],
    norms: a.norms,
    extraParams: 0,
    parallelResidual: false,
  });
  let dense: LayerSpec | undefined;
  const denseLayer = (): LayerSpec => {
    if (dense) return dense;
    const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: true };
    dense = makeLayer({ hiddenSize: h, mixer: a.mixer, ffn, linears: [...a.linears, ...denseMlpLinears(h, ffn, false)], norms: a.norms, extraParams: 0, parallelResidual: false });
    return dense;
  };
  const layers = Array.from({ length: numLayers }, (_, i) => (!mlpOnly.has(i) && (i + 1) % step === 0 ? sparse : denseLayer()));
  return {
    id: r.id,
    modelType,
    hiddenSize: h,
    vocabSize: a.vocabSize,
    tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false,
    maxPositions: a.maxPositions,
    numLayers,
    layers,
    finalNorm: { kind: 'rmsnorm', bias: false, width: h },
  };
}
