import type { Span, Timeline } from '../engine/index.ts';
import type { OpTag } from '../strategy/index.ts';
import { subtractFromMerged, subtractMerged, union, type Interval } from './intervals.ts';
import { spansOf } from './spans.ts';

/** Index of the first span (sorted by workStart) starting at or after `t`. */
function firstStartingAtOrAfter(sorted: readonly Span<OpTag>[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.workStart < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * *Where* communication is exposed, not just how much: the intervals, and each collective's share with
 * the reason it could not hide. `rankBreakdown` (step.ts) gives the totals; these agree with it:
 * the exposed intervals sum to its `commExposedSeconds`.
 */

const isComm = (t: OpTag) => t.kind !== 'compute' && t.kind !== 'optimizer';


/** One rank's compute and optimizer kernels in start order, and their merged busy intervals. */
interface RankGpu {
  gpu: Span<OpTag>[];
  gpuBusy: Interval[];
}

/**
 * Per timeline (keyed by its span list, as spansOf's index) and rank: the timeline chart, the
 * communication chart and the explanation each ask for the same rank's busy set.
 */
const gpuIndex = new WeakMap<readonly unknown[], Map<number, RankGpu>>();

function rankGpu(timeline: Timeline<OpTag>, rank: number): RankGpu {
  let byRank = gpuIndex.get(timeline.spans);
  if (!byRank) gpuIndex.set(timeline.spans, (byRank = new Map()));
  let entry = byRank.get(rank);
  if (!entry) {
    const gpu = spansOf(timeline, rank).filter((s) => !isComm(s.tag)).sort((a, b) => a.workStart - b.workStart);
    entry = { gpu, gpuBusy: union(gpu.map((s) => [s.workStart, s.end] as Interval)) };
    byRank.set(rank, entry);
  }
  return entry;
}

/** Intervals in which some collective runs on `rank` while its compute stream is idle. */
export function exposedIntervals(timeline: Timeline<OpTag>, rank: number): Interval[] {
  const comm: Interval[] = [];
  for (const s of spansOf(timeline, rank)) if (isComm(s.tag)) comm.push([s.workStart, s.end]);
  return subtractMerged(union(comm), rankGpu(timeline, rank).gpuBusy);
}

/** Exposed seconds per collective kind: time a collective of that kind runs while compute is idle. */
export function exposedSecondsByKind(timeline: Timeline<OpTag>, rank: number): Record<string, number> {
  const { gpuBusy } = rankGpu(timeline, rank);
  const byKind: Record<string, Interval[]> = {};
  for (const s of spansOf(timeline, rank)) if (isComm(s.tag)) (byKind[s.tag.kind] ??= []).push([s.workStart, s.end]);
  return Object.fromEntries(Object.entries(byKind).map(([k, iv]) => [k, subtractMerged(union(iv), gpuBusy).reduce((a, [s, e]) => a + e - s, 0)]));
}

/**
 * Why a collective could not hide behind compute:
 * - `before-compute`: a forward collective that finishes before the first decoder layer of its
 *   micro-batch runs: only the (tiny) embedding could hide it (FSDP's root and layer-0 AllGathers).
 * - `after-compute`: it runs after the last forward/backward kernel of the step: nothing is left to
 *   compute (the root ReduceScatter, DDP's last bucket).
 * - `optimizer`: a collective the optimizer step itself waits on (the gradient-norm AllReduce).
 * - `compute-waits`: in the middle of the step the collective took longer than the compute it could
 *   overlap with, so the next kernel waited for it (communication-bound).
 */
export type ExposureReason = 'before-compute' | 'after-compute' | 'optimizer' | 'compute-waits';

export interface ExposedCollective {
  span: Span<OpTag>;
  exposedSeconds: number;
  /** The parts of the collective during which the compute stream was idle. */
  intervals: Interval[];
  reason: ExposureReason;
  /** The first compute/optimizer kernel that started when the exposed part ended (what waited). */
  blocked?: Span<OpTag>;
}

/** Each collective on `rank` with any exposed time, in time order. */
export function exposedCollectives(timeline: Timeline<OpTag>, rank: number): ExposedCollective[] {
  const mine = spansOf(timeline, rank);
  const { gpu, gpuBusy } = rankGpu(timeline, rank);
  const firstLayerOfMicroBatch = new Map<number, number>();
  let lastForwardBackwardEnd = -Infinity;
  for (const s of gpu) {
    if (s.tag.kind !== 'compute') continue;
    const mb = s.tag.microBatch;
    if (s.tag.phase === 'forward' && s.tag.layer !== undefined) firstLayerOfMicroBatch.set(mb, Math.min(firstLayerOfMicroBatch.get(mb) ?? Infinity, s.workStart));
    lastForwardBackwardEnd = Math.max(lastForwardBackwardEnd, s.end);
  }
  const out: ExposedCollective[] = [];
  for (const s of mine) {
    if (!isComm(s.tag)) continue;
    const exposed = subtractFromMerged(s.workStart, s.end, gpuBusy);
    const seconds = exposed.reduce((a, [x, y]) => a + y - x, 0);
    if (seconds <= 0) continue;
    const lastEnd = exposed[exposed.length - 1]![1];
    const firstStart = exposed[0]![0];
    let reason: ExposureReason;
    if (s.tag.phase === 'optimizer') reason = 'optimizer';
    else if (firstStart >= lastForwardBackwardEnd) reason = 'after-compute';
    else if (s.tag.phase === 'forward' && lastEnd <= (firstLayerOfMicroBatch.get(s.tag.microBatch) ?? Infinity) + 1e-12) reason = 'before-compute';
    else reason = 'compute-waits';
    const blocked = gpu[firstStartingAtOrAfter(gpu, lastEnd - 1e-12)];
    out.push({ span: s, exposedSeconds: seconds, intervals: exposed, reason, ...(blocked ? { blocked } : {}) });
  }
  return out.sort((a, b) => a.span.workStart - b.span.workStart);
}
