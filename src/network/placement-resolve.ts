import { ShardsimError } from '../util/errors.ts';
import type { GroupPlacement } from './types.ts';

/** A placement with every field known. */
export interface ResolvedPlacement {
  size: number;
  nodes: number;
  gpusPerNode: number;
}

/** Fills `gpusPerNode` (⌈size / nodes⌉ for the regular groups a DeviceMesh produces) and checks the shape. */
export function resolvePlacement(group: GroupPlacement): ResolvedPlacement {
  const size = group.size;
  const nodes = Math.max(1, Math.min(group.nodes, size));
  const gpusPerNode = group.gpusPerNode ?? Math.ceil(size / nodes);
  if (!(size >= 1) || !Number.isInteger(size) || !Number.isInteger(nodes) || !(gpusPerNode >= 1) || gpusPerNode * nodes < size) {
    throw new ShardsimError(`a group of ${size} ranks cannot sit on ${group.nodes} node(s) with ${group.gpusPerNode} GPU(s) each`, {
      key: 'group',
      fix: 'size must be a positive integer ≤ nodes × gpusPerNode',
    });
  }
  return { size, nodes, gpusPerNode };
}
