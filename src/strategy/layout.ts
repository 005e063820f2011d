import type { Mesh, StrategyName } from '../config/types.ts';
import { meshGroups, placementOf, type GroupPlacement } from '../network/index.ts';

/** One kind of process group as a rank sees it: where its members sit, and which instance it is. */
export interface GroupRef {
  placement: GroupPlacement;
  /** A name for the group instance `rank` belongs to (collectives rendezvous per instance). */
  id(rank: number): string;
  /** Every instance of this kind of group (ranks in mesh order); what symmetry reduction refines over. */
  readonly groups: readonly (readonly number[])[];
  /** The index in `groups` of the instance `rank` belongs to. */
  groupOf(rank: number): number;
}

export interface ParallelLayout {
  /** Gradients are reduced (and, under FSDP, parameters sharded) over this group. */
  dataParallel: GroupRef;
  /** HSDP: the replicas the sharded gradients are all-reduced across (size 1 without HSDP). */
  replicate: GroupRef;
  tensor: GroupRef;
  context: GroupRef;
  /** Expert parallelism: the ranks that exchange tokens (all-to-all), one per expert slice (size 1 without EP). */
  expert: GroupRef;
  /** The ranks holding the same expert slice, over which FSDP shards it (Axolotl's `dp_shard` axis). */
  expertShard: GroupRef;
}

/**
 * Process groups from the device mesh in PyTorch's order (dp_replicate, dp_shard, cp, tp), tp innermost
 * (torch DeviceMesh row-major; src/network/placement.ts). FSDP shards over dp_shard × cp flattened, as
 * torchtitan and accelerate's ParallelismConfig build the `dp_shard_cp` mesh, and HSDP all-reduces over
 * dp_replicate; DDP all-reduces over every data-parallel and context-parallel rank (`dp_cp`).
 */
export function parallelLayout(strategy: StrategyName, mesh: Mesh, worldSize: number, gpusPerNode: number): ParallelLayout {
  // A pure function of a few numbers: sweeps and the advisor lower many plans on the same layout. Layouts
  // are never modified (reducedLayout copies), so the last few are shared.
  const key = `${strategy}|${mesh.dpReplicate}|${mesh.dpShard}|${mesh.cp}|${mesh.tp}|${mesh.ep}|${worldSize}|${gpusPerNode}`;
  let layout = recentLayouts.get(key);
  if (!layout) {
    layout = buildLayout(strategy, mesh, worldSize, gpusPerNode);
    recentLayouts.set(key, layout);
    if (recentLayouts.size > RECENT_LAYOUTS) recentLayouts.delete(recentLayouts.keys().next().value!);
  }
  return layout;
}

/** Layouts kept for reuse (oldest dropped first); a 16,384-rank world's groups are a few MB. */
const RECENT_LAYOUTS = 8;
const recentLayouts = new Map<string, ParallelLayout>();

function buildLayout(strategy: StrategyName, mesh: Mesh, worldSize: number, gpusPerNode: number): ParallelLayout {
  const fsdp = strategy === 'fsdp2' || strategy === 'fsdp1';
  const flat = fsdp
    ? { dpReplicate: mesh.dpReplicate, dpShard: mesh.dpShard * mesh.cp, cp: 1, tp: mesh.tp }
    : { dpReplicate: 1, dpShard: mesh.dpReplicate * mesh.dpShard * mesh.cp, cp: 1, tp: mesh.tp };
  const dims = meshGroups(worldSize, gpusPerNode, { dpReplicate: mesh.dpReplicate, dpShard: mesh.dpShard, cp: mesh.cp, tp: mesh.tp });
  const flatDims = meshGroups(worldSize, gpusPerNode, flat);
  const ref = (name: string, groups: number[][], placement: GroupPlacement): GroupRef => {
    const index = new Map<number, number>();
    groups.forEach((g, i) => g.forEach((r) => index.set(r, i)));
    return { placement, groups, groupOf: (rank) => index.get(rank) ?? 0, id: (rank) => `${name}${index.get(rank) ?? 0}` };
  };
  // Axolotl's EP mesh (ep, dp_shard, cp, tp) with ep outermost (monkeypatch/accelerate/parallelism_config.py
  // `_patched_get_mesh`; the plugin's fallback mesh in `_resolve_ep_group` orders it the same): an EP group is
  // ranks strided by world / ep, an expert-shard group consecutive ranks inside one ep slice.
  const ep = mesh.ep;
  const stride = worldSize / ep;
  const epGroups = Array.from({ length: stride }, (_, r) => Array.from({ length: ep }, (_, k) => r + k * stride));
  const shardGroups = Array.from({ length: ep }, (_, k) => Array.from({ length: stride }, (_, r) => k * stride + r));
  const spread = (groups: number[][]) => groups.map((g) => placementOf(g, gpusPerNode)).reduce((a, b) => (b.nodes > a.nodes || (b.nodes === a.nodes && b.gpusPerNode < a.gpusPerNode) ? b : a));
  return {
    expert: ref('ep', epGroups, spread(epGroups)),
    expertShard: ref('eps', shardGroups, spread(shardGroups)),
    dataParallel: ref('dp', flatDims.dpShard.groups, flatDims.dpShard.placement),
    replicate: ref('rep', flatDims.dpReplicate.groups, flatDims.dpReplicate.placement),
    tensor: ref('tp', dims.tp.groups, dims.tp.placement),
    context: ref('cp', dims.cp.groups, dims.cp.placement),
  };
}
