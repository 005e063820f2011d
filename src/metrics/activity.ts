import type { Timeline } from '../engine/index.ts';
import type { OpTag } from '../strategy/index.ts';
import { IntervalBuffer } from './intervals.ts';
import { rankBreakdown, waitReport } from './step.ts';
import { spansOf } from './spans.ts';

/** Per-phase and per-collective tallies of one rank's step, for explanations and charts. */

export interface CollectiveTally {
  kind: string;
  phase: OpTag['phase'];
  count: number;
  /** Sum of payloads S (nccl-tests "size"). */
  bytes: number;
  /** Sum of what this rank sent: S × bus factor. */
  wireBytes: number;
  busySeconds: number;
  /** One payload and its group, for worked examples (the largest of the tally). */
  example: { label: string; bytes: number; wireBytes: number; groupSize: number; algorithm: string };
}

export function collectiveTallies(timeline: Timeline<OpTag>, rank: number): CollectiveTally[] {
  // Groups in the order first seen; looked up by kind, then phase (no key string built per span).
  const groups: { tally: CollectiveTally; intervals: IntervalBuffer }[] = [];
  const byKind = new Map<string, Map<string, { tally: CollectiveTally; intervals: IntervalBuffer }>>();
  for (const s of spansOf(timeline, rank)) {
    const t = s.tag;
    if (t.kind === 'compute' || t.kind === 'optimizer') continue;
    let byPhase = byKind.get(t.kind);
    if (!byPhase) byKind.set(t.kind, (byPhase = new Map()));
    let g = byPhase.get(t.phase);
    if (!g) {
      g = {
        tally: { kind: t.kind, phase: t.phase, count: 0, bytes: 0, wireBytes: 0, busySeconds: 0, example: { label: t.label, bytes: 0, wireBytes: 0, groupSize: t.groupSize ?? 1, algorithm: t.algorithm ?? '' } },
        intervals: new IntervalBuffer(),
      };
      byPhase.set(t.phase, g);
      groups.push(g);
    }
    g.tally.count++;
    g.tally.bytes += t.bytes ?? 0;
    g.tally.wireBytes += t.wireBytes ?? 0;
    g.intervals.push(s.workStart, s.end);
    if ((t.bytes ?? 0) > g.tally.example.bytes) {
      g.tally.example = { label: t.label, bytes: t.bytes ?? 0, wireBytes: t.wireBytes ?? 0, groupSize: t.groupSize ?? 1, algorithm: t.algorithm ?? '' };
    }
  }
  return groups.map(({ tally, intervals }) => ({ ...tally, busySeconds: intervals.merge().totalLength() }));
}

/** Busy seconds of compute kernels by phase (forward, backward, recompute) and of the optimizer. */
export function gpuSecondsByPhase(timeline: Timeline<OpTag>, rank: number): Record<OpTag['phase'], number> {
  const by: Record<OpTag['phase'], IntervalBuffer> = { forward: new IntervalBuffer(), backward: new IntervalBuffer(), recompute: new IntervalBuffer(), optimizer: new IntervalBuffer() };
  for (const s of spansOf(timeline, rank)) {
    if (s.tag.kind !== 'compute' && s.tag.kind !== 'optimizer') continue;
    by[s.tag.phase].push(s.workStart, s.end);
  }
  return { forward: by.forward.merge().totalLength(), backward: by.backward.merge().totalLength(), recompute: by.recompute.merge().totalLength(), optimizer: by.optimizer.merge().totalLength() };
}

/**
 * The rank to show next to rank 0 when ranks differ: the one that arrived last at most collectives (a
 * straggler holds everyone back), else the one with the most compute time.
 */
export function slowestRank(timeline: Timeline<OpTag>, ranks: readonly number[]): number {
  if (ranks.length <= 1) return ranks[0] ?? 0;
  const wait = waitReport(timeline);
  if (wait) return wait.lateRank;
  let best = ranks[0]!;
  let bestSeconds = -Infinity;
  for (const r of ranks) {
    const secs = Object.values(gpuSecondsByPhase(timeline, r)).reduce((a, b) => a + b, 0);
    if (secs > bestSeconds) [best, bestSeconds] = [r, secs];
  }
  return best;
}

/** The rank the result's time breakdown describes: the one with the most exposed + idle time (as buildResult picks it). */
export function breakdownRank(timeline: Timeline<OpTag>, ranks: readonly number[]): number {
  if (ranks.length <= 1) return ranks[0] ?? 0;
  let best = ranks[0]!;
  let worst = -Infinity;
  for (const r of ranks) {
    const b = rankBreakdown(timeline, r);
    if (b.commExposedSeconds + b.idleSeconds > worst) [best, worst] = [r, b.commExposedSeconds + b.idleSeconds];
  }
  return best;
}
