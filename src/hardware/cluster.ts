import { ShardsimError } from '../util/errors.ts';
import type { HardwareProfile } from './types.ts';

/** The machines a simulation runs on: `numNodes` identical nodes, `gpusPerNode` GPUs used on each. */
export interface Cluster {
  profile: HardwareProfile;
  numNodes: number;
  /** GPUs used per node (≤ profile.node.gpus_per_node; fewer for partial-node runs). */
  gpusPerNode: number;
  /** Total ranks = numNodes × gpusPerNode. */
  worldSize: number;
}

/**
 * Builds a cluster from a profile and a node count. `gpus` (Axolotl-side `simulation.gpus`) is an optional
 * total GPU count below numNodes × gpus_per_node, for single-GPU or partial-node runs; it must spread evenly
 * over the nodes (every node runs the same number of ranks).
 */
export function buildCluster(profile: HardwareProfile, numNodes: number, gpus?: number): Cluster {
  const perNode = profile.node.gpus_per_node;
  if (!Number.isInteger(numNodes) || numNodes < 1) {
    throw new ShardsimError(`num_nodes must be a positive integer, got ${numNodes}`, {
      key: 'simulation.num_nodes',
    });
  }
  const capacity = numNodes * perNode;
  if (gpus === undefined) {
    return { profile, numNodes, gpusPerNode: perNode, worldSize: capacity };
  }
  if (!Number.isInteger(gpus) || gpus < 1) {
    throw new ShardsimError(`gpus must be a positive integer, got ${gpus}`, { key: 'simulation.gpus' });
  }
  if (gpus > capacity) {
    throw new ShardsimError(
      `${gpus} GPUs requested but ${numNodes} node(s) of ${profile.id} have only ${capacity} (${perNode} per node)`,
      { key: 'simulation.gpus', fix: `use at most ${capacity} GPUs or raise num_nodes to ${Math.ceil(gpus / perNode)}` },
    );
  }
  if (gpus % numNodes !== 0) {
    throw new ShardsimError(`${gpus} GPUs cannot be spread evenly over ${numNodes} nodes`, {
      key: 'simulation.gpus',
      fix: `use a multiple of ${numNodes} GPUs (e.g. ${Math.max(numNodes, gpus - (gpus % numNodes))})`,
    });
  }
  const gpusPerNode = gpus / numNodes;
  return { profile, numNodes, gpusPerNode, worldSize: gpus };
}
