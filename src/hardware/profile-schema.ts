import { z } from 'zod';
import type { HardwareProfile } from './types.ts';
// Pure shape functions (they import only types from hardware/): the GEMM model's rate at the anchor shape.
import { bestWaveEfficiency, kLoopEfficiency } from '../compute/gemm.ts';

/** A strictly positive, finite SI quantity. */
const positive = z.number().finite().positive();
/** A non-negative, finite SI quantity (used where 0 means "not available"). */
const nonNegative = z.number().finite().nonnegative();
const count = z.number().int().positive();

const gpuSchema = z
  .object({
    name: z.string().min(1),
    memory_bytes: positive,
    bf16_dense_flops_per_second: positive,
    fp32_flops_per_second: positive,
    tf32_dense_flops_per_second: positive,
    achieved_bf16_matmul_flops_per_second: positive,
    achieved_bf16_matmul_shape: z.array(count).length(3),
    achieved_fp8_matmul_flops_per_second: positive.optional(),
    hbm_bytes_per_second: positive,
    achieved_hbm_bytes_per_second: positive,
    tdp_watts: positive,
  })
  .strict();

const nodeSchema = z
  .object({
    gpus_per_node: count,
    intra: z
      .object({
        kind: z.enum(['nvswitch', 'pcie']),
        bytes_per_second_per_gpu: positive,
        p2p: z.boolean(),
        nvls: z.boolean(),
      })
      .strict(),
    host_link: z
      .object({
        h2d_pinned_bytes_per_second: positive,
        d2h_pinned_bytes_per_second: positive,
        h2d_pageable_bytes_per_second: positive,
        d2h_pageable_bytes_per_second: positive,
      })
      .strict(),
  })
  .strict();

const scaleOutSchema = z
  .object({
    kind: z.enum(['infiniband', 'roce', 'ethernet']),
    nics_per_node: count,
    bytes_per_second_per_nic: positive,
  })
  .strict();

const ncclSchema = z
  .object({
    intra_ring_busbw_bytes_per_second: positive,
    intra_nvls_busbw_bytes_per_second: nonNegative,
    inter_busbw_efficiency: z.number().gt(0).max(1, 'must be ≤ 1: a share of the NIC line rate'),
    intra_latency_seconds: positive,
    inter_latency_seconds: positive,
    intra_half_bandwidth_bytes: positive,
    inter_half_bandwidth_bytes: positive,
    size_efficiency_exponent: positive,
    nvls_latency_seconds: nonNegative,
    nvls_half_bandwidth_bytes: nonNegative,
    alltoall_intra_efficiency: z.number().gt(0).max(1, 'must be ≤ 1: a share of the intra ring busbw').optional(),
  })
  .strict();

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
const table = z.array(z.array(positive).min(1)).min(1);

const gemmSchema = z
  .object({
    full_wave_flops_per_second: positive,
    k_overhead_elements: nonNegative,
    fixed_seconds: nonNegative,
    tile_shapes: z.array(z.array(count).length(2)).min(1),
  })
  .strict();

