import { describe, expect, it } from 'vitest';
import { leafPaths, listHardwareIds, loadHardwareProfile, numericLeafPaths } from '../../src/hardware/index.ts';
import type { HardwareProfile } from '../../src/hardware/index.ts';
import { computeCalibration } from '../../src/compute/calibration.ts';
import { flashAttentionKernelSeconds } from '../../src/compute/flash-attention.ts';
import { gemmKernelSeconds } from '../../src/compute/gemm.ts';

const REQUIRED = [
  'dgx-a100-40gb',
  'dgx-a100-80gb',
  'dgx-h100',
  'hgx-h200',
  'dgx-b200',
  'h100-96gb-grand-teton',
  '8x-l40s-pcie',
  '8x-rtx4090-pcie',
  '8x-rtx3090-pcie',
  '8x-rtxa6000-pcie',
];

const ids = listHardwareIds();
const profiles: [string, HardwareProfile][] = ids.map((id) => [id, loadHardwareProfile(id)]);

describe('bundled hardware profiles', () => {
  it('include every required node type', () => {
    for (const id of REQUIRED) expect(ids).toContain(id);
  });

  it.each(ids)('%s loads, validates and carries its own id', (id) => {
    const p = loadHardwareProfile(id);
    expect(p.id).toBe(id);
    expect(p.name.length).toBeGreaterThan(0);
  });

  describe.each(profiles)('%s', (_id, p) => {
    it('has a non-empty source for every numeric leaf', () => {
      const numeric = numericLeafPaths(p);
      expect(numeric.length).toBeGreaterThan(20);
      const missing = numeric.filter((path) => !(p.sources[path] ?? '').trim());
      expect(missing).toEqual([]);
    });

    it('has no source keys that name non-existent fields', () => {
      const leaves = new Set(leafPaths(p).map((l) => l.path));
      expect(Object.keys(p.sources).filter((k) => !leaves.has(k))).toEqual([]);
    });

    it('marks derived figures as derived or assumed, never silently', () => {
      // Every source is a sentence, not a bare number or "TODO".
      for (const [key, text] of Object.entries(p.sources)) {
        expect(text, key).not.toMatch(/^\s*(todo|tbd|\?)\s*$/i);
        expect(text.length, key).toBeGreaterThan(10);
      }
    });

    it('is physically sane: compute', () => {
      const g = p.gpu;
      expect(g.achieved_bf16_matmul_flops_per_second).toBeLessThanOrEqual(1.1 * g.bf16_dense_flops_per_second);
      expect(g.achieved_bf16_matmul_flops_per_second).toBeGreaterThan(0.4 * g.bf16_dense_flops_per_second);
      expect(g.tf32_dense_flops_per_second).toBeLessThanOrEqual(g.bf16_dense_flops_per_second);
      // Attention kernels never beat the GPU's best matmul; the GEMM model's full-wave peak stays below the
      // dense peak at the clock the microbenchmarks ran.
      const fa = p.kernels.flash_attention;
      for (const table of [fa.forward_flops_per_second, fa.forward_causal_flops_per_second, fa.forward_backward_flops_per_second, fa.forward_backward_causal_flops_per_second]) {
        for (const rate of table.flat()) expect(rate).toBeLessThanOrEqual(g.achieved_bf16_matmul_flops_per_second);
      }
      expect(p.kernels.gemm.full_wave_flops_per_second).toBeGreaterThanOrEqual(g.achieved_bf16_matmul_flops_per_second);
      expect(p.kernels.gemm.full_wave_flops_per_second).toBeLessThanOrEqual(1.1 * g.bf16_dense_flops_per_second);
      expect(p.kernels.sustained_clock_ratio).toBeGreaterThan(0.5);
      expect(Number.isInteger(p.kernels.sm_count)).toBe(true);
    });

    it('is physically sane: memory', () => {
      const g = p.gpu;
      expect(g.achieved_hbm_bytes_per_second).toBeLessThanOrEqual(g.hbm_bytes_per_second);
      expect(g.achieved_hbm_bytes_per_second).toBeGreaterThan(0.5 * g.hbm_bytes_per_second);
      // Between 16 GiB and 256 GiB, stored as whole bytes.
      expect(Number.isInteger(g.memory_bytes)).toBe(true);
      expect(g.memory_bytes).toBeGreaterThan(16 * 2 ** 30);
      expect(g.memory_bytes).toBeLessThan(256 * 2 ** 30);
      expect(p.runtime.cuda_context_bytes).toBeLessThan(0.1 * g.memory_bytes);
    });

    it('is physically sane: interconnect', () => {
      const { intra, host_link: host } = p.node;
      // Ring AllReduce busbw is bounded by the per-GPU link (nccl-tests doc/PERFORMANCE.md).
      expect(p.nccl.intra_ring_busbw_bytes_per_second).toBeLessThanOrEqual(intra.bytes_per_second_per_gpu);
      // NVLS only where NVSwitch SHARP exists.
      if (intra.kind === 'pcie') expect(intra.nvls).toBe(false);
      if (!intra.nvls) expect(p.nccl.intra_nvls_busbw_bytes_per_second).toBe(0);
      else expect(p.nccl.intra_nvls_busbw_bytes_per_second).toBeGreaterThan(p.nccl.intra_ring_busbw_bytes_per_second);
      // Across nodes NCCL cannot beat the NIC line rate.
      expect(p.nccl.inter_busbw_efficiency).toBeLessThanOrEqual(1);
      expect(p.scale_out.nics_per_node).toBeLessThanOrEqual(p.node.gpus_per_node);
      // Pageable copies never beat pinned ones; host copies never beat PCIe Gen5 x16.
      expect(host.h2d_pageable_bytes_per_second).toBeLessThanOrEqual(host.h2d_pinned_bytes_per_second);
      expect(host.d2h_pageable_bytes_per_second).toBeLessThanOrEqual(host.d2h_pinned_bytes_per_second);
      expect(Math.max(host.h2d_pinned_bytes_per_second, host.d2h_pinned_bytes_per_second)).toBeLessThanOrEqual(63e9);
      // α is microseconds, not milliseconds or nanoseconds.
      for (const lat of [p.nccl.intra_latency_seconds, p.nccl.inter_latency_seconds, p.kernels.launch_seconds]) {
        expect(lat).toBeGreaterThan(1e-7);
        expect(lat).toBeLessThan(1e-4);
      }
    });

    it('has a plausible price', () => {
      expect(p.price.usd_per_gpu_hour).toBeGreaterThan(0.1);
      expect(p.price.usd_per_gpu_hour).toBeLessThan(20);
    });
  });

  it('GeForce has no P2P; NVSwitch systems do', () => {
    expect(loadHardwareProfile('8x-rtx4090-pcie').node.intra.p2p).toBe(false);
    expect(loadHardwareProfile('8x-rtx3090-pcie').node.intra.p2p).toBe(false);
    for (const [, p] of profiles) if (p.node.intra.kind === 'nvswitch') expect(p.node.intra.p2p).toBe(true);
  });

  it('NVLS exactly on Hopper/Blackwell NVSwitch systems', () => {
    const withNvls = profiles.filter(([, p]) => p.node.intra.nvls).map(([id]) => id).sort();
    expect(withNvls).toEqual(['dgx-b200', 'dgx-h100', 'h100-96gb-grand-teton', 'hgx-h200']);
  });

  it('keeps key figures from the reference data', () => {
    const h100 = loadHardwareProfile('dgx-h100');
    expect(h100.gpu.bf16_dense_flops_per_second).toBe(9.89e14);
    expect(h100.gpu.memory_bytes).toBe(81559 * 2 ** 20);
    expect(loadHardwareProfile('dgx-a100-80gb').gpu.memory_bytes).toBe(85899345920);
    expect(loadHardwareProfile('h100-96gb-grand-teton').gpu.tdp_watts).toBe(500);
  });

  describe('Ampere GA102 PCIe boxes seen in PEFT runs (8x-rtx3090-pcie, 8x-rtxa6000-pcie)', () => {
    const rtx3090 = loadHardwareProfile('8x-rtx3090-pcie');
    const a6000 = loadHardwareProfile('8x-rtxa6000-pcie');

    it('carry the memory nvidia-smi reports (24576 MiB; 49140 MiB with ECC off)', () => {
      expect(rtx3090.gpu.memory_bytes).toBe(24576 * 2 ** 20);
      expect(a6000.gpu.memory_bytes).toBe(49140 * 2 ** 20);
    });

    it('are PCIe-only, NCCL bounded by the x16 link', () => {
      for (const p of [rtx3090, a6000]) {
        expect(p.node.intra.kind).toBe('pcie');
        expect(p.node.intra.nvls).toBe(false);
        expect(p.nccl.intra_ring_busbw_bytes_per_second).toBeLessThan(p.node.intra.bytes_per_second_per_gpu);
      }
    });

    it('say their compute tables are not measured on these GPUs', () => {
      for (const p of [rtx3090, a6000]) {
        const c = computeCalibration(p);
        expect(c.compute).toBe('derived');
        expect(c.derived).toContain('kernels.flash_attention.forward_backward_causal_flops_per_second');
        expect(c.derived).not.toContain('gpu.achieved_bf16_matmul_flops_per_second');
      }
    });

    it('keep GeForce at half-rate fp32-accumulate tensor math: bf16 peak 2x fp32 on the 3090, 4x on the A6000', () => {
      expect(rtx3090.gpu.bf16_dense_flops_per_second / rtx3090.gpu.fp32_flops_per_second).toBeCloseTo(2, 1);
      expect(a6000.gpu.bf16_dense_flops_per_second / a6000.gpu.fp32_flops_per_second).toBeCloseTo(4, 1);
    });

    it('run the same GEMM and attention kernels faster on the A6000 than on the 3090', () => {
      const gemm = (p: HardwareProfile) => gemmKernelSeconds({ m: 4096, n: 14336, k: 4096 }, p.kernels.gemm, p.kernels.sm_count, p.kernels.sustained_clock_ratio);
      expect(gemm(a6000)).toBeLessThan(gemm(rtx3090));
      const shape = { batch: 2, heads: 32, queryLen: 2048, keyLen: 2048, headDim: 128, causal: true };
      for (const pass of ['forward', 'backward'] as const) {
        const fa = (p: HardwareProfile) => flashAttentionKernelSeconds(shape, p.kernels.flash_attention, pass, p.kernels.sustained_clock_ratio);
        expect(fa(a6000)).toBeLessThan(fa(rtx3090));
      }
    });
  });
});
