import { candidate } from './candidate.ts';
import { ringInterSteps, ringSteps } from './bus.ts';
import { nicsForGroup } from './params.ts';
import { ringLlFraction, simpleEfficiency } from './protocol.ts';
import type { ResolvedPlacement } from './placement-resolve.ts';
import type { CollectiveCost, CollectiveKind, NetworkParams } from './types.ts';

/**
 * Bus bandwidth a ring reaches. Inside a node: the measured ring busbw (NVLink/NVSwitch, or PCIe through
 * the host bridge; without P2P every hop is staged through host memory, which the PCIe profiles' figure
 * already is). Across nodes every ring crosses each node boundary once per channel, so a node sends
 * busBytes through its NICs: the ring runs at the NICs the group can drive (one per GPU on rail-optimised
 * nodes) × NCCL's per-NIC busbw, and never faster than the ring inside the node when the group has more
 * than one GPU there.
 */
export function ringBusBytesPerSecond(group: ResolvedPlacement, net: NetworkParams): number {
  if (group.nodes <= 1) return net.intraRingBusBytesPerSecond;
  const nics = nicsForGroup(net, group.gpusPerNode) * net.nicBusBytesPerSecond;
  return group.gpusPerNode > 1 ? Math.min(net.intraRingBusBytesPerSecond, nics) : nics;
}

/**
 * Ring latency per NCCL's model (tuning.cc): each of the `nsteps` steps costs the hop latency of its link,
 * `nInterSteps` of them crossing nodes. Simple's extra per-chunk cost is in its size efficiency.
 */
function ringLatency(kind: CollectiveKind, group: ResolvedPlacement, intraStep: number, interStep: number): number {
  const steps = ringSteps(kind, group.size);
  const inter = Math.min(steps, ringInterSteps(kind, group.nodes));
  return (steps - inter) * intraStep + inter * interStep;
}

/**
 * Ring/LL and Ring/Simple for any collective (NCCL has a ring for all of them): the same hops, LL at a
 * fixed fraction of the bandwidth, Simple at the size efficiency of the link class it is limited by.
 */
export function ringCandidates(kind: CollectiveKind, bytesPerRank: number, busBytes: number, group: ResolvedPlacement, net: NetworkParams): CollectiveCost[] {
  const cross = group.nodes > 1;
  const link = cross ? 'inter' : 'intra';
  const bw = ringBusBytesPerSecond(group, net);
  const latency = ringLatency(kind, group, net.intraLatencySeconds, net.interLatencySeconds);
  const half = cross ? net.interHalfBandwidthBytes : net.intraHalfBandwidthBytes;
  return [
    candidate('ring', 'LL', link, latency, busBytes, bw * ringLlFraction(kind, group.nodes)),
    candidate('ring', 'Simple', link, latency, busBytes, bw * simpleEfficiency(bytesPerRank, half, net.sizeEfficiencyExponent)),
  ];
}
