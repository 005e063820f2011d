import type { CollectiveKind } from './types.ts';

/**
 * nccl-tests `doc/PERFORMANCE.md`: busbw = algbw × 2(n−1)/n for AllReduce, × (n−1)/n for AllGather and
 * ReduceScatter (S = total bytes), × 1 for Broadcast and for SendRecv. The same factor is the traffic
 * each rank sends in a ring, so busbw is comparable to a link's speed.
 */
export function busFactor(kind: CollectiveKind, n: number): number {
  if (n <= 1) return 0;
  if (kind === 'all_reduce') return (2 * (n - 1)) / n;
  if (kind === 'broadcast' || kind === 'send_recv') return 1;
  return (n - 1) / n;
}

/**
 * The share of S each rank owns — what the Simple protocol's size efficiency is a function of: a ring moves
 * S/n-byte pieces (split again over channels), NVLS reduces an S/n slice per GPU, a tree pipelines each
 * rank's S/n; a Broadcast chain and a send/recv move the whole message through every rank.
 */
export function bytesPerRank(kind: CollectiveKind, bytes: number, n: number): number {
  if (kind === 'broadcast' || kind === 'send_recv' || n <= 1) return bytes;
  return bytes / n;
}

/**
 * Ring steps NCCL's latency model counts (NVIDIA/nccl `src/graph/tuning.cc` ncclTopoTuneModel, `nsteps`):
 * 2(n−1) for AllReduce (reduce-scatter then all-gather), n−1 for AllGather / ReduceScatter, and n−1 hops
 * for the pipelined chain of a Broadcast; one for a point-to-point transfer.
 */
export function ringSteps(kind: CollectiveKind, n: number): number {
  if (kind === 'send_recv') return 1;
  return kind === 'all_reduce' ? 2 * (n - 1) : n - 1;
}

/**
 * Of those steps, the ones that cross a node boundary (tuning.cc `nInterSteps`): 2 × nodes for AllReduce,
 * nodes − 1 for AllGather / ReduceScatter / Broadcast, the one hop of a cross-node send.
 */
export function ringInterSteps(kind: CollectiveKind, nodes: number): number {
  if (nodes <= 1) return 0;
  if (kind === 'send_recv') return 1;
  return kind === 'all_reduce' ? 2 * nodes : nodes - 1;
}
