import type { Gemm } from '../model/types.ts';
import type { AlternativeAttentionKernel, FlashAttentionTable, HardwareProfile } from '../hardware/types.ts';
import { ShardsimError } from '../util/errors.ts';
import type { Dtype } from '../util/dtype.ts';
import { bytesOf } from '../util/dtype.ts';
import { bestWaveEfficiency, gemmKernelSeconds } from './gemm.ts';
import { flashAttentionKernelSeconds, type FlashAttentionShape } from './flash-attention.ts';

/**
 * Kernel time models: pure functions from work (flops, bytes, shapes) and a GPU to seconds. Every rate comes
 * from a published microbenchmark in the hardware profile (never from end-to-end training rows):
 *
 * - GEMMs: the per-shape model of src/compute/gemm.ts (waves of output tiles, a per-tile k-loop overhead),
 *   fitted on a per-shape GEMM table, never faster than its operands stream from HBM (roofline);
 * - FlashAttention: the measured throughput table of src/compute/flash-attention.ts;
 * - memory-bound kernels: bytes over the STREAM-like achieved HBM bandwidth;
 * - tensor-core work runs at `kernels.sustained_clock_ratio` of the microbenchmarks' clock: a GPU at its power
 *   limit through a training run holds a lower SM clock than a short benchmark (nvidia-smi measurements in the
 *   profile's sources). HBM bandwidth does not scale with it (the memory clock does not move).
 */
export type GpuSpec = HardwareProfile['gpu'] & {
  kernels: HardwareProfile['kernels'];
  /** Host-side framework costs (src/compute/host-overhead.ts); absent: the GPU is never launch-bound. */
  framework?: HardwareProfile['framework'];
  /** fp32 matmuls run in TF32 on the tensor cores (`tf32: true`, torch.backends.cuda.matmul). */
  tf32Matmul?: boolean;
};

/** Dense peak of the matmuls in `dtype`: bf16/fp16 tensor cores (equal on every bundled GPU), TF32, or fp32 CUDA cores. */
export function peakMatmulFlops(gpu: HardwareProfile['gpu'], dtype: Dtype, tf32Matmul = false): number {
  if (dtype !== 'fp32') return gpu.bf16_dense_flops_per_second;
  return tf32Matmul ? gpu.tf32_dense_flops_per_second : gpu.fp32_flops_per_second;
}

/**
 * fp32 GEMMs run on the CUDA cores (or in TF32 on the tensor cores) at the same achieved fraction of their
 * peak as bf16 on tensor cores.
 */
function dtypeScale(gpu: GpuSpec, dtype: Dtype): number {
  return peakMatmulFlops(gpu, dtype, gpu.tf32Matmul) / gpu.bf16_dense_flops_per_second;
}

/** Sustained rate of a large GEMM (full waves, long k) in `dtype`. */
export function matmulRate(gpu: GpuSpec, dtype: Dtype): number {
  return gpu.kernels.gemm.full_wave_flops_per_second * gpu.kernels.sustained_clock_ratio * dtypeScale(gpu, dtype);
}

/** Wave-quantization efficiency of an m×n output on this GPU (best of the candidate tiles). */
export function waveEfficiency(m: number, n: number, gpu: GpuSpec): number {
  return bestWaveEfficiency(m, n, gpu.kernels.sm_count, gpu.kernels.gemm.tile_shapes);
}

export function gemmSeconds(g: Gemm, gpu: GpuSpec, dtype: Dtype): number {
  const model = gpu.kernels.gemm;
  const scale = dtypeScale(gpu, dtype);
  const compute = gemmKernelSeconds(g, { ...model, full_wave_flops_per_second: model.full_wave_flops_per_second * scale }, gpu.kernels.sm_count, gpu.kernels.sustained_clock_ratio);
  const bytes = bytesOf(dtype) * (g.batch ?? 1) * (g.m * g.k + g.k * g.n + g.m * g.n);
  return Math.max(compute, bytes / gpu.achieved_hbm_bytes_per_second) + gpu.kernels.launch_seconds;
}

/**
 * A float8 GEMM (torch._scaled_mm: e4m3/e5m2 operands, 16-bit output), as torchao's Float8Linear runs it: the
 * bf16 per-shape model with its full-wave rate scaled by the GPU's measured fp8 ÷ bf16 best matmul (both MAMF
 * searches), never faster than 1-byte operands and a 2-byte output stream from HBM.
 */
export function float8GemmSeconds(g: Gemm, gpu: GpuSpec): number {
  const fp8 = gpu.achieved_fp8_matmul_flops_per_second;
  if (fp8 === undefined) throw new Error(`no fp8 matmul rate for ${gpu.name}`);
  const model = gpu.kernels.gemm;
  const scale = fp8 / gpu.achieved_bf16_matmul_flops_per_second;
  const compute = gemmKernelSeconds(g, { ...model, full_wave_flops_per_second: model.full_wave_flops_per_second * scale }, gpu.kernels.sm_count, gpu.kernels.sustained_clock_ratio);
  const bytes = (g.batch ?? 1) * (g.m * g.k + g.k * g.n + 2 * g.m * g.n);
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
 * The measured table of a fused attention kernel on this GPU: FlashAttention-2's, or another kernel's
 * (`kernels.attention_kernels`, e.g. the Triton FlashAttention kernel llm-foundry ran). A kernel the profile
 * has no table for is refused: its rates are not FlashAttention-2's (about half on A100).
 */
export function attentionKernelTable(gpu: GpuSpec, kernel: 'flash_attention_2' | AlternativeAttentionKernel = 'flash_attention_2'): FlashAttentionTable {
  if (kernel === 'flash_attention_2') return gpu.kernels.flash_attention;
  const table = gpu.kernels.attention_kernels?.[kernel];
  if (!table) {
    throw new ShardsimError(`${kernel} has no measured table for ${gpu.name} (kernels.attention_kernels in its hardware profile)`, { key: 'simulation.attention_kernel', fix: 'remove simulation.attention_kernel (FlashAttention-2), choose a GPU whose profile has the table (dgx-a100-40gb, dgx-a100-80gb, dgx-h100), or add the table to the profile with its source' });
  }
  return table;
}

/**
 * Fused attention from the shape of the call (batch, heads, query and key lengths, head dim, causal,
 * window): the kernel's measured table (src/compute/flash-attention.ts) at the sustained clock, plus a
 * launch gap. FlashAttention-2 unless `kernel` names another measured kernel.
 */
export function flashAttentionShapeSeconds(shape: FlashAttentionShape, gpu: GpuSpec, pass: 'forward' | 'backward', kernel: 'flash_attention_2' | AlternativeAttentionKernel = 'flash_attention_2'): number {
  return flashAttentionKernelSeconds(shape, attentionKernelTable(gpu, kernel), pass, gpu.kernels.sustained_clock_ratio) + gpu.kernels.launch_seconds;
}

/**
 * FlashAttention-2 from its causal forward FLOPs alone (kept for callers that do not know the shape): the
 * table's rate at head dim 128 and sequence length 2048, a typical training shape. Prefer
 * `flashAttentionShapeSeconds`.
 */
export function flashAttentionSeconds(forwardFlops: number, gpu: GpuSpec, pass: 'forward' | 'backward'): number {
  // A shape with the same causal FLOPs at head dim 128 and s = 2048: 4·b·h·s²·d / 2 = forwardFlops.
  const headDim = 128;
  const seq = 2048;
  const heads = forwardFlops / (2 * seq * seq * headDim);
  return flashAttentionShapeSeconds({ batch: 1, heads, queryLen: seq, keyLen: seq, headDim, causal: true }, gpu, pass);
}
