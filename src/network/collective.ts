import { busFactor, bytesPerRank } from './bus.ts';
import { nvlsCandidates } from './nvls.ts';
import { p2pCandidates } from './p2p.ts';
import { allToAllCandidates } from './alltoall.ts';
import { resolvePlacement } from './placement-resolve.ts';
import { ringCandidates } from './ring.ts';
import { treeCandidates } from './tree.ts';
import type { CollectiveCost, CollectiveKind, CollectiveOptions, GroupPlacement, NetworkParams } from './types.ts';

const LOCAL: CollectiveCost = { algorithm: 'local', link: 'intra', latencySeconds: 0, busBytes: 0, busBytesPerSecond: Infinity, seconds: 0 };

/**
 * Every algorithm/protocol NCCL could run for this collective on this group, each costed alone on idle
 * links, after the restrictions in `options` (NCCL_ALGO, NCCL_NVLS_ENABLE=0, NCCL_PROTO).
 */
export function collectiveCandidates(
  kind: CollectiveKind,
  bytes: number,
  group: GroupPlacement,
  net: NetworkParams,
  options: CollectiveOptions = {},
): CollectiveCost[] {
  const g = resolvePlacement(group);
  if (g.size <= 1 || bytes <= 0) return [];
  if (kind === 'send_recv') return filter(p2pCandidates(bytes, g, net), options);
  if (kind === 'all_to_all') return filter(allToAllCandidates(bytes, g, net), options);
  const busBytes = bytes * busFactor(kind, g.size);
  const perRank = bytesPerRank(kind, bytes, g.size);
  const all = [...ringCandidates(kind, perRank, busBytes, g, net), ...treeCandidates(kind, perRank, busBytes, g, net)];
  if (options.nvls !== false) all.push(...nvlsCandidates(kind, perRank, busBytes, g, net));
  return filter(all, options);
}

function filter(all: CollectiveCost[], o: CollectiveOptions): CollectiveCost[] {
  return all.filter((c) => (!o.algorithms || o.algorithms.includes(c.algorithm)) && (!o.protocols || !c.protocol || o.protocols.includes(c.protocol)));
}

/**
 * The cost of one NCCL collective of S = `bytes` (nccl-tests "size": the whole buffer for AllReduce and
 * Broadcast, the gathered output for AllGather, the input for ReduceScatter; the message for send_recv; a rank's send buffer for AllToAll)
 * over `group`. NCCL picks the algorithm and protocol with the lowest predicted time
 * (NVIDIA/nccl `src/enqueue.cc` getAlgoInfo: `if (time >= 0 && time < minTime)` over every algorithm ×
 * protocol, times from `src/graph/tuning.cc` ncclTopoGetAlgoTime = latency + bytes / bandwidth), and so
 * does this model, with the bandwidths and latencies calibrated on nccl-tests measurements.
 *
 * The size-dependent efficiency comes from that choice: small messages take LL (low latency, ¼ of the
 * bandwidth), large ones Simple, whose bandwidth only saturates for large messages (protocol.ts
 * simpleEfficiency); in between neither is efficient — busbw at 16 MiB is about half the peak on an
 * 8-GPU node, as nccl-tests shows.
 */
export function collectiveCost(
  kind: CollectiveKind,
  bytes: number,
  group: GroupPlacement,
  net: NetworkParams,
  options: CollectiveOptions = {},
): CollectiveCost {
  const all = collectiveCandidates(kind, bytes, group, net, options);
  if (all.length === 0) return { ...LOCAL };
  let best = all[0]!;
  for (const c of all) if (c.seconds < best.seconds) best = c;
  return best;
}

export { busFactor } from './bus.ts';
export { networkParams } from './params.ts';
export type { CollectiveCost, CollectiveKind, GroupPlacement, LinkClass, NetworkParams } from './types.ts';
