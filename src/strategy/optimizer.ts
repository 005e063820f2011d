import { gemmSeconds, memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { optimizerStateBytes, stateBytesPerElement } from '../config/optimizers.ts';
import { bytesOf } from '../util/dtype.ts';

/**
 * The optimizer step is memory-bound: time = bytes moved / achieved HBM bandwidth, plus its kernel launches.
 *
 * - Fused AdamW (`adamw_torch_fused`, torch `_fused_adamw_`): one multi-tensor pass reading param, grad, m, v
 *   and writing param, m, v.
 * - Foreach AdamW (`adamw_torch`, torch/optim/adamw.py `_multi_tensor_adamw`): one kernel per op over all
 *   tensors — weight-decay mul_ (r p, w p), lerp_ m (r m g, w m), mul_ v (r v, w v), addcmul_ v (r v g, w v),
 *   sqrt (r v, w tmp), add_ eps (r tmp, w tmp), addcdiv_ param (r p m tmp, w p) — and its `exp_avg_sq_sqrt`
 *   temporaries are a full state-sized allocation.
 * - Per-tensor optimizers (bitsandbytes' 8/32-bit kernels, torchao's compiled `single_param_adam`): one fused
 *   kernel per parameter tensor — the same single pass as the fused AdamW, with one launch per tensor.
 * - Lion: one state, one pass; SGD without momentum: read param and grad, write param; Adafactor: squares and
 *   reduces each gradient into row/column statistics, then updates (about three passes over the gradient).
 * - Muon: AdamW's pass over the momentum, then Newton–Schulz orthogonalisation of every hidden matrix — five
 *   iterations of X·Xᵀ, a small square product and (aX + B·X), i.e. 5·(4·m²·n + 2·m³) FLOPs for an m×n matrix
 *   with m ≤ n, as bf16 matmuls (Keller Jordan's Muon `zeropower_via_newtonschulz5`); data-parallel ranks
 *   split the matrices between them.
 */
export interface OptimizerWork {
  /** Trainable parameters on this rank (elements). */
  params: number;
  /** Trainable parameter tensors on this rank (each per-tensor kernel is one launch). */
  tensors: number;
  /** Hidden matrices Muon orthogonalises (every one of the model's), and this rank's share of them. */
  matrices?: readonly { rows: number; cols: number; count: number }[];
  matrixShare?: number;
  /**
   * Of `params` / `tensors`, PEFT modules_to_save copies in the base dtype (`Precision.copyDtype`) beside fp32
   * adapters: torch's foreach / fused optimizers group tensors by dtype (`_group_tensors_by_device_and_dtype`)
   * and run each group's kernels in its own dtype, one group after the other.
   */
  copies?: { params: number; tensors: number };
}

export function optimizerStep(cfg: ResolvedConfig, work: OptimizerWork | number, gpu: GpuSpec): { seconds: number; temporaryBytes: number } {
  const w: OptimizerWork = typeof work === 'number' ? { params: work, tensors: 1 } : work;
  const copyDtype = cfg.precision.copyDtype;
  if (w.copies && w.copies.params > 0 && copyDtype) {
    const c = Math.min(w.copies.params, w.params);
    const main = optimizerStep(cfg, { ...w, params: w.params - c, tensors: Math.max(1, w.tensors - w.copies.tensors), copies: undefined }, gpu);
    const copyCfg: ResolvedConfig = { ...cfg, precision: { ...cfg.precision, paramDtype: copyDtype, gradDtype: copyDtype } };
    // The copies are embeddings / output layers, not hidden matrices: Muon leaves them to its AdamW part.
    const copy = optimizerStep(copyCfg, { params: c, tensors: Math.max(1, w.copies.tensors) }, gpu);
    return { seconds: main.seconds + copy.seconds, temporaryBytes: main.temporaryBytes + copy.temporaryBytes };
  }
  const n = w.params;
  const spec = cfg.optimizer.spec;
  const P = bytesOf(cfg.precision.paramDtype);
  const G = bytesOf(cfg.precision.gradDtype);
  const S = spec.states > 0 ? stateBytesPerElement(spec.storage, cfg.precision.paramDtype) : 0;
  // The quantised states' block scales are read and written with them (in S); the update reads and writes
  // each state once.
  const single = n * (P + G + spec.states * S + P + spec.states * S);
  const launches = (k: number) => (spec.launches === 'per-tensor' ? Math.max(1, w.tensors) * k : k);
  switch (spec.family) {
    case 'sgd':
      return { seconds: memoryBoundSeconds(n * (P + G + P), gpu, launches(1)), temporaryBytes: 0 };
    case 'adafactor':
      return { seconds: memoryBoundSeconds(n * (P + 3 * G + P), gpu, launches(6)), temporaryBytes: 0 };
    case 'lion':
      return { seconds: memoryBoundSeconds(single, gpu, launches(1)), temporaryBytes: 0 };
    case 'muon': {
      let ns = 0;
      for (const m of w.matrices ?? []) {
        const a = Math.min(m.rows, m.cols);
        const b = Math.max(m.rows, m.cols);
        const one = gemmSeconds({ name: 'ns.xxt', m: a, n: a, k: b }, gpu, 'bf16') + gemmSeconds({ name: 'ns.bb', m: a, n: a, k: a }, gpu, 'bf16') + gemmSeconds({ name: 'ns.bx', m: a, n: b, k: a }, gpu, 'bf16');
        ns += 5 * one * m.count;
      }
      ns *= w.matrixShare ?? 1;
      return { seconds: memoryBoundSeconds(single, gpu, launches(2)) + ns, temporaryBytes: 0 };
    }
    case 'adamw': {
      if (spec.launches !== 'foreach') return { seconds: memoryBoundSeconds(single, gpu, launches(1)), temporaryBytes: 0 };
      const perParam = 2 * P + (2 * S + G) + 2 * S + (2 * S + G) + 2 * S + 2 * S + (2 * P + S + S);
      return { seconds: memoryBoundSeconds(n * perParam, gpu, 7), temporaryBytes: n * S };
    }
  }
}

/**
 * Optimizer state bytes of `params` trainable elements of which `copies` are PEFT modules_to_save copies: the
 * optimizer allocates states like the parameter (torch AdamW `zeros_like(p)`), so the copies' states follow
 * their base dtype (`Precision.copyDtype`), not the fp32 adapters'.
 */
export function optimizerStateBytesOf(cfg: ResolvedConfig, params: number, copies = 0): number {
  const pr = cfg.precision;
  const c = pr.copyDtype ? Math.min(copies, params) : 0;
  return (params - c) * pr.optimizerBytesPerParam + (c > 0 ? c * optimizerStateBytes(cfg.optimizer.spec, pr.copyDtype!) : 0);
}

/** Bytes of optimizer state a rank keeps on the GPU's allocator (paged states live in unified memory instead). */
export function deviceOptimizerStateBytes(cfg: ResolvedConfig, params: number, copies = 0): number {
  return cfg.optimizer.spec.paged ? 0 : optimizerStateBytesOf(cfg, params, copies);
}

/** Bytes of optimizer state in CUDA unified memory (bitsandbytes paged optimizers). */
export function pagedOptimizerStateBytes(cfg: ResolvedConfig, params: number, copies = 0): number {
  return cfg.optimizer.spec.paged ? optimizerStateBytesOf(cfg, params, copies) : 0;
}

/**
 * `clip_grad_norm_` (HF Trainer's default max_grad_norm = 1.0): a pass reading every local gradient
 * (torch `_foreach_norm`), then scaling them (read + write).
 */
export function clipGradNormSeconds(cfg: ResolvedConfig, localParams: number, gpu: GpuSpec): number {
  const G = bytesOf(cfg.precision.gradDtype);
  return memoryBoundSeconds(localParams * G * 3, gpu, 3);
}

/** The label of the optimizer step on the timeline. */
export function optimizerLabel(cfg: ResolvedConfig): string {
  return cfg.optimizer.spec.implementation;
}
