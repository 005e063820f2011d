import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hardwareProfileSchema, hardwareProfilesDir } from '../../src/hardware/index.ts';

/** Issue 16: a profile whose matmul rate exceeded its peak printed MFU 1980 %. Such machines are refused. */
const h100 = () => JSON.parse(readFileSync(path.join(hardwareProfilesDir(), 'dgx-h100.json'), 'utf8')) as Record<string, any>;
const problem = (p: unknown) => {
  const r = hardwareProfileSchema.safeParse(p);
  return r.success ? undefined : `${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
};

describe('the profile schema refuses impossible machines', () => {
  it('accepts the bundled H100', () => {
    expect(problem(h100())).toBeUndefined();
  });

  it.each([
    ['a sustained matmul rate above the dense peak', (p: any) => (p.gpu.achieved_bf16_matmul_flops_per_second = 20 * p.gpu.bf16_dense_flops_per_second), /gpu.achieved_bf16_matmul_flops_per_second: .*exceeds × kernels.sustained_clock_ratio the dense bf16 peak/],
    ['a GEMM model whose full-wave rate puts the anchor matmul above the dense peak', (p: any) => (p.kernels.gemm.full_wave_flops_per_second = 20 * p.gpu.bf16_dense_flops_per_second), /kernels.gemm.full_wave_flops_per_second: .*exceeds at gpu.achieved_bf16_matmul_shape × kernels.sustained_clock_ratio the dense bf16 peak/],
    ['a sustained attention rate above the dense peak', (p: any) => (p.kernels.flash_attention.forward_causal_flops_per_second[0][0] = 3 * p.gpu.bf16_dense_flops_per_second), /kernels.flash_attention.forward_causal_flops_per_second: .*exceeds/],
    ['achieved HBM above the HBM peak', (p: any) => (p.gpu.achieved_hbm_bytes_per_second = 2 * p.gpu.hbm_bytes_per_second), /gpu.achieved_hbm_bytes_per_second: .*exceeds the HBM peak/],
    ['fp32 above tf32 above bf16', (p: any) => (p.gpu.tf32_dense_flops_per_second = 2 * p.gpu.bf16_dense_flops_per_second), /gpu.tf32_dense_flops_per_second: .*exceeds the dense bf16 peak/],
    ['a ring faster than its link', (p: any) => (p.nccl.intra_ring_busbw_bytes_per_second = 2 * p.node.intra.bytes_per_second_per_gpu), /nccl.intra_ring_busbw_bytes_per_second: .*exceeds the per-GPU link/],
    ['NCCL faster than the NIC line rate', (p: any) => (p.nccl.inter_busbw_efficiency = 1.5), /nccl.inter_busbw_efficiency: must be ≤ 1/],
    ['more collective SMs than SMs', (p: any) => (p.kernels.collective_sm_count = p.kernels.sm_count + 1), /kernels.collective_sm_count: .*exceeds the SMs/],
    ['a CUDA context larger than the GPU', (p: any) => (p.runtime.cuda_context_bytes = 2 * p.gpu.memory_bytes), /runtime.cuda_context_bytes: .*exceeds the GPU memory/],
  ])('%s', (_name, edit, pattern) => {
    const p = h100();
    edit(p);
    expect(problem(p)).toMatch(pattern);
  });

  it('a card whose microbenchmark beats its spec peak (boost clock) is fine while the sustained rate stays below it', () => {
    const p = h100();
    p.gpu.achieved_bf16_matmul_flops_per_second = 1.03 * p.gpu.bf16_dense_flops_per_second;
    expect(problem(p)).toBeUndefined();
  });
});
