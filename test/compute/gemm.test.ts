import { describe, expect, it } from 'vitest';
import { bestWaveEfficiency, gemmKernelSeconds, kLoopEfficiency } from '../../src/compute/gemm.ts';
import { gemmSeconds, matmulRate, waveEfficiency, type GpuSpec } from '../../src/compute/kernels.ts';
import { listHardwareIds, loadHardwareProfile } from '../../src/hardware/index.ts';
import type { GemmKernelModel } from '../../src/hardware/types.ts';

const model: GemmKernelModel = { full_wave_flops_per_second: 800e12, k_overhead_elements: 128, fixed_seconds: 5e-6, tile_shapes: [[128, 128]] };
const gpuOf = (id: string): GpuSpec => {
  const p = loadHardwareProfile(id);
  return { ...p.gpu, kernels: p.kernels };
};

describe('GEMM shape model', () => {
  it('fills whole waves exactly when the tile count is a multiple of the SMs', () => {
    // 128 × 128 tiles: 12 × 11 = 132 tiles on 132 SMs.
    expect(bestWaveEfficiency(12 * 128, 11 * 128, 132, [[128, 128]])).toBeCloseTo(1, 12);
    // 13 × 11 = 143 tiles need a second, almost empty wave.
    expect(bestWaveEfficiency(13 * 128, 11 * 128, 132, [[128, 128]])).toBeCloseTo(143 / 264, 12);
  });

  it('charges padding of partial tiles and picks the best candidate tile', () => {
    const single = bestWaveEfficiency(200, 200, 132, [[128, 128]]);
    expect(single).toBeCloseTo((4 / 132) * (200 * 200) / (256 * 256), 12);
    expect(bestWaveEfficiency(200, 200, 132, [[128, 128], [64, 64]])).toBeGreaterThan(single);
  });

  it('makes small-k GEMMs slower per FLOP (pipeline fill per tile)', () => {
    expect(kLoopEfficiency(256, model)).toBeCloseTo(256 / 384, 12);
    const perFlop = (k: number) => gemmKernelSeconds({ m: 8192, n: 8192, k }, model, 132) / (2 * 8192 * 8192 * k);
    expect(perFlop(256)).toBeGreaterThan(1.3 * perFlop(8192));
  });

  it('scales with the clock ratio and adds the fixed latency', () => {
    const shape = { m: 4096, n: 4096, k: 4096 };
    const full = gemmKernelSeconds(shape, model, 132);
    const slow = gemmKernelSeconds(shape, model, 132, 0.5);
    expect(slow - model.fixed_seconds).toBeCloseTo(2 * (full - model.fixed_seconds), 12);
    expect(gemmKernelSeconds({ m: 4096, n: 4096, k: 0 }, model, 132)).toBe(0);
  });

  it('batched products fill waves together', () => {
    const one = gemmKernelSeconds({ m: 1024, n: 1024, k: 4096 }, model, 132);
    const four = gemmKernelSeconds({ m: 1024, n: 1024, k: 4096, batch: 4 }, model, 132);
    expect(four).toBeLessThan(4 * one);
  });
});

describe.each(listHardwareIds())('%s GEMMs', (id) => {
  const gpu = gpuOf(id);
  it('reproduces the measured best matmul at its shape (the anchor), before the sustained clock', () => {
    const [m, n, k] = gpu.achieved_bf16_matmul_shape as [number, number, number];
    const seconds = gemmKernelSeconds({ m, n, k }, gpu.kernels.gemm, gpu.kernels.sm_count) - gpu.kernels.gemm.fixed_seconds;
    expect((2 * m * n * k) / seconds / gpu.achieved_bf16_matmul_flops_per_second).toBeCloseTo(1, 2);
  });

  it('never beats the sustained full-wave rate, and skinny GEMMs are bandwidth-bound', () => {
    const big = { name: 'big', m: 16384, n: 16384, k: 16384 };
    expect((2 * big.m * big.n * big.k) / gemmSeconds(big, gpu, 'bf16')).toBeLessThanOrEqual(matmulRate(gpu, 'bf16'));
    const skinny = { name: 'skinny', m: 16, n: 65536, k: 65536 };
    const bytes = 2 * (skinny.m * skinny.k + skinny.k * skinny.n + skinny.m * skinny.n);
    expect(gemmSeconds(skinny, gpu, 'bf16')).toBeGreaterThanOrEqual(bytes / gpu.achieved_hbm_bytes_per_second);
    expect(waveEfficiency(4096, 4096, gpu)).toBeGreaterThan(0.9);
  });

  it('runs fp32 at the CUDA-core rate', () => {
    expect(matmulRate(gpu, 'fp32') / matmulRate(gpu, 'bf16')).toBeCloseTo(gpu.fp32_flops_per_second / gpu.bf16_dense_flops_per_second, 12);
  });
});
