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

const taskIndex = new WeakMap<object, Map<number, Int32Array>>();

/**
 * One rank's tasks in the order they finished (the order of its `spansOf`), read from the timeline's span
 * table without building span objects; indexed once per timeline.
 */
export function tasksOf<Tag>(timeline: Timeline<Tag>, rank: number): Int32Array {
  const table = timeline.table;
  let byProcess = taskIndex.get(table);
  if (!byProcess) {
    byProcess = new Map();
    const { order, tasks } = table;
    const counts = new Map<number, number>();
    for (let i = 0; i < order.length; i++) {
      const p = tasks[order[i]!]!.process;
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    // One process (the common steady-state plan): its tasks are the whole order.
    if (counts.size === 1) byProcess.set(counts.keys().next().value!, order);
    else {
      const fill = new Map<number, number>();
      for (const [p, c] of counts) {
        byProcess.set(p, new Int32Array(c));
        fill.set(p, 0);
      }
      for (let i = 0; i < order.length; i++) {
        const task = order[i]!;
        const p = tasks[task]!.process;
        const at = fill.get(p)!;
        byProcess.get(p)![at] = task;
        fill.set(p, at + 1);
      }
    }
    taskIndex.set(table, byProcess);
  }
  return byProcess.get(rank) ?? EMPTY;
}

const EMPTY = new Int32Array(0);
