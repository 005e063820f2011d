import { describe, expect, it } from 'vitest';
import { loadHardwareProfile } from '../../src/hardware/index.ts';
import { busFactor, collectiveCandidates, collectiveCost, networkParams, type CollectiveKind, type GroupPlacement } from '../../src/network/index.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const net = (id: string, bw?: number) => networkParams(loadHardwareProfile(id), bw);
const busbw = (kind: CollectiveKind, bytes: number, g: GroupPlacement, id: string, bw?: number) =>
  (bytes * busFactor(kind, g.size)) / collectiveCost(kind, bytes, g, net(id, bw)).seconds;
const node8 = { size: 8, nodes: 1 };

describe('algorithm choice follows NCCL', () => {
  it('picks the candidate with the lowest predicted time (enqueue.cc getAlgoInfo)', () => {
    for (const bytes of [8, 64 * 1024, 4 * MiB, 256 * MiB, 4 * GiB]) {
      for (const g of [node8, { size: 16, nodes: 2 }, { size: 64, nodes: 8 }]) {
        const all = collectiveCandidates('all_reduce', bytes, g, net('dgx-h100'));
        const best = collectiveCost('all_reduce', bytes, g, net('dgx-h100'));
        expect(best.seconds).toBe(Math.min(...all.map((c) => c.seconds)));
        expect(new Set(all.map((c) => c.algorithm)).size).toBeGreaterThan(1);
      }
    }
  });

  it('NVLS only for AllReduce, inside one NVSwitch node with multicast, and only above two GPUs (nvls.cc ncclNvlsInit)', () => {
    expect(collectiveCost('all_reduce', GiB, node8, net('dgx-h100')).algorithm).toBe('nvls');
    expect(collectiveCost('all_reduce', GiB, { size: 2, nodes: 1 }, net('dgx-h100')).algorithm).toBe('ring');
    expect(collectiveCost('all_reduce', GiB, node8, net('dgx-a100-80gb')).algorithm).toBe('ring');
    expect(collectiveCost('all_reduce', GiB, node8, net('8x-l40s-pcie')).algorithm).toBe('ring');
    expect(collectiveCost('all_gather', GiB, node8, net('dgx-h100')).algorithm).toBe('ring');
    expect(collectiveCost('all_reduce', GiB, node8, net('dgx-h100'), { nvls: false }).algorithm).toBe('ring');
    // tuning.cc: plain NVLS is disabled across nodes without CollNet.
    const cross = collectiveCandidates('all_reduce', GiB, { size: 16, nodes: 2 }, net('dgx-h100')).map((c) => c.algorithm);
    expect(cross).not.toContain('nvls');
    expect(cross).toContain('nvls_tree');
  });

  it('NVLS busbw grows with the group as 2(n−1)/n at a constant algbw (nccl#1455: 420/440/460/480 at 5–8 H100s)', () => {
    const bw = [5, 6, 7, 8].map((n) => busbw('all_reduce', 8 * GiB, { size: n, nodes: 1 }, 'dgx-h100'));
    for (let i = 1; i < bw.length; i++) expect(bw[i]!).toBeGreaterThan(bw[i - 1]!);
    expect(bw[0]! / bw[3]!).toBeCloseTo((2 * 4) / 5 / ((2 * 7) / 8), 2);
  });

  it('LL for small messages, Simple (or NVLS) for large ones', () => {
    const small = collectiveCost('all_reduce', 32 * 1024, node8, net('dgx-a100-80gb'));
    const large = collectiveCost('all_reduce', GiB, node8, net('dgx-a100-80gb'));
    expect(small.protocol).toBe('LL');
    expect(large.protocol).toBe('Simple');
    expect(collectiveCost('all_reduce', 1024, node8, net('dgx-h100')).protocol).toBe('LL');
  });
});

describe('size-dependent efficiency', () => {
  it('A100 ring AllReduce: about half of peak at 16 MiB, not only because of latency (nccl-tests: 106 of 235 GB/s)', () => {
    const peak = net('dgx-a100-80gb').intraRingBusBytesPerSecond;
    const mid = collectiveCost('all_reduce', 16 * MiB, node8, net('dgx-a100-80gb'));
    const midBusbw = busbw('all_reduce', 16 * MiB, node8, 'dgx-a100-80gb');
    expect(midBusbw / peak).toBeGreaterThan(0.35);
    expect(midBusbw / peak).toBeLessThan(0.6);
    // The bandwidth term itself is below peak: a latency term alone would leave it at peak.
    expect(mid.busBytesPerSecond / peak).toBeLessThan(0.7);
    expect(mid.latencySeconds / mid.seconds).toBeLessThan(0.5);
    expect(busbw('all_reduce', 8 * GiB, node8, 'dgx-a100-80gb') / peak).toBeGreaterThan(0.95);
  });

  it('small messages are latency-bound: 8 B and 4 KiB take about the same time', () => {
    const t = (b: number) => collectiveCost('all_reduce', b, node8, net('dgx-h100')).seconds;
    expect(t(4096) / t(8)).toBeLessThan(1.05);
    expect(t(8)).toBeGreaterThan(20e-6);
  });
});

