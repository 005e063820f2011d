import type { Gemm } from '../model/types.ts';
import type { HardwareProfile } from '../hardware/types.ts';
import type { Dtype } from '../util/dtype.ts';
import { bytesOf } from '../util/dtype.ts';

/**
 * Kernel time models: pure functions from work (flops, bytes, shapes) and a GPU to seconds.
 *
 * A GEMM runs at the GPU's measured best matmul rate (MAMF microbenchmark) scaled by wave quantization —
 * cuBLAS tiles C into blocks and runs them in waves of one block per SM, so a grid that leaves the last
 * wave part-empty wastes the rest (NVIDIA "Matrix Multiplication Background User's Guide", wave
 * quantization) — and never faster than its operands can stream from HBM (roofline).
 */
export type GpuSpec = HardwareProfile['gpu'] & { kernels: HardwareProfile['kernels'] };

export function matmulRate(gpu: GpuSpec, dtype: Dtype): number {
  // The MAMF measurement is bf16; fp32 without TF32 runs on CUDA cores at the same achieved fraction.
  const fraction = gpu.achieved_bf16_matmul_flops_per_second / gpu.bf16_dense_flops_per_second;
  const burst = dtype === 'fp32' ? gpu.fp32_flops_per_second * fraction : gpu.achieved_bf16_matmul_flops_per_second;
  return burst * gpu.kernels.sustained_clock_fraction;
}

export function waveEfficiency(m: number, n: number, gpu: GpuSpec): number {
  const tile = gpu.kernels.gemm_tile;
  const tiles = Math.ceil(m / tile) * Math.ceil(n / tile);
  const waves = Math.ceil(tiles / gpu.kernels.sm_count);
  // Padding m and n up to whole tiles also wastes work.
  const padding = (m * n) / (Math.ceil(m / tile) * tile * Math.ceil(n / tile) * tile);
  return (tiles / (waves * gpu.kernels.sm_count)) * padding;
}

export function gemmSeconds(g: Gemm, gpu: GpuSpec, dtype: Dtype): number {
  const flops = 2 * g.m * g.n * g.k;
  const compute = flops / (matmulRate(gpu, dtype) * waveEfficiency(g.m, g.n, gpu));
  const bytes = bytesOf(dtype) * (g.m * g.k + g.k * g.n + g.m * g.n);
  return Math.max(compute, bytes / gpu.achieved_hbm_bytes_per_second) + gpu.kernels.launch_seconds;
}

/** Backward of C = A·B: dA = dC·Bᵀ (m×k, inner n) and dB = Aᵀ·dC (k×n, inner m). */
export function gemmBackwardSeconds(g: Gemm, gpu: GpuSpec, dtype: Dtype): number {
  return (
    gemmSeconds({ name: `${g.name}.dgrad`, m: g.m, n: g.k, k: g.n }, gpu, dtype) +
    gemmSeconds({ name: `${g.name}.wgrad`, m: g.k, n: g.n, k: g.m }, gpu, dtype)
  );
}

/** Memory-bound kernels (norms, activations, rotary, residual adds, optimizer): bytes over achieved HBM. */
export function memoryBoundSeconds(bytes: number, gpu: GpuSpec, kernels = 1): number {
  return bytes / gpu.achieved_hbm_bytes_per_second + kernels * gpu.kernels.launch_seconds;
}

/**
 * Fused (flash) attention: its measured throughput per direction. Backward does 5 matmuls to forward's
 * 2 plus recomputing the scores, i.e. 2.5× the forward FLOPs (Dao 2023, FlashAttention-2 §3.1).
 */
export function flashAttentionSeconds(forwardFlops: number, gpu: GpuSpec, pass: 'forward' | 'backward'): number {
  const clock = gpu.kernels.sustained_clock_fraction;
  if (pass === 'forward') return forwardFlops / (gpu.kernels.flash_attention_forward_flops_per_second * clock) + gpu.kernels.launch_seconds;
  return (2.5 * forwardFlops) / (gpu.kernels.flash_attention_backward_flops_per_second * clock) + gpu.kernels.launch_seconds;
}
