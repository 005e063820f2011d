import type { Span, Timeline } from '../engine/index.ts';

/**
 * One rank's spans, in the timeline's order, from an index built once per timeline: metrics and reports
 * ask per rank, and a scan of every span per rank is quadratic in the ranks simulated.
 */
const index = new WeakMap<readonly unknown[], { length: number; byProcess: Map<number, Span<unknown>[]> }>();

export function spansOf<Tag>(timeline: Timeline<Tag>, rank: number): readonly Span<Tag>[] {
  const spans = timeline.spans;
  let entry = index.get(spans);
  // Rebuilt if the list grew since (timelines are not changed after the engine returns, but be safe).
  if (!entry || entry.length !== spans.length) {
    const byProcess = new Map<number, Span<unknown>[]>();
    for (const s of spans) {
      let list = byProcess.get(s.process);
      if (!list) byProcess.set(s.process, (list = []));
      list.push(s);
    }
    entry = { length: spans.length, byProcess };
    index.set(spans, entry);
  }
  return (entry.byProcess.get(rank) ?? []) as Span<Tag>[];
}

/** One rank's tasks in the order they finished (the order of its `spansOf`), from the span table. */
export function tasksOf<Tag>(timeline: Timeline<Tag>, rank: number): Int32Array {
  return timeline.table.ofProcess(rank);
}
