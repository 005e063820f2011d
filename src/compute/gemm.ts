import type { GemmKernelModel } from '../hardware/types.ts';

/**
 * Time of one bf16 GEMM C[m×n] = A[m×k]·B[k×n] (times `batch` independent products), from its shape.
 *
 * cuBLAS / CUTLASS split C into output tiles; each tile runs on one SM, and the grid runs in waves of one
 * tile per SM, so a last wave that is part-empty costs as much as a full one (NVIDIA "Matrix Multiplication
 * Background User's Guide", tile and wave quantization). cuBLAS's heuristics pick among several tiles; we
 * take the candidate with the best wave efficiency. Inside a tile the k loop is software-pipelined: the
 * pipeline fill (the first stages' loads) and drain (the epilogue writing C) cost the same whatever k is,
 * which we express as `k_overhead_elements` extra elements of k — this is what makes small-k GEMMs slow
 * (e.g. H100 at m = n = 4096: 392 TFLOPS at k = 256 against 783 at k = 4096 in XLA's measured table).
 *
 *   seconds = 2·batch·m·n·k / (R · waves(m, n) · k / (k + k0)) + t0
 *
 * R (`full_wave_flops_per_second`), k0 and t0 are fitted per GPU on a published per-shape microbenchmark
 * (src/compute/fit-gemm.ts), at the microbenchmark's clock; the caller scales R to the sustained clock.
 */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
  /** Independent products run by one kernel (batched GEMM); 1 by default. */
  batch?: number;
}

/** Fraction of SM-time doing useful work for the best candidate tile: full waves and no tile padding. */
export function bestWaveEfficiency(m: number, n: number, smCount: number, tiles: readonly (readonly number[])[], batch = 1): number {
  let best = 0;
  for (const [tm, tn] of tiles) {
    const tilesM = Math.ceil(m / tm!);
    const tilesN = Math.ceil(n / tn!);
    const count = batch * tilesM * tilesN;
    const waves = Math.ceil(count / smCount);
    const padding = (m * n) / (tilesM * tm! * tilesN * tn!);
    best = Math.max(best, (count / (waves * smCount)) * padding);
  }
  return best;
}

/** Pipeline efficiency of the k loop: k / (k + k0). */
export function kLoopEfficiency(k: number, model: GemmKernelModel): number {
  return k / (k + model.k_overhead_elements);
}

/** Seconds of one GEMM kernel at `clockRatio` × the microbenchmark's clock (launch gaps not included). */
export function gemmKernelSeconds(shape: GemmShape, model: GemmKernelModel, smCount: number, clockRatio = 1): number {
  const batch = shape.batch ?? 1;
  const flops = 2 * batch * shape.m * shape.n * shape.k;
  if (flops === 0) return 0;
  const rate = model.full_wave_flops_per_second * clockRatio * bestWaveEfficiency(shape.m, shape.n, smCount, model.tile_shapes, batch) * kLoopEfficiency(shape.k, model);
  return flops / rate + model.fixed_seconds;
}
