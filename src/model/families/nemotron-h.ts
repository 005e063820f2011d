/**
 * nemotron_h (NVIDIA Nemotron-H and Nemotron-3; transformers modeling_nemotron_h.py): a stack of single-purpose
 * blocks named by `hybrid_override_pattern`, one character per layer — 'M' a Mamba-2 mixer, '*' attention,
 * '-' an MLP, 'E' a mixture of experts — each with one RMSNorm before it and a residual after it.
 *
 * - Mamba-2 (NemotronHMamba2Mixer): d_inner = mamba_num_heads × mamba_head_dim; in_proj h → 2·d_inner +
 *   2·n_groups·ssm_state_size + heads (z, x, B, C, dt), a depthwise conv1d of conv_kernel over the x, B, C
 *   channels (bias use_conv_bias), A_log, D, dt_bias per head, a gated RMSNorm over d_inner, out_proj back.
 * - Attention: q/k/v/o with `head_dim`, no positional embedding inside the attention (Nemotron-H relies on the
 *   Mamba layers for position).
 * - MLP: up / down with squared ReLU (`mlp_hidden_act: relu2`), not gated.
 * - MoE: a router (h → n_routed_experts, with an expert-score correction bias), experts of
 *   moe_intermediate_size (up / down, relu2), `num_experts_per_tok` of them per token, and a shared expert of
 *   moe_shared_expert_intermediate_size. With `moe_latent_size` (Nemotron 3 Super) the routed experts run in
 *   that latent width between fc1_latent_proj (h → latent) and fc2_latent_proj (latent → h).
 */
import { ShardsimError } from '../../util/errors.ts';
import { keyName, type ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, moeLinears, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, LayerSpec, LinearSpec, Mamba2Mixer, ModelSpec, MoeFfn } from '../types.ts';

export function nemotronH(r: ConfigReader): ModelSpec {
  const h = r.reqInt('hidden_size');
  const numLayers = r.reqInt('num_hidden_layers');
  const pattern = r.optString('hybrid_override_pattern', '');
  if (pattern.length !== numLayers) {
    throw new ShardsimError(`hybrid_override_pattern has ${pattern.length} characters for ${numLayers} layers (config of ${r.id})`, { key: keyName('hybrid_override_pattern'), fix: 'one character (M, *, -, E) per layer' });
  }
  const rms = { kind: 'rmsnorm', bias: false } as const;
  const blockNorm = norms(1, rms, h);
  const bias = r.optBool('use_bias', false);
  const cache = new Map<string, LayerSpec>();
  const build = (c: string): LayerSpec => {
    const hit = cache.get(c);
    if (hit) return hit;
    let layer: LayerSpec;
    if (c === 'M') {
      const nHeads = r.reqInt('mamba_num_heads');
      const headDim = r.reqInt('mamba_head_dim');
      const dState = r.reqInt('ssm_state_size');
      const nGroups = r.optInt('n_groups', 1);
      const convKernel = r.optInt('conv_kernel', 4);
      const dInner = nHeads * headDim;
      const convDim = dInner + 2 * nGroups * dState;
      const mixer: Mamba2Mixer = { kind: 'mamba2', nHeads, headDim, dState, nGroups, convKernel, chunk: r.optInt('chunk_size', 128) };
      const linears: LinearSpec[] = [
        { name: 'in_proj', in: h, out: 2 * dInner + 2 * nGroups * dState + nHeads, bias, part: 'attention', tp: 'colwise' },
        { name: 'out_proj', in: dInner, out: h, bias, part: 'attention', tp: 'rowwise' },
      ];
      const conv = convDim * convKernel + (r.optBool('use_conv_bias', true) ? convDim : 0);
      layer = makeLayer({ hiddenSize: h, mixer, ffn: null, linears, norms: [...blockNorm, { ...rms, width: dInner }], extraParams: conv + 3 * nHeads, parallelResidual: false });
    } else if (c === '*') {
      const numHeads = r.reqInt('num_attention_heads');
      const numKvHeads = r.optInt('num_key_value_heads', numHeads);
      r.checkKvHeads(numHeads, numKvHeads, 'num_key_value_heads');
      const headDim = r.headDim(h, numHeads, 'hidden_size', 'num_attention_heads');
      const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: 0, qkNorm: false };
      const ab = r.optBool('attention_bias', false);
      layer = makeLayer({ hiddenSize: h, mixer, ffn: null, linears: attentionLinears(h, mixer, { qkv: ab, out: ab }), norms: blockNorm, extraParams: 0, parallelResidual: false });
    } else if (c === '-') {
      const ffn: DenseFfn = { kind: 'dense', intermediate: r.reqInt('intermediate_size'), gated: false };
      layer = makeLayer({ hiddenSize: h, mixer: null, ffn, linears: denseMlpLinears(h, ffn, r.optBool('mlp_bias', false)), norms: blockNorm, extraParams: 0, parallelResidual: false });
    } else if (c === 'E') {
      const numExperts = r.reqInt('n_routed_experts');
      const ffn: MoeFfn = {
        kind: 'moe', numExperts, topK: r.reqInt('num_experts_per_tok'), expertIntermediate: r.reqInt('moe_intermediate_size'), gated: false,
        sharedIntermediate: r.optCount('n_shared_experts', 0) * r.optCount('moe_shared_expert_intermediate_size', 0),
      };
      const mlpBias = r.optBool('mlp_bias', false);
      let linears = moeLinears(h, ffn, { router: false, experts: mlpBias, shared: mlpBias });
      if (r.has('moe_latent_size')) {
        // Latent MoE (Nemotron 3 Super, NemotronHMoE with moe_latent_size): the router reads h, the routed experts
        // run in a latent width — fc1_latent_proj h → latent before them, fc2_latent_proj latent → h after — and
        // the shared expert stays at h.
        const latent = r.reqInt('moe_latent_size');
        const lat = (name: string, inF: number, outF: number, tp: LinearSpec['tp']): LinearSpec => ({ name, in: inF, out: outF, bias: mlpBias, part: 'mlp', tp });
        const [router, up, down, ...shared] = moeLinears(latent, ffn, { router: false, experts: mlpBias, shared: mlpBias });
        const sharedAtH = moeLinears(h, ffn, { router: false, experts: mlpBias, shared: mlpBias }).slice(3);
        linears = [{ ...router!, in: h }, lat('fc1_latent_proj', h, latent, 'replicated'), up!, down!, lat('fc2_latent_proj', latent, h, 'replicated'), ...(shared.length > 0 ? sharedAtH : [])];
      }
      // The router's expert-score correction bias (e_score_correction_bias) is one value per expert.
      layer = makeLayer({ hiddenSize: h, mixer: null, ffn, linears, norms: blockNorm, extraParams: numExperts, parallelResidual: false });
    } else {
      throw new ShardsimError(`unknown block "${c}" in hybrid_override_pattern (config of ${r.id})`, { key: keyName('hybrid_override_pattern'), fix: 'use M (Mamba-2), * (attention), - (MLP) or E (MoE)' });
    }
    cache.set(c, layer);
    return layer;
  };
  return {
    id: r.id,
    modelType: 'nemotron_h',
    hiddenSize: h,
    vocabSize: r.reqInt('vocab_size'),
    tiedEmbeddings: r.optBool('tie_word_embeddings', false),
    learnedPositions: false,
    maxPositions: r.optInt('max_position_embeddings', 4096),
    numLayers,
    layers: [...pattern].map(build),
    finalNorm: { ...rms, width: h },
  };
}
