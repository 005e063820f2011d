import { ShardsimError } from '../util/errors.ts';
import type { GroupPlacement } from './types.ts';

/**
 * Sizes of a 4-D device mesh in PyTorch DeviceMesh order (dp_replicate, dp_shard, cp, tp), the order
 * torchtitan's ParallelDims and Axolotl build it in: tp innermost, so a TP group is consecutive ranks and
 * lands inside one node whenever tp divides the GPUs per node.
 */
export interface MeshShape {
  dpReplicate: number;
  dpShard: number;
  cp: number;
  tp: number;
}

export type MeshDimension = keyof MeshShape;

/** Outer to inner, as DeviceMesh lays out ranks (row-major: the last dimension varies fastest). */
export const MESH_ORDER: readonly MeshDimension[] = ['dpReplicate', 'dpShard', 'cp', 'tp'];

export interface DimensionGroups {
  dimension: MeshDimension;
  size: number;
  /** Every process group of this dimension: the ranks that differ only in this mesh coordinate. */
  groups: number[][];
  /** Placement of each group, in the same order. */
  placements: Required<GroupPlacement>[];
  /**
   * The placement the dimension's collectives are costed with: the most spread group (most nodes, then
   * fewest GPUs per node). In a regular mesh every group has the same placement.
   */
  placement: Required<GroupPlacement>;
}

/** Nodes a rank list spans and the fewest of its ranks on any of them (rank r sits on node ⌊r / gpusPerNode⌋). */
export function placementOf(ranks: readonly number[], gpusPerNode: number): Required<GroupPlacement> {
  const perNode = new Map<number, number>();
  for (const r of ranks) {
    const node = Math.floor(r / gpusPerNode);
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  // The node with the fewest members drives the fewest NICs: it bounds a ring that crosses nodes.
  // (A loop, not Math.min(...values): a group spanning 10⁵ nodes would overflow the call stack.)
  let fewest = Infinity;
  for (const n of perNode.values()) fewest = Math.min(fewest, n);
  return { size: ranks.length, nodes: perNode.size, gpusPerNode: fewest };
}

/**
 * Process groups of every mesh dimension for `worldSize` ranks on nodes of `gpusPerNode` GPUs, with ranks
 * filled node by node (torchrun's default: node k holds ranks k·G … k·G + G − 1). Rank r has mesh
 * coordinates from r = ((rep × shard + s) × cp + c) × tp + t; a dimension's groups are the ranks that
 * share the other three coordinates (DeviceMesh `mesh.get_group(dim)`).
 */
export function meshGroups(worldSize: number, gpusPerNode: number, mesh: MeshShape): Record<MeshDimension, DimensionGroups> {
  for (const d of MESH_ORDER) {
    if (!Number.isInteger(mesh[d]) || mesh[d] < 1) throw new ShardsimError(`mesh ${d} must be a positive integer, got ${mesh[d]}`, { key: 'mesh' });
  }
  if (!Number.isInteger(gpusPerNode) || gpusPerNode < 1) throw new ShardsimError(`gpus per node must be a positive integer, got ${gpusPerNode}`, { key: 'mesh' });
  const product = MESH_ORDER.reduce((p, d) => p * mesh[d], 1);
  if (product !== worldSize) {
    throw new ShardsimError(
      `mesh dp_replicate ${mesh.dpReplicate} × dp_shard ${mesh.dpShard} × cp ${mesh.cp} × tp ${mesh.tp} = ${product}, but the world has ${worldSize} GPUs`,
      { key: 'mesh', fix: 'make the product of the parallel sizes equal the GPU count' },
    );
  }
  const sizes = MESH_ORDER.map((d) => mesh[d]);
  // Stride of each dimension in the rank numbering (row-major).
  const strides = sizes.map((_, i) => sizes.slice(i + 1).reduce((p, s) => p * s, 1));
  const out = {} as Record<MeshDimension, DimensionGroups>;
  MESH_ORDER.forEach((dimension, i) => {
    const size = sizes[i]!;
    const stride = strides[i]!;
    const groups: number[][] = [];
    for (let r = 0; r < worldSize; r++) {
      // The group's first rank has this coordinate 0.
      if (Math.floor(r / stride) % size !== 0) continue;
      groups.push(Array.from({ length: size }, (_, k) => r + k * stride));
    }
    const placements = groups.map((g) => placementOf(g, gpusPerNode));
    const placement = placements.reduce((a, b) => (b.nodes > a.nodes || (b.nodes === a.nodes && b.gpusPerNode < a.gpusPerNode) ? b : a));
    out[dimension] = { dimension, size, groups, placements, placement };
  });
  return out;
}
