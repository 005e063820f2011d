import { describe, expect, it } from 'vitest';
import { meshGroups, placementOf } from '../../src/network/index.ts';
import { ShardsimError } from '../../src/util/errors.ts';

describe('mesh → process groups and their placement (DeviceMesh order dp_replicate, dp_shard, cp, tp)', () => {
  it('16 GPUs, 8 per node, tp2 × shard4 × replicate2: tp and shard inside a node, replicate across', () => {
    const m = meshGroups(16, 8, { dpReplicate: 2, dpShard: 4, cp: 1, tp: 2 });
    expect(m.tp.groups).toHaveLength(8);
    expect(m.tp.groups[0]).toEqual([0, 1]);
    expect(m.tp.groups[7]).toEqual([14, 15]);
    expect(m.tp.placement).toEqual({ size: 2, nodes: 1, gpusPerNode: 2 });

    expect(m.dpShard.groups).toHaveLength(4);
    expect(m.dpShard.groups[0]).toEqual([0, 2, 4, 6]);
    expect(m.dpShard.groups[1]).toEqual([1, 3, 5, 7]);
    expect(m.dpShard.groups[2]).toEqual([8, 10, 12, 14]);
    expect(m.dpShard.placement).toEqual({ size: 4, nodes: 1, gpusPerNode: 4 });

    expect(m.dpReplicate.groups).toHaveLength(8);
    expect(m.dpReplicate.groups[0]).toEqual([0, 8]);
    expect(m.dpReplicate.groups[5]).toEqual([5, 13]);
    expect(m.dpReplicate.placement).toEqual({ size: 2, nodes: 2, gpusPerNode: 1 });

    expect(m.cp.groups).toHaveLength(16);
    expect(m.cp.placement).toEqual({ size: 1, nodes: 1, gpusPerNode: 1 });
  });

  it('every dimension partitions the world', () => {
    const m = meshGroups(32, 8, { dpReplicate: 2, dpShard: 2, cp: 2, tp: 4 });
    for (const d of [m.dpReplicate, m.dpShard, m.cp, m.tp]) {
      const all = d.groups.flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 32 }, (_, i) => i));
      expect(d.groups.every((g) => g.length === d.size)).toBe(true);
    }
    // cp sits between shard and tp: stride tp = 4.
    expect(m.cp.groups[0]).toEqual([0, 4]);
    expect(m.cp.placement).toEqual({ size: 2, nodes: 1, gpusPerNode: 2 });
    // shard stride cp × tp = 8 = a whole node: the shard group spans two nodes, one GPU on each.
    expect(m.dpShard.groups[0]).toEqual([0, 8]);
    expect(m.dpShard.placement).toEqual({ size: 2, nodes: 2, gpusPerNode: 1 });
    expect(m.dpReplicate.groups[0]).toEqual([0, 16]);
  });

  it('pure FSDP over 4 nodes: one shard group across all nodes, 8 GPUs on each', () => {
    const m = meshGroups(32, 8, { dpReplicate: 1, dpShard: 32, cp: 1, tp: 1 });
    expect(m.dpShard.groups).toHaveLength(1);
    expect(m.dpShard.placement).toEqual({ size: 32, nodes: 4, gpusPerNode: 8 });
  });

  it('a tp group that straddles nodes is reported as the most spread placement', () => {
    // tp 3 on 8-GPU nodes: ranks 6,7,8 span two nodes.
    const m = meshGroups(24, 8, { dpReplicate: 1, dpShard: 8, cp: 1, tp: 3 });
    expect(m.tp.groups[2]).toEqual([6, 7, 8]);
    // Node 0 holds 2 of them, node 1 only rank 8: its single NIC bounds the ring.
    expect(m.tp.placements[2]).toEqual({ size: 3, nodes: 2, gpusPerNode: 1 });
    expect(m.tp.placements[0]).toEqual({ size: 3, nodes: 1, gpusPerNode: 3 });
    expect(m.tp.placement).toEqual({ size: 3, nodes: 2, gpusPerNode: 1 });
  });

  it('placementOf counts nodes and the members on the emptiest node (the NIC bottleneck)', () => {
    expect(placementOf([0, 1, 8, 9, 10], 8)).toEqual({ size: 5, nodes: 2, gpusPerNode: 2 });
  });

  it('refuses a mesh whose product is not the world size', () => {
    expect(() => meshGroups(16, 8, { dpReplicate: 2, dpShard: 2, cp: 1, tp: 2 })).toThrow(ShardsimError);
    expect(() => meshGroups(16, 8, { dpReplicate: 2, dpShard: 2, cp: 1, tp: 2 })).toThrow(/= 8, but the world has 16 GPUs/);
    expect(() => meshGroups(8, 8, { dpReplicate: 0, dpShard: 8, cp: 1, tp: 1 })).toThrow(/positive integer/);
  });
});
