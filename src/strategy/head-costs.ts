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
 *
 * The trainer's head (src/config/trainer.ts `trainerHead`) comes first: the preference trainers call the
 * model without labels, so no fused loss runs, and take per-token log-probabilities from the 16-bit logits
 * with TRL's `selective_log_softmax` (trl/trainer/utils.py: a loop over rows, `log_softmax` then `gather`):
 * forward reads and writes the logits once per row (2 kernels a row); backward scatters each row's gradient
 * into zeros, runs log_softmax's backward (reads the gradient and the saved output, writes the input
 * gradient), stacks the rows (unbind's backward) and copies into the full logits gradient (the shift slice's
 * backward): about eight passes over b·s·V 16-bit elements. ORPO / CPO add the chosen half's cross-entropy
 * (a `.contiguous()` copy, log_softmax and NLL over half the logits: two passes forward, three backward).
 * Classification heads (`score`) run transformers' loss over b·s·num_labels logits.
 *
 * - 'diffusion-masked-ce' (axolotl integrations/diffusion/trainer.py `_compute_diffusion_loss`): the logits
 *   GEMM over every token, `shift_logits_to_input_positions` (a `torch.cat` copy of the logits), then over the
 *   masked positions only (a fraction m of the tokens): the advanced-index gather, `.float()`,
 *   `F.cross_entropy` (log_softmax + NLL) and the accuracy's argmax. Backward: NLL's and log_softmax's fp32
 *   gradients and the cast back over the masked rows, then index's backward (zeros of the whole logits and an
 *   index_put), the two slices' backward of the shift (zeros + copy each) and their sum: 2·E·p + m·E·(4p + 12)
 *   bytes forward, m·E·(2p + 20) + 8·E·p backward.
 * - 'ebft-log-probs' (axolotl core/trainers/ebft/strided.py compute_loss): lm_head over `tokens` positions
 *   (the log-prob positions row by row, every position in the batched fallback), then over the E = lossTokens·V
 *   log-prob logits, 256 positions at a time, `log_softmax(logits.float())` and a gather: E·(p + 12) bytes
 *   forward (the cast, log_softmax's read-reduce-write), and backward gather's fp32 zeros + scatter,
 *   log_softmax's backward and the cast back, E·(p + 20), three and four kernels a chunk; when lm_head ran on
 *   more positions than the loss reads, the slices' backward writes zeros of the whole logits and copies in.
 */
import { gemmBackwardSeconds, gemmSeconds, memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import type { KernelChoices } from '../config/kernels.ts';
import type { TrainerHead } from '../config/trainer.ts';
import { EBFT_HEAD_CHUNK_TOKENS } from '../config/ebft.ts';
import type { Gemm } from '../model/types.ts';
import type { Dtype } from '../util/dtype.ts';

export function headSeconds(
  k: KernelChoices,
  head: Gemm,
  c: { tokens: number; hidden: number; vocab: number; bytesPerElement: number; weightGrad: boolean; trainerHead?: TrainerHead; rows?: number; maskedFraction?: number; lossTokens?: number },
  gpu: GpuSpec,
  dtype: Dtype,
): { forward: number; backward: number; noGradForward: number } {
  const p = c.bytesPerElement;
  const E = c.tokens * c.vocab;
  const rows = c.rows ?? 1;
  const norm = memoryBoundSeconds(4 * c.tokens * c.hidden * p, gpu, 1);
  const logits = gemmSeconds(head, gpu, dtype);
  const dgrad = gemmSeconds({ name: 'lm_head.dgrad', m: head.m, n: head.k, k: head.n }, gpu, dtype);
  const backwardGemms = c.weightGrad ? gemmBackwardSeconds(head, gpu, dtype) : dgrad;
  // A no-grad pass of the head (reference / KL forwards): the logits and TRL's per-row log-probs.
  const logProbsForward = memoryBoundSeconds(2 * E * p, gpu, 2 * rows);
  const noGradForward = norm + logits + logProbsForward;
  const trainerHead = c.trainerHead ?? 'lm-cross-entropy';
  if (trainerHead === 'diffusion-masked-ce') {
    const Em = E * (c.maskedFraction ?? 0);
    return {
      forward: norm + logits + memoryBoundSeconds(2 * E * p + Em * (4 * p + 12), gpu, 6),
      backward: norm + backwardGemms + memoryBoundSeconds(Em * (2 * p + 20) + 8 * E * p, gpu, 10),
      noGradForward,
    };
  }
  if (trainerHead === 'ebft-log-probs') {
    const lossTokens = Math.min(c.tokens, c.lossTokens ?? c.tokens);
    const El = lossTokens * c.vocab;
    const chunks = Math.max(1, Math.ceil(lossTokens / rows / EBFT_HEAD_CHUNK_TOKENS));
    const sliced = lossTokens < c.tokens ? 2 * E * p : 0;
    return {
      forward: norm + logits + memoryBoundSeconds(El * (p + 12), gpu, 3 * chunks),
      backward: norm + backwardGemms + memoryBoundSeconds(El * (p + 20) + sliced, gpu, 4 * chunks + (sliced > 0 ? 2 : 0)),
      noGradForward,
    };
  }
  if (trainerHead === 'lm-log-probs' || trainerHead === 'lm-log-probs-nll') {
    const nll = trainerHead === 'lm-log-probs-nll';
    return {
      forward: norm + logits + logProbsForward + (nll ? memoryBoundSeconds(2 * E * p, gpu, 3) : 0),
      backward: norm + backwardGemms + memoryBoundSeconds(8 * E * p, gpu, 3 * rows + 3) + (nll ? memoryBoundSeconds(3 * E * p, gpu, 3) : 0),
      noGradForward,
    };
  }
  // The fused losses patch the causal-LM forward only; a classification model computes transformers' loss.
  const loss = trainerHead === 'lm-cross-entropy' ? k : { ...k, loss: 'hf' as const };
  return { ...lossSeconds(loss, { E, p, norm, logits, backwardGemms, tokens: c.tokens, hidden: c.hidden, vocab: c.vocab, weightGrad: c.weightGrad }, gpu), noGradForward };
}

function lossSeconds(
  k: KernelChoices,
  c: { E: number; p: number; norm: number; logits: number; backwardGemms: number; tokens: number; hidden: number; vocab: number; weightGrad: boolean },
  gpu: GpuSpec,
): { forward: number; backward: number } {
  const { E, p, norm, logits, backwardGemms } = c;
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
