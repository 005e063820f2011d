/**
 * Shared vocabulary of the collective cost model. SI units: bytes, seconds, bytes per second.
 * "busbw" follows nccl-tests `doc/PERFORMANCE.md`: algbw = S / t, busbw = algbw × bus factor.
 */

/**
 * NCCL operations the simulator issues; `send_recv` is one point-to-point transfer (context parallel);
 * `all_to_all` sends S/n of every rank's buffer to each other rank (expert parallelism's dispatch/combine).
 */
export type CollectiveKind = 'all_reduce' | 'all_gather' | 'reduce_scatter' | 'broadcast' | 'send_recv' | 'all_to_all';

export const COLLECTIVE_KINDS: readonly CollectiveKind[] = ['all_reduce', 'all_gather', 'reduce_scatter', 'broadcast', 'send_recv', 'all_to_all'];

/**
 * Where a process group's ranks sit. `nodes` is how many nodes the group spans; `gpusPerNode` how many of
 * the group's ranks share a node (defaults to ⌈size / nodes⌉ — groups from a DeviceMesh are regular).
 */
export interface GroupPlacement {
  size: number;
  nodes: number;
  gpusPerNode?: number;
}

/** The link class a collective is limited by, and which shared resource its traffic uses. */
export type LinkClass = 'intra' | 'inter';

/**
 * NCCL algorithms the model knows (NVIDIA/nccl `src/include/device.h` NCCL_ALGO_*): ring, double binary
 * tree, NVLink SHARP inside one node, NVLS inside nodes + tree across them; `p2p` is a direct send/recv.
 */
export type Algorithm = 'ring' | 'tree' | 'nvls' | 'nvls_tree' | 'p2p' | 'local';

/**
 * NCCL protocols: LL (8-byte lines with inline flags: low latency, a fraction of the bandwidth) and Simple
 * (bulk copies with a fence and flag per chunk: the full bandwidth only for large messages). NVLS runs
 * Simple only.
 * LL128 sits between the two; it is folded into them (no calibration row isolates it).
 */
export type Protocol = 'LL' | 'Simple';

export interface CollectiveCost {
  algorithm: Algorithm;
  protocol?: Protocol;
  link: LinkClass;
  /** Fixed latency part of this algorithm/protocol: per-step α × steps (or the NVLS fixed cost). */
  latencySeconds: number;
  /** "Bus bytes" the algorithm moves per rank: S × busFactor (nccl-tests definition). */
  busBytes: number;
  /** Bus bandwidth of the bandwidth term alone (latency excluded) at this size, on an idle link. */
  busBytesPerSecond: number;
  /** latency + busBytes / busBytesPerSecond. */
  seconds: number;
}

/** Restrictions as NCCL's environment expresses them (`NCCL_ALGO`, `NCCL_NVLS_ENABLE=0`, `NCCL_PROTO`). */
export interface CollectiveOptions {
  algorithms?: readonly Algorithm[];
  nvls?: boolean;
  protocols?: readonly Protocol[];
}

/**
 * Interconnect constants the collective model needs, after what-ifs are applied (see params.ts).
 * The first six fields are the link capacities and per-step latencies the plan builder uses directly.
 */
export interface NetworkParams {
  /** Peak ring (Simple) bus bandwidth inside one node. */
  intraRingBusBytesPerSecond: number;
  /** Peak NVLS AllReduce bus bandwidth with all `gpusPerNode` GPUs (0 without NVLS). */
  intraNvlsBusBytesPerSecond: number;
  /** Bus bandwidth a ring spanning nodes reaches with every GPU of a node in it: the node's NICs together, capped by the intra ring. */
  interBusBytesPerSecondPerGpu: number;
  /** LL per-step latency α inside a node and across nodes. */
  intraLatencySeconds: number;
  interLatencySeconds: number;
  /** NVLS usable: NVSwitch with multicast (profile `node.intra.nvls`) and a non-zero NVLS bandwidth. */
  nvls: boolean;

  gpusPerNode: number;
  intraKind: 'nvswitch' | 'pcie';
  /** GPU peer-to-peer works (false on GeForce: every hop is staged through host memory). */
  p2p: boolean;
  /** Physical per-GPU bandwidth into the node fabric (NVLink aggregate or PCIe x16), per direction. */
  intraLinkBytesPerSecond: number;
  nicsPerNode: number;
  /** Line rate per NIC after the what-if, per direction. */
  nicLineBytesPerSecond: number;
  /** Ring bus bandwidth one NIC carries (line rate × NCCL's measured efficiency). */
  nicBusBytesPerSecond: number;
  /** Simple protocol size efficiency 1 / (1 + (h / b)^k), b = bytes per rank: half-bandwidth sizes h per link class, shape k. */
  intraHalfBandwidthBytes: number;
  interHalfBandwidthBytes: number;
  sizeEfficiencyExponent: number;
  /** NVLS AllReduce: fixed latency (pipeline fill), half-bandwidth size and algorithm bandwidth S / t at large sizes. */
  nvlsLatencySeconds: number;
  nvlsHalfBandwidthBytes: number;
  nvlsAlgBytesPerSecond: number;
  /** All-to-all inside a node: share of the intra ring busbw NCCL's grouped send/recv reaches (profile `nccl.alltoall_intra_efficiency`; 1 when unmeasured). */
  alltoallIntraEfficiency: number;
}

/** nccl-tests' names for the collectives (all_reduce_perf → allreduce …), as the CLI and calibration rows spell them. */
export const COLLECTIVE_CLI_NAMES: Readonly<Record<string, CollectiveKind>> = {
  allreduce: 'all_reduce',
  allgather: 'all_gather',
  reducescatter: 'reduce_scatter',
  broadcast: 'broadcast',
  sendrecv: 'send_recv',
  alltoall: 'all_to_all',
};
