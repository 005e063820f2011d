import { describe, expect, it } from 'vitest';
import { computeCalibration, PRIMARY_COMPUTE_KEYS, SECONDARY_COMPUTE_KEYS } from '../../src/compute/calibration.ts';
import { loadHardwareProfile } from '../../src/hardware/index.ts';

const sources = (over: Record<string, string>) => Object.fromEntries([...PRIMARY_COMPUTE_KEYS, ...SECONDARY_COMPUTE_KEYS].map((k) => [k, over[k] ?? 'measured on this GPU (a benchmark)']));

describe('compute calibration from the profile sources', () => {
  it('is measured when no compute input says derived', () => {
    expect(computeCalibration({ sources: sources({}) })).toEqual({ compute: 'measured', derived: [] });
  });

  it('is partial when only secondary shape parameters are derived', () => {
    const c = computeCalibration({ sources: sources({ 'kernels.gemm.k_overhead_elements': 'derived: from H100' }) });
    expect(c).toEqual({ compute: 'partial', derived: ['kernels.gemm.k_overhead_elements'] });
  });

  it('is derived when a primary rate is, and lists it first', () => {
    const c = computeCalibration({ sources: sources({ 'kernels.gemm.fixed_seconds': 'Derived from X', 'kernels.sustained_clock_ratio': 'derived, uncertain' }) });
    expect(c.compute).toBe('derived');
    expect(c.derived).toEqual(['kernels.sustained_clock_ratio', 'kernels.gemm.fixed_seconds']);
  });

  it('rates the bundled profiles: H100 measured, A100 partial, B200 derived', () => {
    expect(computeCalibration(loadHardwareProfile('dgx-h100')).compute).toBe('measured');
    expect(computeCalibration(loadHardwareProfile('dgx-a100-80gb')).compute).toBe('partial');
    expect(computeCalibration(loadHardwareProfile('dgx-b200')).compute).toBe('derived');
  });
});

describe('calibration of a run on another attention kernel', () => {
  it("rests on that kernel's table: H100's Triton table is derived from the A100 ratio, its FlashAttention 1 table measured", () => {
    const h100 = loadHardwareProfile('dgx-h100');
    const triton = computeCalibration(h100, 'flash_attention_triton');
    expect(triton.compute).toBe('derived');
    expect(triton.derived).toContain('kernels.attention_kernels.flash_attention_triton.forward_backward_causal_flops_per_second');
    expect(triton.derived.some((k) => k.startsWith('kernels.flash_attention.'))).toBe(false);
    // FlashAttention 1 on H100: forward + backward measured, only the forward split derived.
    expect(computeCalibration(h100, 'flash_attention_1').compute).toBe('partial');
    expect(computeCalibration(h100, 'flash_attention_2')).toEqual(computeCalibration(h100));
  });
});
