import { describe, expect, it } from 'vitest';
import { flashAttentionFlops, flashAttentionKernelSeconds, paddedHeadDim, tableRate, type FlashAttentionShape } from '../../src/compute/flash-attention.ts';
import { attentionKernelTable, flashAttentionSeconds, flashAttentionShapeSeconds, type GpuSpec } from '../../src/compute/kernels.ts';
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

describe('other fused attention kernels (kernels.attention_kernels)', () => {
  const a100 = loadHardwareProfile('dgx-a100-80gb');
  const a100Gpu: GpuSpec = { ...a100.gpu, kernels: a100.kernels };
  const s = shape({ queryLen: 2048, keyLen: 2048 });

  it("reads the named kernel's own table: forward + backward time is 3.5 × FLOPs over its measured rate", () => {
    const triton = attentionKernelTable(a100Gpu, 'flash_attention_triton');
    expect(triton).not.toBe(a100.kernels.flash_attention);
    const kernel = (pass: 'forward' | 'backward') => flashAttentionShapeSeconds(s, a100Gpu, pass, 'flash_attention_triton') - a100Gpu.kernels.launch_seconds;
    const both = kernel('forward') + kernel('backward');
    expect(both).toBeCloseTo((3.5 * flashAttentionFlops(s)) / (triton.forward_backward_causal_flops_per_second[1]![2]! * a100.kernels.sustained_clock_ratio), 12);
  });

  it('the Triton and v1 kernels are slower than FlashAttention-2 in every measured cell, and the default is FlashAttention-2', () => {
    const fa2 = a100.kernels.flash_attention;
    for (const name of ['flash_attention_triton', 'flash_attention_1'] as const) {
      const t = attentionKernelTable(a100Gpu, name);
      for (const key of ['forward_backward_causal_flops_per_second', 'forward_backward_flops_per_second'] as const) {
        t[key].forEach((row, i) => row.forEach((r, j) => expect(r).toBeLessThan(fa2[key][i]![j]!)));
      }
    }
    expect(flashAttentionShapeSeconds(s, a100Gpu, 'backward')).toBe(flashAttentionShapeSeconds(s, a100Gpu, 'backward', 'flash_attention_2'));
    expect(flashAttentionShapeSeconds(s, a100Gpu, 'backward', 'flash_attention_triton')).toBeGreaterThan(1.5 * flashAttentionShapeSeconds(s, a100Gpu, 'backward'));
  });

  it("the Triton kernel matches FlashAttention (v1) at head dim 64 but keeps its speed at head dim 128, where v1's CUDA kernels lose it", () => {
    for (const id of ['dgx-a100-80gb', 'dgx-a100-40gb', 'dgx-h100']) {
      const p = loadHardwareProfile(id);
      const gpu: GpuSpec = { ...p.gpu, kernels: p.kernels };
      const triton = attentionKernelTable(gpu, 'flash_attention_triton');
      const v1 = attentionKernelTable(gpu, 'flash_attention_1');
      for (const key of ['forward_backward_causal_flops_per_second', 'forward_backward_flops_per_second'] as const) {
        expect(triton[key][0]).toEqual(v1[key][0]);
        const last = triton.sequence_lengths.length - 1;
        // At 16k the head-dim-128 Triton rate is within 6% of its head-dim-64 rate; v1's falls by more than 10%.
        expect(triton[key][1]![last]! / triton[key][0]![last]!).toBeGreaterThan(0.94);
        expect(v1[key][1]![last]! / v1[key][0]![last]!).toBeLessThan(0.9);
      }
    }
  });

  it('refuses a kernel the profile has no table for, naming the key', () => {
    const bare: GpuSpec = { ...a100Gpu, kernels: { ...a100.kernels, attention_kernels: undefined } };
    expect(() => flashAttentionShapeSeconds(s, bare, 'forward', 'flash_attention_triton')).toThrow(/flash_attention_triton has no measured table/);
  });
});
