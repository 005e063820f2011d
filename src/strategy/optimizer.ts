import { memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { bytesOf } from '../util/dtype.ts';

/**
 * AdamW's step is memory-bound: time = bytes moved / achieved HBM bandwidth.
 * Fused (`adamw_torch_fused`, torch `_fused_adamw_`): one pass reading param, grad, m, v and writing
 * param, m, v. The foreach path (`adamw_torch`, torch/optim/adamw.py `_multi_tensor_adamw`) runs one
 * kernel per op over all tensors: weight-decay mul_ (r p, w p), lerp_ m (r m g, w m), mul_ v (r v, w v),
 * addcmul_ v (r v g, w v), sqrt (r v, w tmp), add_ eps (r tmp, w tmp), addcdiv_ param (r p m tmp, w p) —
 * and its `exp_avg_sq_sqrt` temporaries are a full state-sized allocation.
 */
export function optimizerStep(cfg: ResolvedConfig, localParams: number, gpu: GpuSpec): { seconds: number; temporaryBytes: number } {
  const P = bytesOf(cfg.precision.paramDtype);
  const G = bytesOf(cfg.precision.gradDtype);
  const S = cfg.precision.optimizerBytesPerParam / 2;
  if (cfg.optimizer.fused) {
    const bytes = localParams * (P + G + 2 * S + P + 2 * S);
    return { seconds: memoryBoundSeconds(bytes, gpu, 1), temporaryBytes: 0 };
  }
  const perParam = 2 * P + (2 * S + G) + 2 * S + (2 * S + G) + 2 * S + 2 * S + (2 * P + S + S);
  return { seconds: memoryBoundSeconds(localParams * perParam, gpu, 7), temporaryBytes: localParams * S };
}

/**
 * `clip_grad_norm_` (HF Trainer's default max_grad_norm = 1.0): a pass reading every local gradient
 * (torch `_foreach_norm`), then scaling them (read + write).
 */
export function clipGradNormSeconds(cfg: ResolvedConfig, localParams: number, gpu: GpuSpec): number {
  const G = bytesOf(cfg.precision.gradDtype);
  return memoryBoundSeconds(localParams * G * 3, gpu, 3);
}