describe('across nodes', () => {
  it('a ring spanning full nodes runs at the NICs (8 × 48 GB/s on DGX H100), capped by the NVLink ring', () => {
    const p = net('dgx-h100');
    const bw = busbw('all_gather', 8 * GiB, { size: 16, nodes: 2 }, 'dgx-h100');
    expect(bw).toBeLessThanOrEqual(Math.min(p.intraRingBusBytesPerSecond, 8 * p.nicBusBytesPerSecond) + 1);
    expect(bw).toBeGreaterThan(0.9 * Math.min(p.intraRingBusBytesPerSecond, 8 * p.nicBusBytesPerSecond));
  });

  it('rail-optimised: a group with one GPU per node drives one NIC', () => {
    const p = net('dgx-h100');
    const one = busbw('all_gather', 8 * GiB, { size: 4, nodes: 4, gpusPerNode: 1 }, 'dgx-h100');
    const two = busbw('all_gather', 8 * GiB, { size: 8, nodes: 4, gpusPerNode: 2 }, 'dgx-h100');
    expect(one).toBeLessThanOrEqual(p.nicBusBytesPerSecond + 1);
    expect(two / one).toBeGreaterThan(1.8);
    // 4 NICs for 8 GPUs (the A100 40GB system of nccl-tests#119): two GPUs share a NIC, so a one-GPU-per-node
    // group gets half of one, while full nodes still reach all four NICs (the 96 GB/s ring).
    const a100 = networkParams(loadHardwareProfile('dgx-a100-40gb'), 4 * 25e9);
    const perNic = (4 * 25e9 * 0.96) / 4;
    expect(collectiveCost('all_gather', 8 * GiB, { size: 3, nodes: 3, gpusPerNode: 1 }, a100).busBytesPerSecond / (perNic / 2)).toBeCloseTo(1, 2);
    expect(busbw('all_reduce', 8 * GiB, { size: 24, nodes: 3 }, 'dgx-a100-40gb', 4 * 25e9)).toBeGreaterThan(0.95 * 4 * perNic);
  });

  it('two-node tree AllReduce can beat the wire bound (nccl-tests#196); beyond two nodes the ring wins at large sizes', () => {
    const p = net('dgx-a100-80gb');
    const wire = 8 * p.nicBusBytesPerSecond;
    const two = collectiveCost('all_reduce', 8 * GiB, { size: 16, nodes: 2 }, p);
    expect(two.algorithm).toBe('tree');
    expect(busbw('all_reduce', 8 * GiB, { size: 16, nodes: 2 }, 'dgx-a100-80gb')).toBeGreaterThan(wire);
    expect(collectiveCost('all_reduce', 8 * GiB, { size: 32, nodes: 4 }, p).algorithm).toBe('ring');
  });

  it('tree latency is log-depth: tiny AllReduce over 32 nodes picks the tree and costs far less than a 2·nodes-hop ring', () => {
    const p = net('dgx-h100');
    const g = { size: 256, nodes: 32 };
    const best = collectiveCost('all_reduce', 8, g, p);
    expect(best.algorithm).toBe('tree');
    const ring = collectiveCost('all_reduce', 8, g, p, { algorithms: ['ring'] });
    expect(ring.seconds / best.seconds).toBeGreaterThan(5);
    const small = collectiveCost('all_reduce', 8, { size: 16, nodes: 2 }, p, { algorithms: ['tree'] });
    // 2 → 32 nodes: depth 1 → 5, intra part unchanged.
    expect(best.seconds - small.seconds).toBeCloseTo(2 * 4 * p.interLatencySeconds, 9);
  });
});

describe('PCIe boxes and point-to-point', () => {
  it('PCIe rings stay under the PCIe link; GeForce without P2P is slower than L40S with it', () => {
    const l40s = busbw('all_reduce', GiB, node8, '8x-l40s-pcie');
    const rtx = busbw('all_reduce', GiB, node8, '8x-rtx4090-pcie');
    expect(l40s).toBeLessThan(loadHardwareProfile('8x-l40s-pcie').node.intra.bytes_per_second_per_gpu);
    expect(rtx).toBeLessThan(l40s);
    // Without P2P every hop is staged through host memory: bounded by the pinned host-link rate.
    const host = loadHardwareProfile('8x-rtx4090-pcie').node.host_link;
    expect(rtx).toBeLessThan(Math.min(host.h2d_pinned_bytes_per_second, host.d2h_pinned_bytes_per_second));
  });

  it('send/recv: NVLink inside a node, one NIC across nodes; bus factor 1', () => {
    const p = net('dgx-h100');
    const inside = collectiveCost('send_recv', GiB, { size: 2, nodes: 1 }, p);
    const across = collectiveCost('send_recv', GiB, { size: 2, nodes: 2 }, p);
    expect(inside.link).toBe('intra');
    expect(across.link).toBe('inter');
    expect(inside.busBytes).toBe(GiB);
    expect(GiB / across.seconds).toBeLessThanOrEqual(p.nicBusBytesPerSecond);
    expect(GiB / across.seconds).toBeGreaterThan(0.8 * p.nicBusBytesPerSecond);
    expect(across.seconds / inside.seconds).toBeGreaterThan(5);
  });

  it('broadcast: busbw equals algbw and reaches the ring bandwidth', () => {
    const p = net('dgx-a100-80gb');
    const c = collectiveCost('broadcast', 8 * GiB, node8, p);
    expect(c.busBytes).toBe(8 * GiB);
    expect((8 * GiB) / c.seconds / p.intraRingBusBytesPerSecond).toBeGreaterThan(0.95);
  });

  it('one rank or no bytes costs nothing', () => {
    expect(collectiveCost('all_reduce', GiB, { size: 1, nodes: 1 }, net('dgx-h100')).seconds).toBe(0);
    expect(collectiveCost('all_gather', 0, node8, net('dgx-h100')).algorithm).toBe('local');
  });
});
