import { candidate } from './candidate.ts';
import { nicsForGroup } from './params.ts';
import { simpleEfficiency, TREE_EFFICIENCY, TREE_LL_FRACTION } from './protocol.ts';
import type { ResolvedPlacement } from './placement-resolve.ts';
import type { CollectiveCost, CollectiveKind, NetworkParams } from './types.ts';

/**
 * Algorithm bandwidth (S / t) of NCCL's tree AllReduce: a chain through the GPUs of each node and a double
 * binary tree across nodes (NVIDIA/nccl `src/graph/trees.cc`), reduce up then broadcast down.
 * - Inside a node a chain GPU sends S up and S down: the chain runs at half the intra ring bandwidth
 *   (tuning.cc: tree algbw = 0.5 × busBw).
 * - Across two nodes each node's NICs carry S each way (one tree up, the other down), so only the chain
 *   limits it and the tree may exceed the ring's wire limit (tuning.cc rates a ≤ 2-node tree on bwIntra;
 *   nccl-tests#196: "on two nodes, NCCL uses the tree algorithm which can indeed go beyond the network
 *   bottleneck"). Beyond two nodes an interior node feeds two children: half the NICs' bandwidth
 *   (tuning.cc: bwInter with the 0.5 ratio), below the ring, which therefore wins at large sizes.
 * - Both scaled by NCCL's tree efficiency 0.92.
 */
export function treeAlgBytesPerSecond(group: ResolvedPlacement, net: NetworkParams, intraAlgBytesPerSecond: number): number {
  const nics = nicsForGroup(net, group.gpusPerNode) * net.nicBusBytesPerSecond;
  const inter = group.nodes <= 2 ? nics : nics / 2;
  return TREE_EFFICIENCY * Math.min(intraAlgBytesPerSecond, inter);
}

/** log2 of the node count, rounded up: the depth of the inter-node binary tree (tuning.cc `log2i(nNodes)`). */
export function treeDepth(nodes: number): number {
  return Math.ceil(Math.log2(nodes) - 1e-9);
}

/** Tree/LL and Tree/Simple AllReduce across nodes: log-depth latency across nodes, a chain inside each. */
export function treeCandidates(kind: CollectiveKind, bytesPerRank: number, busBytes: number, group: ResolvedPlacement, net: NetworkParams): CollectiveCost[] {
  if (kind !== 'all_reduce' || group.nodes <= 1) return [];
  const chain = group.gpusPerNode > 1 ? net.intraRingBusBytesPerSecond / 2 : Infinity;
  // Quoted as nccl-tests busbw (algbw × 2(n−1)/n) so that busBytes / busbw is the bandwidth time.
  const bus = treeAlgBytesPerSecond(group, net, chain) * ((2 * (group.size - 1)) / group.size);
  const latency = treeLatency(group, net.intraLatencySeconds, net.interLatencySeconds);
  return [
    candidate('tree', 'LL', 'inter', latency, busBytes, bus * TREE_LL_FRACTION),
    candidate('tree', 'Simple', 'inter', latency, busBytes, bus * simpleEfficiency(bytesPerRank, net.interHalfBandwidthBytes, net.sizeEfficiencyExponent)),
  ];
}

/** 2 × ((ranks per node − 1) × intra hop + log2(nodes) × inter hop): up the tree and back down (tuning.cc). */
export function treeLatency(group: ResolvedPlacement, intraStep: number, interStep: number): number {
  return 2 * ((group.gpusPerNode - 1) * intraStep + treeDepth(group.nodes) * interStep);
}
