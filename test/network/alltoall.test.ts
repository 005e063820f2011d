import { describe, expect, it } from 'vitest';
import { loadHardwareProfile } from '../../src/hardware/index.ts';
import { busFactor, collectiveCost, networkParams, COLLECTIVE_KINDS } from '../../src/network/index.ts';
import { COLLECTIVE_CLI_NAMES } from '../../src/network/types.ts';

const MiB = 2 ** 20;
const net = (id: string) => networkParams(loadHardwareProfile(id));
const busbw = (bytes: number, g: { size: number; nodes: number }, id = 'dgx-h100') => (bytes * busFactor('all_to_all', g.size)) / collectiveCost('all_to_all', bytes, g, net(id)).seconds;

describe('all-to-all (NCCL grouped send/recv)', () => {
  it('is a known collective under its nccl-tests name', () => {
    expect(COLLECTIVE_KINDS).toContain('all_to_all');
    expect(COLLECTIVE_CLI_NAMES.alltoall).toBe('all_to_all');
  });

  it('moves (n−1)/n of the buffer: busbw = algbw × (n−1)/n (nccl-tests#130)', () => {
    for (const n of [2, 4, 8, 16]) expect(busFactor('all_to_all', n)).toBeCloseTo((n - 1) / n, 12);
    const c = collectiveCost('all_to_all', 256 * MiB, { size: 8, nodes: 1 }, net('dgx-h100'));
    expect(c.busBytes).toBeCloseTo((256 * MiB * 7) / 8, 0);
    expect(c.seconds).toBeCloseTo(c.latencySeconds + c.busBytes / c.busBytesPerSecond, 12);
  });

  it('reaches the measured 4× H100 busbw of 334.9 GB/s at 500 MiB within 2% (nccl#2169)', () => {
    expect(busbw(524288000, { size: 4, nodes: 1 }) / 334.9e9).toBeGreaterThan(0.98);
    expect(busbw(524288000, { size: 4, nodes: 1 }) / 334.9e9).toBeLessThan(1.02);
  });

  it('across N nodes the network share sets the time: busbw ≈ N/(N−1) × one NIC (nccl-tests#130, #267)', () => {
    const nic = net('dgx-h100').nicBusBytesPerSecond;
    for (const nodes of [2, 4, 6]) {
      const b = busbw(2 ** 31, { size: 8 * nodes, nodes });
      const ideal = (nodes / (nodes - 1)) * nic;
      expect(b).toBeLessThanOrEqual(ideal * 1.0001);
      expect(b).toBeGreaterThan(ideal * 0.9);
      expect(collectiveCost('all_to_all', 2 ** 31, { size: 8 * nodes, nodes }, net('dgx-h100')).link).toBe('inter');
    }
    // More nodes → a larger share over the network → lower busbw.
    expect(busbw(2 ** 31, { size: 16, nodes: 2 })).toBeGreaterThan(busbw(2 ** 31, { size: 48, nodes: 6 }));
  });

  it('small messages pay latency and are far below peak; time grows with size', () => {
    const g = { size: 8, nodes: 1 };
    const small = collectiveCost('all_to_all', 64 * 1024, g, net('dgx-h100'));
    const large = collectiveCost('all_to_all', 256 * MiB, g, net('dgx-h100'));
    expect(small.seconds).toBeLessThan(large.seconds);
    expect(busbw(64 * 1024, g)).toBeLessThan(busbw(256 * MiB, g) / 4);
  });

  it('a profile without an all-to-all measurement runs it at the send/recv rate', () => {
    const a100 = net('dgx-a100-80gb');
    expect(a100.alltoallIntraEfficiency).toBe(1);
    expect(net('dgx-h100').alltoallIntraEfficiency).toBeLessThan(1);
  });
});
