import type { HardwareProfile } from '../hardware/types.ts';

export type CollectiveKind = 'all_reduce' | 'all_gather' | 'reduce_scatter' | 'broadcast';

/** Where a process group's ranks sit: how many, over how many nodes. */
export interface GroupPlacement {
  size: number;
  nodes: number;
}

/** The link class a collective is limited by, and which shared resource its traffic uses. */
export type LinkClass = 'intra' | 'inter';

export interface CollectiveCost {
  algorithm: 'ring' | 'nvls' | 'local';
  link: LinkClass;
  /** Fixed latency part: α per algorithm step. */
  latencySeconds: number;
  /** "Bus bytes" the algorithm moves per rank: S × busFactor (nccl-tests definition). */
  busBytes: number;
  /** Bus bandwidth this collective reaches alone on an idle link. */
  busBytesPerSecond: number;
  /** latency + busBytes / busBytesPerSecond. */
  seconds: number;
}

/**
 * nccl-tests `doc/PERFORMANCE.md`: busbw = algbw × 2(n−1)/n for AllReduce, × (n−1)/n for AllGather and
 * ReduceScatter (S = total bytes), × 1 for Broadcast. The same factor is the traffic each rank sends.
 */
export function busFactor(kind: CollectiveKind, n: number): number {
  if (n <= 1) return 0;
  if (kind === 'all_reduce') return (2 * (n - 1)) / n;
  if (kind === 'broadcast') return 1;
  return (n - 1) / n;
}

/** Ring steps: 2(n−1) for AllReduce (reduce-scatter then all-gather), n−1 for the others. */
function ringSteps(kind: CollectiveKind, n: number): number {
  return kind === 'all_reduce' ? 2 * (n - 1) : n - 1;
}

/**
 * Interconnect-level bandwidths the collective model needs, after what-ifs are applied.
 * `interBusBytesPerSecondPerGpu` is the bus bandwidth a collective spanning nodes reaches per rank.
 */
export interface NetworkParams {
  intraRingBusBytesPerSecond: number;
  intraNvlsBusBytesPerSecond: number;
  interBusBytesPerSecondPerGpu: number;
  intraLatencySeconds: number;
  interLatencySeconds: number;
  nvls: boolean;
}

/**
 * Scale-out bandwidth a ring across nodes reaches: NCCL runs one ring (channel) per rail NIC, each carrying
 * its share of the data, so the cross-node bus bandwidth is the node's NICs together — NICs × measured
 * per-NIC busbw — capped by the NVLink ring inside the node (nccl-tests on DGX: ≈ 8 × 48 GB/s).
 * `interNodeBandwidth` (a what-if, bytes/s per node) replaces the line rate, keeping NCCL's measured
 * efficiency on it.
 */
export function networkParams(profile: HardwareProfile, interNodeBandwidthBytesPerSecond?: number): NetworkParams {
  const nics = profile.scale_out.nics_per_node;
  const lineRatePerNode = nics * profile.scale_out.bytes_per_second_per_nic;
  const efficiency = profile.nccl.inter_busbw_bytes_per_second_per_nic / profile.scale_out.bytes_per_second_per_nic;
  const perNode = (interNodeBandwidthBytesPerSecond ?? lineRatePerNode) * efficiency;
  return {
    intraRingBusBytesPerSecond: profile.nccl.intra_ring_busbw_bytes_per_second,
    intraNvlsBusBytesPerSecond: profile.nccl.intra_nvls_busbw_bytes_per_second,
    interBusBytesPerSecondPerGpu: Math.min(profile.nccl.intra_ring_busbw_bytes_per_second, perNode),
    intraLatencySeconds: profile.nccl.intra_latency_seconds,
    interLatencySeconds: profile.nccl.inter_latency_seconds,
    nvls: profile.node.intra.nvls && profile.nccl.intra_nvls_busbw_bytes_per_second > 0,
  };
}

/**
 * First-order NCCL cost: ring α–β, hierarchical across nodes (a ring through every GPU, whose inter-node
 * hops are limited by the NICs), NVLS for AllReduce inside one NVSwitch node with more than two GPUs
 * (NVIDIA/nccl `src/transport/nvls.cc` ncclNvlsInit; `src/graph/tuning.cc` disables NVLS when nNodes > 1
 * without CollNet). NCCL picks the algorithm with the lowest predicted time, and so do we.
 */
export function collectiveCost(kind: CollectiveKind, bytes: number, group: GroupPlacement, net: NetworkParams): CollectiveCost {
  const n = group.size;
  if (n <= 1 || bytes <= 0) {
    return { algorithm: 'local', link: 'intra', latencySeconds: 0, busBytes: 0, busBytesPerSecond: Infinity, seconds: 0 };
  }
  const busBytes = bytes * busFactor(kind, n);
  const steps = ringSteps(kind, n);
  if (group.nodes <= 1) {
    const ringLatency = steps * net.intraLatencySeconds;
    const ring = make('ring', 'intra', ringLatency, busBytes, net.intraRingBusBytesPerSecond);
    if (kind === 'all_reduce' && net.nvls && n > 2) {
      // NVLS reduces in the switch: a fixed few-hop latency instead of 2(n−1) ring steps.
      const nvls = make('nvls', 'intra', 2 * net.intraLatencySeconds, busBytes, net.intraNvlsBusBytesPerSecond);
      return nvls.seconds < ring.seconds ? nvls : ring;
    }
    return ring;
  }
  // A ring over all GPUs: of its n hops per round, `nodes` cross a NIC.
  const interHops = group.nodes;
  const latency = (steps / n) * ((n - interHops) * net.intraLatencySeconds + interHops * net.interLatencySeconds);
  const bw = net.interBusBytesPerSecondPerGpu;
  return make('ring', 'inter', latency, busBytes, bw);
}

function make(algorithm: CollectiveCost['algorithm'], link: LinkClass, latencySeconds: number, busBytes: number, bw: number): CollectiveCost {
  return { algorithm, link, latencySeconds, busBytes, busBytesPerSecond: bw, seconds: latencySeconds + busBytes / bw };
}
