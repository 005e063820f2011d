import { describe, expect, it } from 'vitest';
import { listHardwareIds, loadHardwareProfile } from '../../src/hardware/index.ts';
import type { HardwareProfile } from '../../src/hardware/types.ts';
import {
  busFactor,
  collectiveCandidates,
  collectiveCost,
  networkParams,
  nicsForGroup,
  type Algorithm,
  type CollectiveKind,
  type GroupPlacement,
} from '../../src/network/index.ts';
import { sweepSizes } from '../../src/network/sweep.ts';

/**
 * Systems and sizes the calibration file does not cover: every profile, every collective, groups from
 * two GPUs to 64 nodes, sizes from 8 B to 8 GiB.
 */
const KINDS: CollectiveKind[] = ['all_reduce', 'all_gather', 'reduce_scatter', 'broadcast'];
const SIZES = sweepSizes(8, 8 * 2 ** 30).filter((_, i) => i % 3 === 0);

function groups(p: HardwareProfile): Required<GroupPlacement>[] {
  const g = p.node.gpus_per_node;
  const out: Required<GroupPlacement>[] = [
    { size: 2, nodes: 1, gpusPerNode: 2 },
    { size: g, nodes: 1, gpusPerNode: g },
    { size: 2, nodes: 2, gpusPerNode: 1 },
    { size: 2 * g, nodes: 2, gpusPerNode: g },
    { size: 8, nodes: 4, gpusPerNode: 2 },
    { size: 64 * g, nodes: 64, gpusPerNode: g },
  ];
  if (g >= 4) out.push({ size: 4, nodes: 1, gpusPerNode: 4 }, { size: 32, nodes: 8, gpusPerNode: 4 });
  return out;
}

/**
 * The physical wire a rank's traffic crosses: the per-GPU fabric link inside a node; across nodes the
 * line rate of the NICs the group drives, and the intra link too when the group has several GPUs a node.
 */
function physicalBytesPerSecond(p: HardwareProfile, g: Required<GroupPlacement>, interNodeBandwidth?: number): number {
  const link = p.node.intra.bytes_per_second_per_gpu;
  if (g.nodes <= 1) return link;
  const net = networkParams(p, interNodeBandwidth);
  const nics = nicsForGroup(net, g.gpusPerNode) * net.nicLineBytesPerSecond;
  return g.gpusPerNode > 1 ? Math.min(link, nics) : nics;
}

const profiles = listHardwareIds().map((id) => loadHardwareProfile(id));

describe('busbw never exceeds the physical link', () => {
  it.each(profiles.map((p) => [p.id, p] as const))('%s', (_id, p) => {
    const net = networkParams(p);
    let checked = 0;
    for (const kind of KINDS) {
      for (const g of groups(p)) {
        const wire = physicalBytesPerSecond(p, g);
        for (const bytes of SIZES) {
          for (const c of collectiveCandidates(kind, bytes, g, net)) {
            const busbw = (bytes * busFactor(kind, g.size)) / c.seconds;
            const algbw = bytes / c.seconds;
            if (c.algorithm === 'ring') expect(busbw, `${kind} ${bytes} B on ${JSON.stringify(g)} ${c.algorithm}`).toBeLessThanOrEqual(wire * (1 + 1e-9));
            // NVLS reduces in the switch and the tree moves ~S per node each way: their busbw may exceed
            // the wire (nccl-tests#196, nccl-tests doc), their algorithm bandwidth may not.
            else expect(algbw, `${kind} ${bytes} B on ${JSON.stringify(g)} ${c.algorithm}`).toBeLessThanOrEqual(wire * (1 + 1e-9));
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('send/recv never beats the link it crosses', () => {
    for (const p of profiles) {
      const net = networkParams(p);
      for (const g of [{ size: 2, nodes: 1 }, { size: 2, nodes: 2 }]) {
        const wire = physicalBytesPerSecond(p, { ...g, gpusPerNode: g.nodes === 1 ? 2 : 1 });
        for (const bytes of SIZES) expect(bytes / collectiveCost('send_recv', bytes, g, net).seconds).toBeLessThanOrEqual(wire);
      }
    }
  });

  it('the what-if wire bounds the ring too', () => {
    const p = loadHardwareProfile('dgx-h100');
    const g = { size: 16, nodes: 2, gpusPerNode: 8 };
    for (const bw of [50e9, 100e9, 400e9, 1600e9]) {
      const c = collectiveCost('all_gather', 8 * 2 ** 30, g, networkParams(p, bw), { algorithms: ['ring'] });
      expect(((8 * 2 ** 30) * busFactor('all_gather', 16)) / c.seconds).toBeLessThanOrEqual(physicalBytesPerSecond(p, g, bw));
    }
  });
});

describe('more inter-node bandwidth never slows a collective', () => {
  it.each(profiles.map((p) => [p.id, p] as const))('%s', (_id, p) => {
    const line = p.scale_out.nics_per_node * p.scale_out.bytes_per_second_per_nic;
    const scales = [0.125, 0.25, 0.5, 1, 2, 4, 16];
    for (const kind of [...KINDS, 'send_recv' as const]) {
      for (const g of groups(p).filter((x) => x.nodes > 1)) {
        const gg = kind === 'send_recv' ? { size: 2, nodes: 2, gpusPerNode: 1 } : g;
        for (const bytes of SIZES) {
          const times = scales.map((s) => collectiveCost(kind, bytes, gg, networkParams(p, s * line)).seconds);
          for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]! * (1 + 1e-12));
        }
        // And it does help a large cross-node transfer when the NICs are the bottleneck.
        const slow = collectiveCost(kind, 2 ** 30, gg, networkParams(p, 0.25 * line)).seconds;
        const fast = collectiveCost(kind, 2 ** 30, gg, networkParams(p, line)).seconds;
        expect(fast).toBeLessThan(slow);
      }
    }
  });
});

describe('busbw is non-decreasing with size within an algorithm', () => {
  const ALGOS: Algorithm[] = ['ring', 'tree', 'nvls', 'nvls_tree', 'p2p'];
  const all = sweepSizes(8, 8 * 2 ** 30);
  it.each(profiles.map((p) => [p.id, p] as const))('%s', (_id, p) => {
    const net = networkParams(p);
    let series = 0;
    for (const kind of [...KINDS, 'send_recv' as const]) {
      for (const g of kind === 'send_recv' ? [{ size: 2, nodes: 1 }, { size: 2, nodes: 2 }] : groups(p)) {
        for (const a of ALGOS) {
          const bw = all.map((b) => {
            const c = collectiveCandidates(kind, b, g, net, { algorithms: [a] });
            if (c.length === 0) return undefined;
            return (b * busFactor(kind, g.size)) / collectiveCost(kind, b, g, net, { algorithms: [a] }).seconds;
          });
          if (bw[0] === undefined) continue;
          series++;
          for (let i = 1; i < bw.length; i++) expect(bw[i]!, `${kind} ${a} ${JSON.stringify(g)} at ${all[i]} B`).toBeGreaterThanOrEqual(bw[i - 1]! * (1 - 1e-12));
        }
      }
    }
    expect(series).toBeGreaterThan(20);
  });
});
