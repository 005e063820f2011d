import { describe, expect, it } from 'vitest';
import { flashAttentionFlops, flashAttentionKernelSeconds, paddedHeadDim, tableRate, type FlashAttentionShape } from '../../src/compute/flash-attention.ts';
import { flashAttentionSeconds, flashAttentionShapeSeconds, type GpuSpec } from '../../src/compute/kernels.ts';
import { loadHardwareProfile } from '../../src/hardware/index.ts';

const p = loadHardwareProfile('dgx-h100');
const gpu: GpuSpec = { ...p.gpu, kernels: p.kernels };
const table = p.kernels.flash_attention;
const shape = (o: Partial<FlashAttentionShape> = {}): FlashAttentionShape => ({ batch: 2, heads: 32, queryLen: 4096, keyLen: 4096, headDim: 128, causal: true, ...o });

describe('FlashAttention-2 from the measured table', () => {
  it('runs the next compiled head dim (flash-attn HEADDIM_SWITCH)', () => {
    expect([32, 64, 80, 96, 100, 128, 160, 256].map(paddedHeadDim)).toEqual([32, 64, 96, 96, 128, 128, 192, 256]);
    expect(flashAttentionFlops(shape({ headDim: 80 }))).toBe(flashAttentionFlops(shape({ headDim: 96 })));
  });

  it('counts causal work as half, a sliding window as the band', () => {
    const full = flashAttentionFlops(shape({ causal: false }));
    expect(flashAttentionFlops(shape())).toBe(full / 2);
    // Σ_i min(i, w) ≈ s·w·(1 − w/2s) keys over s queries.
    expect(flashAttentionFlops(shape({ window: 1024 }))).toBeCloseTo(4 * 2 * 32 * 4096 * 1024 * 128 * (1 - 1024 / (2 * 4096)), 0);
    expect(flashAttentionFlops(shape({ window: 1024 }))).toBeLessThan(flashAttentionFlops(shape()));
  });

  it('reads grid points exactly and interpolates between them', () => {
    const row = table.forward_causal_flops_per_second[1]!;
    expect(tableRate(table, table.forward_causal_flops_per_second, 128, 2048)).toBe(row[2]);
    const mid = tableRate(table, table.forward_causal_flops_per_second, 128, Math.sqrt(2048 * 4096));
    expect(mid).toBeCloseTo((row[2]! + row[3]!) / 2, 0);
    expect(tableRate(table, table.forward_causal_flops_per_second, 128, 1e6)).toBe(row[row.length - 1]);
  });

  it('forward at a grid point is FLOPs over the table rate; backward is (forward+backward) − forward', () => {
    const s = shape({ queryLen: 2048, keyLen: 2048 });
    const flops = flashAttentionFlops(s);
    const fwd = flashAttentionKernelSeconds(s, table, 'forward');
    const bwd = flashAttentionKernelSeconds(s, table, 'backward');
    expect(fwd).toBeCloseTo(flops / table.forward_causal_flops_per_second[1]![2]!, 12);
    expect(fwd + bwd).toBeCloseTo((3.5 * flops) / table.forward_backward_causal_flops_per_second[1]![2]!, 12);
    expect(bwd / fwd).toBeGreaterThan(2.5);
  });

  it('short kernels (ring-attention blocks) run less efficiently than one long one', () => {
    const whole = flashAttentionKernelSeconds(shape({ keyLen: 16384, queryLen: 16384 }), table, 'forward');
    const blocks = flashAttentionKernelSeconds(shape({ keyLen: 16384, queryLen: 16384, kernelSeqLen: 2048 }), table, 'forward');
    expect(blocks).toBeGreaterThan(whole);
  });

  it('runs at the sustained clock, and the flops-only entry point matches a 128 / 2k shape', () => {
    const s = shape({ queryLen: 2048, keyLen: 2048 });
    const t = flashAttentionShapeSeconds(s, gpu, 'forward') - gpu.kernels.launch_seconds;
    expect(t).toBeCloseTo(flashAttentionKernelSeconds(s, table, 'forward') / gpu.kernels.sustained_clock_ratio, 12);
    expect(flashAttentionSeconds(flashAttentionFlops(s), gpu, 'backward')).toBeCloseTo(flashAttentionShapeSeconds(s, gpu, 'backward'), 12);
  });
});