const flashAttentionSchema = z
  .object({
    head_dims: z.array(count).min(1).refine(increasing, 'must increase'),
    sequence_lengths: z.array(count).min(1).refine(increasing, 'must increase'),
    forward_backward_causal_flops_per_second: table,
    forward_backward_flops_per_second: table,
    forward_causal_flops_per_second: table,
    forward_flops_per_second: table,
  })
  .strict()
  .superRefine((fa, ctx) => {
    for (const key of ['forward_backward_causal_flops_per_second', 'forward_backward_flops_per_second', 'forward_causal_flops_per_second', 'forward_flops_per_second'] as const) {
      const t = fa[key];
      if (t.length !== fa.head_dims.length || t.some((row) => row.length !== fa.sequence_lengths.length)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must have one row per head dim (${fa.head_dims.length}) and one column per sequence length (${fa.sequence_lengths.length})` });
      }
    }
    // Backward = forward+backward − forward must stay positive: 3.5/R_fb > 1/R_f.
    for (const [fb, f] of [['forward_backward_causal_flops_per_second', 'forward_causal_flops_per_second'], ['forward_backward_flops_per_second', 'forward_flops_per_second']] as const) {
      fa[fb].forEach((row, i) => row.forEach((r, j) => {
        const fwd = fa[f][i]?.[j];
        if (fwd !== undefined && 3.5 / r <= 1 / fwd) ctx.addIssue({ code: 'custom', path: [fb, i, j], message: `forward + backward (${r}) implies a non-positive backward time against forward ${fwd}` });
      }));
    }
  });

const kernelsSchema = z
  .object({
    sm_count: count,
    collective_sm_count: count,
    sustained_clock_ratio: z.number().gt(0).max(1),
    launch_seconds: positive,
    gemm: gemmSchema,
    flash_attention: flashAttentionSchema,
    attention_kernels: z.object({ flash_attention_1: flashAttentionSchema.optional(), flash_attention_triton: flashAttentionSchema.optional() }).strict().optional(),
  })
  .strict();

const runtimeSchema = z.object({ cuda_context_bytes: nonNegative, allocator_reserved_over_allocated: z.number().min(1) }).strict();

/** Dotted paths of every numeric leaf of a profile (e.g. "gpu.memory_bytes"), tables (arrays) included. */
export function numericLeafPaths(value: unknown, prefix = ''): string[] {
  return leafPaths(value, prefix).filter((p) => typeof p.value === 'number' || Array.isArray(p.value)).map((p) => p.path);
}

/** Dotted paths and values of every leaf (string, number, boolean) below `value`, skipping `sources`. */
export function leafPaths(value: unknown, prefix = ''): { path: string; value: unknown }[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return prefix ? [{ path: prefix, value }] : [];
  }
  const out: { path: string; value: unknown }[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (!prefix && key === 'sources') continue;
    out.push(...leafPaths(child, prefix ? `${prefix}.${key}` : key));
  }
  return out;
}

/**
 * zod schema for hardware-profiles/<id>.json, mirroring `HardwareProfile` in types.ts. Beyond the shape it
 * checks that every numeric leaf has a non-empty `sources` entry, that every `sources` key names a real
 * leaf (catches typos), and that the NVLS bus bandwidth is 0 exactly when the node has no NVLS.
 */
export const hardwareProfileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-" only'),
    name: z.string().min(1),
    gpu: gpuSchema,
    node: nodeSchema,
    scale_out: scaleOutSchema,
    nccl: ncclSchema,
    kernels: kernelsSchema,
    runtime: runtimeSchema,
    host: z.object({ cpu_adam_params_per_second: positive, torch_cpu_adam_params_per_second: positive }).strict(),
    framework: z.object({ eager_kernel_host_seconds: positive, eager_no_grad_kernel_host_seconds: positive.optional() }).strict(),
    price: z.object({ usd_per_gpu_hour: positive }).strict(),
    sources: z.record(z.string(), z.string().min(1)),
  })
  .strict()
  .superRefine((profile, ctx) => {
    const leaves = new Set(leafPaths(profile).map((l) => l.path));
    for (const path of numericLeafPaths(profile)) {
      if (!profile.sources[path]?.trim()) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', path],
          message: `missing source for numeric field or table "${path}"`,
        });
      }
    }
    for (const key of Object.keys(profile.sources)) {
      if (!leaves.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', key],
          message: `source key "${key}" does not name a field of the profile`,
        });
      }
    }
    // Impossible machines: no rate a step sustains beats the peak MFU divides by (else MFU passes 100 %), a
    // ring cannot beat the link it runs on, NCCL cannot hold more SMs than the GPU has, the CUDA context
    // must leave memory. Tensor-core work runs at `sustained_clock_ratio` of its microbenchmark clock
    // (src/compute/kernels.ts, gemm.ts, flash-attention.ts), and a short microbenchmark may beat the spec
    // peak on a card that boosts past its spec clock (RTX 4090: 170 vs 165 TFLOPS), so the bound is on the
    // sustained rate of what was measured: the best matmul, the GEMM model at that matmul's shape (what the
    // fit anchors it to; its full-wave rate alone extrapolates past any real shape) and the attention
    // tables, × ratio.
    const atMost = (path: (string | number)[], value: number, bound: number, what: string) => {
      if (value > bound) ctx.addIssue({ code: 'custom', path, message: `${value.toPrecision(4)} exceeds ${what} (${bound.toPrecision(4)})` });
    };
    const { gpu, kernels } = profile;
    const sustained = kernels.sustained_clock_ratio;
    const peak = gpu.bf16_dense_flops_per_second;
    const vsPeak = '× kernels.sustained_clock_ratio the dense bf16 peak gpu.bf16_dense_flops_per_second';
    atMost(['gpu', 'achieved_bf16_matmul_flops_per_second'], gpu.achieved_bf16_matmul_flops_per_second * sustained, peak, vsPeak);
    const [am, an, ak] = gpu.achieved_bf16_matmul_shape;
    if (am && an && ak) {
      const atAnchor = kernels.gemm.full_wave_flops_per_second * bestWaveEfficiency(am, an, kernels.sm_count, kernels.gemm.tile_shapes) * kLoopEfficiency(ak, kernels.gemm);
      atMost(['kernels', 'gemm', 'full_wave_flops_per_second'], atAnchor * sustained, peak, `at gpu.achieved_bf16_matmul_shape ${vsPeak}`);
    }
    const attentionTables = [['flash_attention', kernels.flash_attention] as const, ...Object.entries(kernels.attention_kernels ?? {}).map(([name, t]) => [`attention_kernels.${name}`, t!] as const)];
    for (const [where, t] of attentionTables) {
      for (const key of ['forward_backward_causal_flops_per_second', 'forward_backward_flops_per_second', 'forward_causal_flops_per_second', 'forward_flops_per_second'] as const) {
        const best = Math.max(...t[key].flat());
        atMost(['kernels', ...where.split('.'), key], best * sustained, peak, vsPeak);
      }
    }
    atMost(['gpu', 'achieved_hbm_bytes_per_second'], gpu.achieved_hbm_bytes_per_second, gpu.hbm_bytes_per_second, 'the HBM peak gpu.hbm_bytes_per_second');
    atMost(['gpu', 'fp32_flops_per_second'], gpu.fp32_flops_per_second, gpu.tf32_dense_flops_per_second, 'the TF32 tensor-core peak gpu.tf32_dense_flops_per_second');
    atMost(['gpu', 'tf32_dense_flops_per_second'], gpu.tf32_dense_flops_per_second, peak, 'the dense bf16 peak gpu.bf16_dense_flops_per_second');
    atMost(['kernels', 'collective_sm_count'], kernels.collective_sm_count, kernels.sm_count, 'the SMs of the GPU kernels.sm_count');
    atMost(['nccl', 'intra_ring_busbw_bytes_per_second'], profile.nccl.intra_ring_busbw_bytes_per_second, profile.node.intra.bytes_per_second_per_gpu, 'the per-GPU link node.intra.bytes_per_second_per_gpu');
    atMost(['runtime', 'cuda_context_bytes'], profile.runtime.cuda_context_bytes, gpu.memory_bytes, 'the GPU memory gpu.memory_bytes');

    const nvlsBusbw = profile.nccl.intra_nvls_busbw_bytes_per_second;
    if (!profile.node.intra.nvls && nvlsBusbw !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nccl', 'intra_nvls_busbw_bytes_per_second'],
        message: 'must be 0 when node.intra.nvls is false',
      });
    }
    if (profile.node.intra.nvls && nvlsBusbw <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['nccl', 'intra_nvls_busbw_bytes_per_second'],
        message: 'must be > 0 when node.intra.nvls is true',
      });
    }
    for (const key of ['nvls_latency_seconds', 'nvls_half_bandwidth_bytes'] as const) {
      if (profile.node.intra.nvls !== profile.nccl[key] > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['nccl', key],
          message: profile.node.intra.nvls ? 'must be > 0 when node.intra.nvls is true' : 'must be 0 when node.intra.nvls is false',
        });
      }
    }
  });

// Compile-time guarantee that the schema and the hand-written interface describe the same shape.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesInterface: Equals<z.infer<typeof hardwareProfileSchema>, HardwareProfile> = true;
void schemaMatchesInterface;
