/**
 * Forward GEMM shapes and FLOP conventions. A GEMM C[m×n] = A[m×k]·B[k×n] costs 2·m·n·k FLOPs.
 *
 * Tensor parallel (Megatron-LM, Shoeybi et al. 2019): column-parallel projections (q/k/v, gate/up) own
 * n/tp output columns, row-parallel ones (o_proj, down_proj) k/tp input rows, so per-rank FLOPs of every
 * sharded GEMM are the unsharded FLOPs / tp. Outputs made of attention heads split by whole heads: with fewer
 * KV heads than tp ranks each rank still holds a whole KV head (replication, as in Megatron/vLLM), hence
 * n = ceil(a_kv/tp)·d for k/v. Replicated projections (routers, small low-rank ones) are not split.
 */
import { ShardsimError } from '../util/errors.ts';
import { headWidth, matmulParams } from './params.ts';
import type { AttentionMixer, Gemm, LayerSpec, LinearSpec, ModelSpec } from './types.ts';

export function gemmFlops(g: Gemm): number {
  return 2 * g.m * g.n * g.k;
}

function checkTp(layer: LayerSpec, tp: number): void {
  if (!Number.isInteger(tp) || tp < 1) {
    throw new ShardsimError(`must be a positive integer, got ${tp}`, { key: 'tensor_parallel_size' });
  }
  if (tp === 1) return;
  const heads = layer.mixer?.kind === 'attention' ? layer.mixer.numHeads : undefined;
  const bad = layer.linears.find((l) => l.tp !== 'replicated' && !l.heads && (l.tp === 'colwise' ? l.out : l.in) % tp !== 0);
  if ((heads !== undefined && heads % tp !== 0) || bad) {
    const what = heads !== undefined && heads % tp !== 0 ? `the attention heads (${heads})` : `${bad!.name}'s ${bad!.tp === 'colwise' ? 'output' : 'input'} width (${bad!.tp === 'colwise' ? bad!.out : bad!.in})`;
    throw new ShardsimError(`${tp} must divide ${what}`, { key: 'tensor_parallel_size' });
  }
}

/** Output (colwise) or input (rowwise) features of one projection on one of `tp` ranks. */
export function shardedLinear(l: LinearSpec, tp: number): { in: number; out: number } {
  if (tp === 1 || l.tp === 'replicated') return { in: l.in, out: l.out };
  if (l.tp === 'rowwise') return { in: l.in / tp, out: l.out };
  if (l.heads) return { in: l.in, out: Math.ceil(l.heads / tp) * (l.out / l.heads) };
  return { in: l.in, out: l.out / tp };
}

/**
 * Forward GEMMs of one decoder layer for `tokens` tokens (m = tokens) on one of `tp` tensor-parallel ranks,
 * in forward order. Routed experts are one grouped GEMM per projection: its rows are the tokens routed to
 * the experts (tokens·topK in all, tokens·experts under dense dispatch); `experts` carries how many expert
 * matrices share them.
 */
export function layerGemms(layer: LayerSpec, tokens: number, tp = 1): (Gemm & { experts?: number })[] {
  checkTp(layer, tp);
  return layer.linears.map((l) => {
    const s = shardedLinear(l, tp);
    const m = l.experts ? tokens * (l.experts.computed ?? l.experts.topK) : tokens;
    return { name: l.name, m, k: s.in, n: s.out, ...(l.experts ? { experts: l.experts.count } : {}) };
  });
}

/** The logits GEMM; vocab-parallel under TP (each rank computes ceil(V/tp) columns, Megatron's VocabParallel). */
export function lmHeadGemm(spec: ModelSpec, tokens: number, tp = 1): Gemm {
  return { name: 'lm_head', m: tokens, k: spec.hiddenSize, n: Math.ceil(headWidth(spec) / tp) };
}

/**
 * Forward FLOPs of the attention core of ONE layer (not GEMM weights): S = Q·Kᵀ is 2·b·s²·a·d and O = P·V is
 * another 2·b·s²·a·d_v, so 2·b·s²·a·(d + d_v) (GQA shares K/V between heads but every query head still does
 * its own products, so it is a = num query heads). With `causal` only the lower triangle is needed: half, which
 * is what FlashAttention's causal kernels actually execute (up to the diagonal blocks). Under TP each rank has
 * a/tp heads.
 */
export function attentionCoreFlops(
  mixer: AttentionMixer,
  batch: number,
  seqLen: number,
  opts: { causal: boolean; tp?: number },
): number {
  const heads = mixer.numHeads / (opts.tp ?? 1);
  const full = 2 * batch * seqLen * seqLen * heads * (mixer.headDim + mixer.vHeadDim);
  return opts.causal ? full / 2 : full;
}

