/**
 * Kernel time of the head (final norm, lm_head, loss) by loss implementation (src/config/kernels.ts):
 *
 * - 'hf' / 'chunked': the logits GEMM, then the loss over fp32 logits — upcast, log-softmax, gather and
 *   their gradients: about five passes over the b·s·V fp32 logits forward and three backward; then the
 *   lm_head backward GEMMs.
 * - 'liger_ce': Liger's cross-entropy kernel reads the 16-bit logits once and writes their gradient in place
 *   in forward; backward scales it and runs the lm_head backward GEMMs.
 * - 'liger_flce': the lm_head matmul, the loss kernel and both backward GEMMs all run chunk by chunk inside
 *   forward (ops/fused_linear_cross_entropy.py); backward only scales the stored input gradient.
 * - 'cce': Cut Cross-Entropy's fused kernels compute the logit blocks on chip: forward one logits GEMM's
 *   work, backward recomputes them and runs both gradient GEMMs — no b·s·V tensor touches HBM.
 */
import { gemmBackwardSeconds, gemmSeconds, memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import type { KernelChoices } from '../config/kernels.ts';
import type { Gemm } from '../model/types.ts';
import type { Dtype } from '../util/dtype.ts';

export function headSeconds(
  k: KernelChoices,
  head: Gemm,
  c: { tokens: number; hidden: number; vocab: number; bytesPerElement: number; weightGrad: boolean },
  gpu: GpuSpec,
  dtype: Dtype,
): { forward: number; backward: number } {
  const p = c.bytesPerElement;
  const E = c.tokens * c.vocab;
  const norm = memoryBoundSeconds(4 * c.tokens * c.hidden * p, gpu, 1);
  const logits = gemmSeconds(head, gpu, dtype);
  const dgrad = gemmSeconds({ name: 'lm_head.dgrad', m: head.m, n: head.k, k: head.n }, gpu, dtype);
  const backwardGemms = c.weightGrad ? gemmBackwardSeconds(head, gpu, dtype) : dgrad;
  switch (k.loss) {
    case 'hf':
    case 'chunked':
      return {
        forward: norm + logits + memoryBoundSeconds(E * (p + 5 * 4), gpu, 5),
        backward: norm + backwardGemms + memoryBoundSeconds(E * (p + 3 * 4), gpu, 4),
      };
    case 'liger_ce':
      return { forward: norm + logits + memoryBoundSeconds(2 * E * p, gpu, 1), backward: norm + backwardGemms + memoryBoundSeconds(2 * E * p, gpu, 1) };
    case 'liger_flce':
      return {
        forward: norm + logits + memoryBoundSeconds(2 * E * p, gpu, 1) + backwardGemms,
        backward: norm + memoryBoundSeconds(2 * c.tokens * c.hidden * p + (c.weightGrad ? 2 * c.vocab * c.hidden * p : 0), gpu, 2),
      };
    case 'cce':
      return { forward: norm + logits, backward: norm + logits + backwardGemms };
  }
}
