import { z } from 'zod';
import type { HardwareProfile } from './types.ts';

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
  })
  .strict();

const kernelsSchema = z
  .object({
    sm_count: count,
    collective_sm_count: count,
    sustained_clock_fraction: z.number().gt(0).max(1),
    gemm_tile: count,
    launch_seconds: positive,
    flash_attention_forward_flops_per_second: positive,
    flash_attention_backward_flops_per_second: positive,
  })
  .strict();

const runtimeSchema = z.object({ cuda_context_bytes: nonNegative, allocator_reserved_over_allocated: z.number().min(1) }).strict();

/** Dotted paths of every numeric leaf of a profile (e.g. "gpu.memory_bytes"). */
export function numericLeafPaths(value: unknown, prefix = ''): string[] {
  return leafPaths(value, prefix).filter((p) => typeof p.value === 'number').map((p) => p.path);
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
          message: `missing source for numeric field "${path}"`,
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
    // must leave memory. Tensor-core rates run at `sustained_clock_fraction` of their microbenchmark
    // (src/compute/kernels.ts), and a short microbenchmark may beat the spec peak on a card that boosts past
    // its spec clock (RTX 4090: 170 vs 165 TFLOPS), so the bound is on the sustained rate.
    const atMost = (path: [string, string], value: number, bound: number, what: string) => {
      if (value > bound) ctx.addIssue({ code: 'custom', path, message: `${value.toPrecision(4)} exceeds ${what} (${bound.toPrecision(4)})` });
    };
    const { gpu, kernels } = profile;
    const sustained = kernels.sustained_clock_fraction;
    const peak = gpu.bf16_dense_flops_per_second;
    atMost(['gpu', 'achieved_bf16_matmul_flops_per_second'], gpu.achieved_bf16_matmul_flops_per_second * sustained, peak, '× kernels.sustained_clock_fraction the dense bf16 peak gpu.bf16_dense_flops_per_second');
    atMost(['kernels', 'flash_attention_forward_flops_per_second'], kernels.flash_attention_forward_flops_per_second * sustained, peak, '× kernels.sustained_clock_fraction the dense bf16 peak gpu.bf16_dense_flops_per_second');
    atMost(['kernels', 'flash_attention_backward_flops_per_second'], kernels.flash_attention_backward_flops_per_second * sustained, peak, '× kernels.sustained_clock_fraction the dense bf16 peak gpu.bf16_dense_flops_per_second');
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
