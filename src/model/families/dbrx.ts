/**
 * dbrx (Databricks DBRX; transformers modeling_dbrx.py, config keys from DbrxConfig / the checkpoint's
 * config.json): d_model, n_heads, n_layers, max_seq_len, vocab_size, `attn_config` (kv_n_heads, rope_theta,
 * clip_qkv) and `ffn_config` (ffn_hidden_size, moe_num_experts, moe_top_k).
 *
 * Each block (`transformer.blocks.<i>`): `norm_attn_norm` = LayerNorm without bias (norm_1), attention with a
 * fused `Wqkv` (GQA, no bias) and `out_proj`, LayerNorm without bias (norm_2); then `ffn`: a router
 * (`router.layer`, d → E, no bias, an nn.Linear) choosing `moe_top_k` experts, each a gated-SiLU MLP
 * act(x·w1) * (x·v1) → w2 stored as 3-D parameters (`experts.mlp.w1/v1/w2`). Final `norm_f` LayerNorm without
 * bias; the head is untied.
 *
 * Community "converted" checkpoints (LnL-AI/dbrx-base-converted-v2, used by Axolotl's DBRX examples) split
 * Wqkv into q_proj / k_proj / v_proj and the experts into one nn.Linear per expert (w1, v1, w2) so PEFT and
 * bitsandbytes can reach them (axolotl examples/archived/dbrx/README.md and its lora_target_modules). The
 * catalog marks such a checkpoint with `_converted_layout: true` (its remote code is not in transformers).
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, LinearSpec, ModelSpec, MoeFfn } from '../types.ts';
import { ShardsimError } from '../../util/errors.ts';
import { keyName } from '../config-keys.ts';

export function dbrx(r: ConfigReader): ModelSpec {
  const h = r.reqInt('d_model');
  const numHeads = r.reqInt('n_heads');
  const numLayers = r.reqInt('n_layers');
  const attn = r.optObject('attn_config');
  const ffnCfg = r.optObject('ffn_config');
  const numKvHeads = attn.kv_n_heads === undefined || attn.kv_n_heads === null ? 1 : r.checkInt(attn.kv_n_heads, 'attn_config.kv_n_heads');
  r.checkKvHeads(numHeads, numKvHeads, 'attn_config.kv_n_heads');
  const headDim = r.headDim(h, numHeads, 'd_model', 'n_heads');
  // DbrxFFNConfig defaults: ffn_hidden_size 3584, moe_num_experts 4, moe_top_k 1.
  const ffnHidden = ffnCfg.ffn_hidden_size === undefined ? 3584 : r.checkInt(ffnCfg.ffn_hidden_size, 'ffn_config.ffn_hidden_size');
  const numExperts = ffnCfg.moe_num_experts === undefined ? 4 : r.checkInt(ffnCfg.moe_num_experts, 'ffn_config.moe_num_experts');
  const topK = ffnCfg.moe_top_k === undefined ? 1 : r.checkInt(ffnCfg.moe_top_k, 'ffn_config.moe_top_k');
  if (topK > numExperts) {
    throw new ShardsimError(`ffn_config.moe_top_k=${topK} exceeds the ${numExperts} experts (config of ${r.id})`, { key: keyName('ffn_config.moe_top_k'), fix: `use at most ${numExperts}` });
  }
  const converted = r.cfg._converted_layout === true;
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: headDim, qkNorm: false };
  const moe: MoeFfn = { kind: 'moe', numExperts, topK, expertIntermediate: ffnHidden, gated: true, sharedIntermediate: 0 };
  const experts = { count: numExperts, topK, ...(converted ? { linear: true } : {}) };
  const expert = (name: string, inF: number, outF: number, tp: LinearSpec['tp']): LinearSpec => ({ name: `experts.mlp.${name}`, in: inF, out: outF, bias: false, part: 'mlp', tp, experts });
  const linears: LinearSpec[] = [
    ...attentionLinears(h, mixer, { qkv: false, out: false }, { qkv: converted ? ['q_proj', 'k_proj', 'v_proj'] : 'Wqkv', out: 'out_proj' }),
    { name: 'router.layer', in: h, out: numExperts, bias: false, part: 'mlp', tp: 'replicated', router: true },
    // transformers' DbrxExperts hold w1 and v1 as two tensors (not one fused gate/up).
    expert('w1', h, ffnHidden, 'colwise'),
    expert('v1', h, ffnHidden, 'colwise'),
    expert('w2', ffnHidden, h, 'rowwise'),
  ];
  const ln = { kind: 'layernorm', bias: false } as const;
  const layer = makeLayer({ hiddenSize: h, mixer, ffn: moe, linears, norms: norms(2, ln, h), extraParams: 0, parallelResidual: false });
  return {
    id: r.id,
    modelType: 'dbrx',
    hiddenSize: h,
    vocabSize: r.reqInt('vocab_size'),
    tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false,
    maxPositions: r.optInt('max_seq_len', 2048),
    numLayers,
    layers: Array.from({ length: numLayers }, () => layer),
    finalNorm: { ...ln, width: h },
  };
}