/**
 * "Model FLOPs" per token of one training step (forward + backward), the numerator of MFU:
 *
 *   6 · N_matmul + 6 · Σ_layers a · (d + d_v) · s      (= 12·L·a·d·s for uniform d = d_v)
 *
 * N_matmul = all GEMM weights a token multiplies (top-k experts only) including the lm_head (even if tied),
 * excluding embedding/position lookups, biases and norms (see params.ts matmulParams). 6 = 2 (forward
 * multiply-add) × 3 (forward + two backward GEMMs, for input and weight gradients). The attention term is the
 * PaLM convention (Chowdhery et al. 2022, App. B: 6N + 12·L·H·Q·T), which does not halve for causal masking
 * and ignores activation recomputation (so MFU, not HFU).
 *
 * A frozen weight (PEFT's base, a frozen lm_head) needs no weight gradient, so it counts 4 instead of 6
 * (autograd skips the GEMM: derivatives.yaml `mm`); LoRA adapters count 6 per adapter parameter. Without
 * PEFT this is the PaLM count.
 *
 * Per trainer (src/config/trainer.ts), counting what it computes: the head matmul is h × num_labels for a
 * classification (`score`) head, and the preference trainers add `noGradForwards` forward-only passes per
 * trained token (DPO / IPO: the reference forward over the same chosen + rejected rows; KTO: the policy's KL
 * forward and the reference's two). The chosen + rejected rows themselves are in the token count.
 */
export function modelFlopsPerToken(spec: ModelSpec, seqLen: number, noGradForwards = 0): number {
  return trainedFlopsPerToken(spec, seqLen) + noGradForwards * forwardFlopsPerToken(spec, seqLen);
}

/**
 * Forward FLOPs per token of one no-grad pass of the whole model (the preference trainers' reference and KL
 * forwards, src/config/trainer.ts): a third of the PaLM count, 2 · N_matmul + 2 · Σ_layers a · (d + d_v) · s.
 * The adapters are left out (a reference forward runs with them disabled; KTO's policy KL forward runs them,
 * r·(in + out) per projection, a fraction of a percent).
 */
export function forwardFlopsPerToken(spec: ModelSpec, seqLen: number): number {
  let attention = 0;
  for (const layer of spec.layers) {
    if (layer.mixer?.kind === 'attention') attention += 2 * layer.mixer.numHeads * (layer.mixer.headDim + layer.mixer.vHeadDim) * seqLen;
  }
  return 2 * matmulParams(spec) + attention;
}

/**
 * Model FLOPs of one strided EBFT micro-batch (src/config/ebft.ts `ebftStridedPasses`), pass by pass in the
 * convention above (attention over each pass's row length, not halved for its mask): the G generation
 * forwards and the feature forward forward-only over every row's tokens (each computes logits everywhere);
 * the trained forward + backward over the rows' L tokens, with lm_head over the positions it runs on a row
 * (`headTokens`: the R log-prob positions row by row under PEFT, all L in the batched fallback).
 */
export function ebftStridedModelFlops(
  spec: ModelSpec,
  passes: { generation: { rows: number; rowTokens: number }[]; trained: { rows: number; rowTokens: number; headTokens: number }; feature: { rows: number; rowTokens: number } },
): number {
  let flops = 0;
  for (const g of passes.generation) flops += g.rows * g.rowTokens * forwardFlopsPerToken(spec, g.rowTokens);
  const f = passes.feature;
  flops += f.rows * f.rowTokens * forwardFlopsPerToken(spec, f.rowTokens);
  const t = passes.trained;
  const head = headTrainedFlopsPerToken(spec);
  flops += t.rows * (t.rowTokens * (trainedFlopsPerToken(spec, t.rowTokens) - head) + t.headTokens * head);
  return flops;
}

/** The lm_head's share of `trainedFlopsPerToken`: 6·V·h, or 4·V·h when it is frozen (PEFT without a trainable copy). */
function headTrainedFlopsPerToken(spec: ModelSpec): number {
  const vh = headWidth(spec) * spec.hiddenSize;
  if (!spec.peft) return 6 * vh;
  const inPlace = spec.peft.trainsInPlace;
  return spec.peft.trainableCopies.lmHead || inPlace?.lmHead || (spec.tiedEmbeddings && (spec.peft.trainableCopies.embedding || inPlace?.embedding)) ? 6 * vh : 4 * vh;
}

function trainedFlopsPerToken(spec: ModelSpec, seqLen: number): number {
  let attention = 0;
  for (const layer of spec.layers) {
    if (layer.mixer?.kind === 'attention') attention += 6 * layer.mixer.numHeads * (layer.mixer.headDim + layer.mixer.vHeadDim) * seqLen;
  }
  if (!spec.peft) return 6 * matmulParams(spec) + attention;
  const inPlace = spec.peft.trainsInPlace;
  let frozen = spec.peft.trainableCopies.lmHead || inPlace?.lmHead || (spec.tiedEmbeddings && (spec.peft.trainableCopies.embedding || inPlace?.embedding)) ? 0 : headWidth(spec) * spec.hiddenSize;
  let adapters = 0;
  for (const layer of spec.layers) {
    for (const l of layer.linears) {
      const visits = l.experts?.topK ?? 1;
      if (l.frozen) frozen += visits * l.in * l.out;
      if (l.lora) adapters += visits * (l.lora.r * (l.in + l.out));
    }
  }
  return 6 * (matmulParams(spec) - frozen) + 4 * frozen + 6 * adapters + attention;
}
