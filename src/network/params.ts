import type { HardwareProfile } from '../hardware/types.ts';
import type { NetworkParams } from './types.ts';

/**
 * The collective model's constants from a hardware profile's `node`, `scale_out` and `nccl` blocks.
 *
 * Across nodes the bus bandwidth per NIC is the NIC's line rate × NCCL's measured efficiency on it
 * (`nccl.inter_busbw_efficiency`); `interNodeBandwidthBytesPerSecond` (a what-if, line rate per node)
 * replaces the profile's line rate: a node with twice the wire moves twice the bus bytes.
 *
 * NVLS: the profile's busbw is the all-GPUs figure; NVLS moves S per GPU each way whatever the group size
 * (multimem reduce + multicast store through the switch), so its constant is the algorithm bandwidth
 * busbw ÷ (2(G−1)/G), and the busbw of a smaller group follows from it (nccl#1455: 420/440/460/480 GB/s at
 * 5/6/7/8 H100s, algbw ≈ 260–275 throughout).
 */
export function networkParams(profile: HardwareProfile, interNodeBandwidthBytesPerSecond?: number): NetworkParams {
  const nics = profile.scale_out.nics_per_node;
  const nccl = profile.nccl;
  const efficiency = nccl.inter_busbw_efficiency;
  const lineRatePerNic = interNodeBandwidthBytesPerSecond !== undefined ? interNodeBandwidthBytesPerSecond / nics : profile.scale_out.bytes_per_second_per_nic;
  const nicBus = lineRatePerNic * efficiency;
  const gpus = profile.node.gpus_per_node;
  const nvls = profile.node.intra.nvls && nccl.intra_nvls_busbw_bytes_per_second > 0;
  return {
    intraRingBusBytesPerSecond: nccl.intra_ring_busbw_bytes_per_second,
    intraNvlsBusBytesPerSecond: nccl.intra_nvls_busbw_bytes_per_second,
    interBusBytesPerSecondPerGpu: Math.min(nccl.intra_ring_busbw_bytes_per_second, nics * nicBus),
    intraLatencySeconds: nccl.intra_latency_seconds,
    interLatencySeconds: nccl.inter_latency_seconds,
    nvls,
    gpusPerNode: gpus,
    intraKind: profile.node.intra.kind,
    p2p: profile.node.intra.p2p,
    intraLinkBytesPerSecond: profile.node.intra.bytes_per_second_per_gpu,
    nicsPerNode: nics,
    nicLineBytesPerSecond: lineRatePerNic,
    nicBusBytesPerSecond: nicBus,
    intraHalfBandwidthBytes: nccl.intra_half_bandwidth_bytes,
    interHalfBandwidthBytes: nccl.inter_half_bandwidth_bytes,
    sizeEfficiencyExponent: nccl.size_efficiency_exponent,
    nvlsLatencySeconds: nccl.nvls_latency_seconds,
    nvlsHalfBandwidthBytes: nccl.nvls_half_bandwidth_bytes,
    alltoallIntraEfficiency: nccl.alltoall_intra_efficiency ?? 1,
    nvlsAlgBytesPerSecond: nvls && gpus > 1 ? nccl.intra_nvls_busbw_bytes_per_second / ((2 * (gpus - 1)) / gpus) : 0,
  };
}

/**
 * NICs' worth of bandwidth a group can use from one node. Rail-optimised nodes give every GPU its own NIC
 * (DGX/HGX: 8 GPUs, 8 NICs) and NCCL's topology search (NVIDIA/nccl `src/graph/search.cc`) prefers the
 * NIC nearest each GPU, so a group with g GPUs on a node drives its GPUs' share of the NICs:
 * g × NICs / GPUs — g NICs on a DGX. On nodes with fewer NICs than GPUs (4 HDR NICs for 8 A100s, 2 NICs
 * for 8 L40S) this is a fraction of a NIC for small g: the symmetric case of a training step, where every
 * GPU's group communicates at once and GPUs pair up on a NIC. A lone group could borrow more.
 */
export function nicsForGroup(net: NetworkParams, gpusInGroupPerNode: number): number {
  return Math.min(net.nicsPerNode, (gpusInGroupPerNode * net.nicsPerNode) / net.gpusPerNode);
}
