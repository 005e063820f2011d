import { candidate } from './candidate.ts';
import { simpleEfficiency } from './protocol.ts';
import { treeAlgBytesPerSecond, treeDepth } from './tree.ts';
import type { ResolvedPlacement } from './placement-resolve.ts';
import type { CollectiveCost, CollectiveKind, NetworkParams } from './types.ts';

/**
 * NVLink SHARP needs an NVSwitch with multicast (profile `node.intra.nvls`) and more than two GPUs
 * (NVIDIA/nccl `src/transport/nvls.cc` ncclNvlsInit: `gpuCount <= 2` → no NVLS; support is the device's
 * CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED).
 */
export function nvlsEligible(group: ResolvedPlacement, net: NetworkParams): boolean {
  return net.nvls && net.nvlsAlgBytesPerSecond > 0 && group.gpusPerNode > 2;
}

/**
 * NVLS AllReduce inside one node: the switch reduces (multimem.ld_reduce) and multicasts the result, so
 * each GPU moves S each way whatever the group size — a constant algorithm bandwidth, busbw growing as
 * 2(n−1)/n — after a fixed latency. Simple protocol only (tuning.cc skips LL/LL128 for NVLS).
 * Across nodes tuning.cc disables plain NVLS unless CollNet (SHARP switches) is present
 * (`if (comm->nNodes > 1 ...) algoEnable[NCCL_ALGO_NVLS] = 0`) and offers NVLS_TREE instead: NVLS inside
 * each node, the inter-node tree across them.
 * NVLS for AllGather / ReduceScatter exists in recent NCCL but measured H100/H200 AllGather and
 * ReduceScatter stay at ring level (nccl#1281 ~350/360 GB/s; 361/363 GB/s at 16 GiB on H200), so only
 * AllReduce gets it here.
 */
export function nvlsCandidates(kind: CollectiveKind, bytesPerRank: number, busBytes: number, group: ResolvedPlacement, net: NetworkParams): CollectiveCost[] {
  if (kind !== 'all_reduce' || !nvlsEligible(group, net)) return [];
  const n = group.size;
  const factor = (2 * (n - 1)) / n;
  const k = net.sizeEfficiencyExponent;
  if (group.nodes <= 1) {
    const bus = net.nvlsAlgBytesPerSecond * factor * simpleEfficiency(bytesPerRank, net.nvlsHalfBandwidthBytes, k);
    return [candidate('nvls', 'Simple', 'intra', net.nvlsLatencySeconds, busBytes, bus)];
  }
  const bus = treeAlgBytesPerSecond(group, net, net.nvlsAlgBytesPerSecond) * factor * simpleEfficiency(bytesPerRank, net.interHalfBandwidthBytes, k);
  // tuning.cc NVLS_TREE latency: the NVLS part + 2 × log2(nodes) inter-node hops.
  const latency = net.nvlsLatencySeconds + 2 * treeDepth(group.nodes) * net.interLatencySeconds;
  return [candidate('nvls_tree', 'Simple', 'inter', latency, busBytes, bus)];
}
