import { candidate } from './candidate.ts';
import { nicsForGroup } from './params.ts';
import { ringLlFraction, simpleEfficiency } from './protocol.ts';
import type { ResolvedPlacement } from './placement-resolve.ts';
import type { CollectiveCost, NetworkParams } from './types.ts';

/**
 * NCCL's AllToAll: a grouped send/recv of S/n bytes from every rank to every other rank (NVIDIA/nccl
 * `src/collectives.cc` ncclAllToAll: ncclGroupStart, ncclSend/ncclRecv per peer, ncclGroupEnd). S is the
 * nccl-tests "size" (a rank's whole send buffer); 1/n stays local and (n−1)/n moves, so
 * busbw = algbw × (n−1)/n (nccl-tests `src/alltoall.cu` AlltoAllGetBw; sjeaugey in nccl-tests#130).
 *
 * The peers on the rank's own node are reached over NVLink/PCIe, the others over the network, both at once;
 * the slower share sets the time (nccl-tests#130: "the portion that's going through the network will
 * determine the global time": busbw = N/(N−1) × the network bandwidth per GPU on N nodes). The network share
 * goes through the GPU's own NIC: all-to-all "cannot aggregate the bandwidth of multiple NICs" (sjeaugey,
 * nccl-tests#267), so a GPU gets one rail NIC's bus bandwidth (params.ts nicsForGroup of 1 GPU). Inside a
 * node the grouped sends reach the profile's measured all-to-all share of the ring busbw
 * (`nccl.alltoall_intra_efficiency`). Simple's size efficiency is a function of one peer's message (S/n);
 * the latency is one send/recv step per peer (NCCL issues the n − 1 pairs from one group call).
 *
 * Axolotl's EP runs DeepEP's kernels, not NCCL's AllToAll; DeepEP v1.2.1 (the version Axolotl pins) publishes
 * for its normal kernels on H800 (~160 GB/s NVLink, one 50 GB/s CX7 NIC per GPU; 4096 tokens × 7168 hidden,
 * top-8): intranode EP 8 dispatch 153 / combine 158 GB/s, internode EP 16 43 / 43 GB/s, EP 32 58 / 57 GB/s
 * "bottleneck bandwidth" (deepseek-ai/DeepEP README at v1.2.1). As shares of the links that is ~0.96 of NVLink
 * and ~0.86 of a NIC, against this model's ~0.80 of NVLink (ring busbw × the measured all-to-all share on
 * H100) and 0.96 of a NIC (`nccl.inter_busbw_efficiency`): a cross-check, not a fit — no DeepEP measurement on
 * a GPU the profiles hold.
 */
export function allToAllCandidates(bytes: number, group: ResolvedPlacement, net: NetworkParams): CollectiveCost[] {
  const n = group.size;
  const perNode = Math.min(group.gpusPerNode, n);
  const perPeer = bytes / n;
  const busBytes = (bytes * (n - 1)) / n;
  const intraShare = (perNode - 1) / n;
  const interShare = (n - perNode) / n;
  const intraBw = net.intraRingBusBytesPerSecond * net.alltoallIntraEfficiency;
  const interBw = nicsForGroup(net, 1) * net.nicBusBytesPerSecond;
  const cross = group.nodes > 1;
  const link = cross ? 'inter' : 'intra';
  const latency = (perNode - 1) * net.intraLatencySeconds + (cross ? (n - perNode) * net.interLatencySeconds : 0);
  const busbwAt = (intraFactor: number, interFactor: number) => {
    // Seconds per bus byte of each share; the slower one sets the pace.
    const intraT = intraShare > 0 ? intraShare / (intraBw * intraFactor) : 0;
    const interT = interShare > 0 ? interShare / (interBw * interFactor) : 0;
    return ((n - 1) / n) / Math.max(intraT, interT);
  };
  const intraSimple = simpleEfficiency(perPeer, net.intraHalfBandwidthBytes, net.sizeEfficiencyExponent);
  const interSimple = simpleEfficiency(perPeer, net.interHalfBandwidthBytes, net.sizeEfficiencyExponent);
  const ll = ringLlFraction('send_recv', group.nodes);
  return [candidate('p2p', 'LL', link, latency, busBytes, busbwAt(ll, ll)), candidate('p2p', 'Simple', link, latency, busBytes, busbwAt(intraSimple, interSimple))];
}
