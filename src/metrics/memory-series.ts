import type { Timeline } from '../engine/index.ts';
import type { MemoryCategory, OpTag } from '../strategy/index.ts';

export const MEMORY_CATEGORIES: readonly MemoryCategory[] = ['parameters', 'gradients', 'optimizer_states', 'activations', 'communication_buffers', 'other'];

export interface MemoryPoint {
  /** From this time until the next point, memory stays at these values. */
  time: number;
  byCategory: Record<MemoryCategory, number>;
  totalBytes: number;
}

/** Per timeline (keyed by its sample list) and rank: the memory chart and trace.json read the same series. */
const seriesIndex = new WeakMap<readonly unknown[], Map<number, readonly MemoryPoint[]>>();

/**
 * Allocated bytes on one rank over the step, as a step function: the engine records every change
 * (a signed delta per category) when the run has `recordMemory`; changes at the same instant collapse
 * into one point. Empty when memory was not recorded. Built once per timeline and rank: read-only.
 */
export function memorySeries(timeline: Timeline<OpTag>, rank: number): readonly MemoryPoint[] {
  const samples = timeline.memorySamples;
  let byRank = seriesIndex.get(samples);
  if (!byRank) seriesIndex.set(samples, (byRank = new Map()));
  let series = byRank.get(rank);
  if (!series) byRank.set(rank, (series = buildSeries(samples, rank)));
  return series;
}

function buildSeries(samples: Timeline<OpTag>['memorySamples'], rank: number): MemoryPoint[] {
  const cur = Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, 0])) as Record<MemoryCategory, number>;
  const out: MemoryPoint[] = [];
  let total = 0;
  for (const m of samples) {
    if (m.process !== rank) continue;
    const cat = (MEMORY_CATEGORIES as readonly string[]).includes(m.category) ? (m.category as MemoryCategory) : 'other';
    cur[cat] += m.bytes;
    total += m.bytes;
    const last = out[out.length - 1];
    if (last && last.time === m.time) {
      // The point's own copy, updated in place: a copy per collapsed change was most of this function's garbage.
      last.byCategory[cat] = cur[cat];
      last.totalBytes = total;
    } else out.push({ time: m.time, byCategory: { ...cur }, totalBytes: total });
  }
  return out;
}
