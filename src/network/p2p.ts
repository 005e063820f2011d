import { candidate } from './candidate.ts';
import { nicsForGroup } from './params.ts';
import { ringLlFraction, simpleEfficiency } from './protocol.ts';
import type { ResolvedPlacement } from './placement-resolve.ts';
import type { CollectiveCost, NetworkParams } from './types.ts';

/**
 * One send/recv between two ranks (what ring attention's K/V exchange issues). Inside a node it runs at
 * the intra ring bandwidth (a ring is one such transfer per GPU at a time); across nodes through the
 * sending GPU's share of its node's NICs (one NIC on rail-optimised nodes, params.ts nicsForGroup). One hop
 * of latency, LL for small messages and Simple for large.
 */
export function p2pCandidates(bytes: number, group: ResolvedPlacement, net: NetworkParams): CollectiveCost[] {
  const cross = group.nodes > 1;
  const bw = cross ? nicsForGroup(net, 1) * net.nicBusBytesPerSecond : net.intraRingBusBytesPerSecond;
  const link = cross ? 'inter' : 'intra';
  const latency = cross ? net.interLatencySeconds : net.intraLatencySeconds;
  const half = cross ? net.interHalfBandwidthBytes : net.intraHalfBandwidthBytes;
  return [
    candidate('p2p', 'LL', link, latency, bytes, bw * ringLlFraction('send_recv', group.nodes)),
    candidate('p2p', 'Simple', link, latency, bytes, bw * simpleEfficiency(bytes, half, net.sizeEfficiencyExponent)),
  ];
}
