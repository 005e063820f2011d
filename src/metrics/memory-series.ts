import type { Timeline } from '../engine/index.ts';
import type { MemoryCategory, OpTag } from '../strategy/index.ts';

export const MEMORY_CATEGORIES: readonly MemoryCategory[] = ['parameters', 'gradients', 'optimizer_states', 'activations', 'communication_buffers', 'other'];

export interface MemoryPoint {
  /** From this time until the next point, memory stays at these values. */
  time: number;
  byCategory: Record<MemoryCategory, number>;
  totalBytes: number;
}

/**
 * Allocated bytes on one rank over the step, as a step function: the engine records every change
 * (a signed delta per category) when the run has `recordMemory`; changes at the same instant collapse
 * into one point. Empty when memory was not recorded.
 */
export function memorySeries(timeline: Timeline<OpTag>, rank: number): MemoryPoint[] {
  const cur = Object.fromEntries(MEMORY_CATEGORIES.map((c) => [c, 0])) as Record<MemoryCategory, number>;
  const out: MemoryPoint[] = [];
  let total = 0;
  for (const m of timeline.memorySamples) {
    if (m.process !== rank) continue;
    const cat = (MEMORY_CATEGORIES as readonly string[]).includes(m.category) ? (m.category as MemoryCategory) : 'other';
    cur[cat] += m.bytes;
    total += m.bytes;
    const last = out[out.length - 1];
    if (last && last.time === m.time) {
      last.byCategory = { ...cur };
      last.totalBytes = total;
    } else out.push({ time: m.time, byCategory: { ...cur }, totalBytes: total });
  }
  return out;
}
