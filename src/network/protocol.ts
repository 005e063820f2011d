import type { CollectiveKind } from './types.ts';

/**
 * Share of the Simple protocol's bus bandwidth the LL protocol reaches. LL sends 8-byte lines holding
 * 4 bytes of data and a 4-byte flag, and polls the flags; NCCL's tuning model rates ring LL at 1/4 of
 * the link for AllReduce and for anything crossing nodes, 1/3 otherwise, and tree LL at 1/3.8
 * (NVIDIA/nccl `src/graph/tuning.cc` ncclTopoTuneModel, "Various model refinements"). These are NCCL's
 * protocol constants, not the hardware's, so they live here with their source.
 */
export function ringLlFraction(kind: CollectiveKind, nodes: number): number {
  return nodes > 1 || kind === 'all_reduce' ? 1 / 4 : 1 / 3;
}

export const TREE_LL_FRACTION = 1 / 3.8;

/**
 * Tree bandwidth relative to the link it runs on: NCCL rates a tree at 0.92 of its channels' bandwidth
 * (tuning.cc: `if (a == NCCL_ALGO_TREE) busBw = std::min(busBw*.92, ...)`).
 */
export const TREE_EFFICIENCY = 0.92;

/**
 * Share of its peak bandwidth the Simple protocol (and NVLS, which runs on it) reaches when each rank owns
 * b bytes of the collective (S/n, bus.ts bytesPerRank): 1 / (1 + (h / b)^k). Mid-size messages fall short of peak for reasons a per-step latency does
 * not capture — NCCL runs fewer channels below `nc × nThreads × threadThreshold` bytes (src/enqueue.cc
 * getAlgoInfo), a ring's pipeline holds few chunks, and every chunk pays a fence and a flag — and the
 * shortfall fades slowly (nccl-tests on 8× H200: busbw 240 GB/s at 16 MiB, 432 at 256 MiB, 468 at 1 GiB
 * against 480 at 8 GiB). h (the half-bandwidth size per rank) and k are per-profile constants fitted on
 * collectives-calibration.jsonl. Per rank, so that a larger group, which splits the same S finer, is less
 * efficient, and a send/recv of b bytes is as efficient as a ring whose ranks own b bytes.
 */
export function simpleEfficiency(bytesPerRank: number, halfBandwidthBytes: number, exponent: number): number {
  if (!(bytesPerRank > 0)) return 0;
  return 1 / (1 + (halfBandwidthBytes / bytesPerRank) ** exponent);
}
