/**
 * Forward GEMM shapes and FLOP conventions. A GEMM C[m×n] = A[m×k]·B[k×n] costs 2·m·n·k FLOPs.
 *
 * Tensor parallel (Megatron-LM, Shoeybi et al. 2019): q/k/v and gate/up are column-parallel (each rank
 * owns n/tp output columns, i.e. a/tp heads or I/tp MLP columns); o_proj and down_proj are row-parallel
 * (each rank owns k/tp input rows). So per-rank FLOPs of every layer GEMM are the unsharded FLOPs / tp.
 * When there are fewer KV heads than tp ranks, each rank still holds a whole KV head (replication, as in
 * Megatron/vLLM), hence n = ceil(a_kv/tp)·d for k/v.
 */
import { ShardsimError } from '../util/errors.ts';
import { matmulParams } from './params.ts';
import type { Gemm, ModelSpec } from './types.ts';

export function gemmFlops(g: Gemm): number {
  return 2 * g.m * g.n * g.k;
}

function checkTp(spec: ModelSpec, tp: number): void {
  if (!Number.isInteger(tp) || tp < 1) {
    throw new ShardsimError(`must be a positive integer, got ${tp}`, { key: 'tensor_parallel_size' });
  }
  if (spec.numHeads % tp !== 0 || spec.intermediateSize % tp !== 0) {
    throw new ShardsimError(
      `${tp} must divide the attention heads (${spec.numHeads}) and the MLP width (${spec.intermediateSize}) of ${spec.id}`,
      { key: 'tensor_parallel_size' },
    );
  }
}

/** Forward GEMMs of one decoder layer for `tokens` tokens (m = tokens) on one of `tp` tensor-parallel ranks. */
export function layerGemms(spec: ModelSpec, tokens: number, tp = 1): Gemm[] {
  checkTp(spec, tp);
  const h = spec.hiddenSize;
  const q = (spec.numHeads / tp) * spec.headDim;
  const kv = Math.ceil(spec.numKvHeads / tp) * spec.headDim;
  const I = spec.intermediateSize / tp;
  const gemms: Gemm[] = [
    { name: 'q_proj', m: tokens, k: h, n: q },
    { name: 'k_proj', m: tokens, k: h, n: kv },
    { name: 'v_proj', m: tokens, k: h, n: kv },
    { name: 'o_proj', m: tokens, k: q, n: h },
  ];
  if (spec.mlpKind === 'gated') {
    gemms.push({ name: 'gate_proj', m: tokens, k: h, n: I }, { name: 'up_proj', m: tokens, k: h, n: I });
  } else {
    gemms.push({ name: 'up_proj', m: tokens, k: h, n: I });
  }
  gemms.push({ name: 'down_proj', m: tokens, k: I, n: h });
  return gemms;
}

/** The logits GEMM; vocab-parallel under TP (each rank computes ceil(V/tp) columns, Megatron's VocabParallel). */
export function lmHeadGemm(spec: ModelSpec, tokens: number, tp = 1): Gemm {
  return { name: 'lm_head', m: tokens, k: spec.hiddenSize, n: Math.ceil(spec.vocabSize / tp) };
}

/**
 * Forward FLOPs of the attention core of ONE layer (not GEMM weights): S = Q·Kᵀ is 2·b·s²·a·d and O = P·V is
 * another 2·b·s²·a·d, so 4·b·s²·a·d (GQA shares K/V between heads but every query head still does its own
 * products, so it is a = num query heads). With `causal` only the lower triangle is needed: half, which is what
 * FlashAttention's causal kernels actually execute (up to the diagonal blocks). Under TP each rank has a/tp heads.
 */
export function attentionCoreFlops(
  spec: ModelSpec,
  batch: number,
  seqLen: number,
  opts: { causal: boolean; tp?: number },
): number {
  const heads = spec.numHeads / (opts.tp ?? 1);
  const full = 4 * batch * seqLen * seqLen * heads * spec.headDim;
  return opts.causal ? full / 2 : full;
}

/**
 * "Model FLOPs" per token of one training step (forward + backward), the numerator of MFU:
 *
 *   6 · N_matmul + 12 · L · a · d · s
 *
 * N_matmul = all GEMM weights including the lm_head (even if tied), excluding embedding/position lookups,
 * biases and norms (see params.ts matmulParams). 6 = 2 (forward multiply-add) × 3 (forward + two backward GEMMs,
 * for input and weight gradients). The attention term is 4·s·a·d per token per layer forward (QKᵀ and AV,
 * non-causal) × 3 = 12·L·a·d·s: the PaLM convention (Chowdhery et al. 2022, App. B: 6N + 12·L·H·Q·T), which
 * does not halve for causal masking and ignores activation recomputation (so MFU, not HFU).
 */
export function modelFlopsPerToken(spec: ModelSpec, seqLen: number): number {
  return 6 * matmulParams(spec) + 12 * spec.numLayers * spec.numHeads * spec.headDim * seqLen;
}
