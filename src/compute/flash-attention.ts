import type { FlashAttentionTable } from '../hardware/types.ts';

/**
 * FlashAttention-2 time from the shape of the call, read off the GPU's measured throughput table.
 *
 * The table is in its authors' benchmark convention (Dao 2023, FlashAttention-2 §4.1; flash-attn
 * benchmarks/benchmark_flash_attention.py): forward FLOPs = 4·batch·heads·s_q·s_k·d, halved with a causal
 * mask; backward = 2.5 × forward (5 matmuls to forward's 2, plus recomputing the scores). Throughput rises
 * with the sequence length (longer k loops amortise each tile's prologue; causal diagonal tiles are wasted
 * work that shrinks relative to the rest) and with the head dim; beyond the table it is held at its edge.
 *
 * flash-attn compiles kernels for head dims 32, 64, 96, 128, 192, 256 and runs the next one up
 * (csrc/flash_attn/src/static_switch.h HEADDIM_SWITCH): head dim 80 pays for 96. We interpolate the rate of
 * the padded head dim between the measured ones and charge the padded FLOPs.
 *
 * A backward rate is not measured on its own: backward time = (forward+backward time) − forward time.
 */
export interface FlashAttentionShape {
  batch: number;
  /** Query heads on this rank. */
  heads: number;
  /** Queries this rank computes. */
  queryLen: number;
  /** Keys each query attends to before masking (the full sequence under context parallelism). */
  keyLen: number;
  headDim: number;
  causal: boolean;
  /** Sliding-window attention: keys beyond the window are skipped. */
  window?: number;
  /**
   * Sequence length of one kernel call, which sets the kernel's efficiency (ring attention calls the kernel
   * once per K/V block of s/cp); defaults to keyLen.
   */
  kernelSeqLen?: number;
}

const FLASH_HEAD_DIMS = [32, 64, 96, 128, 192, 256];

/** The head dim flash-attn's kernels actually run (the next compiled one up). */
export function paddedHeadDim(d: number): number {
  return FLASH_HEAD_DIMS.find((x) => x >= d) ?? d;
}

/** Linear interpolation on x (log2 when `log`), held at the edges. */
function interp(xs: readonly number[], ys: readonly number[], x: number, log: boolean): number {
  const f = (v: number) => (log ? Math.log2(v) : v);
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[xs.length - 1]!) return ys[ys.length - 1]!;
  let i = 1;
  while (xs[i]! < x) i++;
  const t = (f(x) - f(xs[i - 1]!)) / (f(xs[i]!) - f(xs[i - 1]!));
  return ys[i - 1]! + t * (ys[i]! - ys[i - 1]!);
}

/** The table's rate at a head dim and sequence length (bilinear: head dim linear, sequence length in log2). */
export function tableRate(table: FlashAttentionTable, grid: readonly (readonly number[])[], headDim: number, seqLen: number): number {
  const byHead = grid.map((row) => interp(table.sequence_lengths, row, seqLen, true));
  return interp(table.head_dims, byHead, headDim, false);
}

/** Forward FLOPs of the call in the benchmark convention, with the padded head dim. */
export function flashAttentionFlops(shape: FlashAttentionShape): number {
  const keys = Math.min(shape.keyLen, shape.window ?? Infinity);
  const full = 4 * shape.batch * shape.heads * shape.queryLen * keys * paddedHeadDim(shape.headDim);
  // Causal with no window: each query sees half the keys on average. With a window narrower than the
  // sequence the band is full except its first `window` rows.
  if (!shape.causal) return full;
  return shape.window !== undefined && shape.window < shape.keyLen ? full * (1 - shape.window / (2 * shape.keyLen)) : full / 2;
}

/** Seconds of the forward or backward kernel(s) at `clockRatio` × the benchmark's clock. */
export function flashAttentionKernelSeconds(shape: FlashAttentionShape, table: FlashAttentionTable, pass: 'forward' | 'backward', clockRatio = 1): number {
  const flops = flashAttentionFlops(shape);
  if (flops === 0) return 0;
  const d = paddedHeadDim(shape.headDim);
  const seq = Math.min(shape.kernelSeqLen ?? shape.keyLen, shape.window ?? Infinity);
  const fwdRate = tableRate(table, shape.causal ? table.forward_causal_flops_per_second : table.forward_flops_per_second, d, seq) * clockRatio;
  const bothRate = tableRate(table, shape.causal ? table.forward_backward_causal_flops_per_second : table.forward_backward_flops_per_second, d, seq) * clockRatio;
  const forward = flops / fwdRate;
  if (pass === 'forward') return forward;
  // FlashAttention-2's backward never runs faster per FLOP than its forward: guards interpolated points.
  return Math.max((3.5 * flops) / bothRate - forward, (2.5 * flops) / fwdRate);
}
