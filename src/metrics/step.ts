import type { Task, Timeline } from '../engine/index.ts';
import type { OpTag, Plan, TaskColumns } from '../strategy/index.ts';
import { KIND_COMPUTE, KIND_OPTIMIZER, OP_KINDS, taskColumnsOf } from '../strategy/plan.ts';
import { IntervalBuffer, subtractedLength } from './intervals.ts';
import { tasksOf } from './spans.ts';

export interface RankTimeBreakdown {
  stepSeconds: number;
  computeSeconds: number;
  optimizerSeconds: number;
  /** Any collective running (union over communication streams). */
  commBusySeconds: number;
  /** Communication while the compute stream is idle: time the step waits on the network. */
  commExposedSeconds: number;
  /** Neither computing nor communicating (waiting on a peer, launch gaps). */
  idleSeconds: number;
  /** Bytes this rank put on the wire, by collective kind. */
  wireBytesByKind: Record<string, number>;
  busySecondsByKind: Record<string, number>;
}

const isComm = (t: OpTag) => t.kind !== 'compute' && t.kind !== 'optimizer';

/** Columns read from the tags of a timeline's tasks, once per task list (plans built without a PlanBuilder). */
const columnsFromTags = new WeakMap<readonly Task<OpTag>[], TaskColumns>();

/**
 * The metrics' columns of the timeline's tasks (kind code, micro-batch, wire bytes): the plan's own when the
 * timeline ran that plan's task list (PlanBuilder fills them as it pushes tasks), else read from the tags
 * once per task list.
 */
export function taskColumns(timeline: Timeline<OpTag>, plan?: Plan): TaskColumns {
  const tasks = timeline.table.tasks;
  if (plan?.columns && plan.tasks === tasks && plan.columns.kind.length === tasks.length) return plan.columns;
  let columns = columnsFromTags.get(tasks);
  if (!columns || columns.kind.length !== tasks.length) columnsFromTags.set(tasks, (columns = taskColumnsOf(tasks)));
  return columns;
}

/**
 * Where one rank's step time goes, from its spans. With `window`, only the part of each span inside
 * [start, end) counts and the step is the window, and wire bytes count the spans of `window.microBatch`:
 * the contribution of one steady-state micro-batch.
 */
export function rankBreakdown(
  timeline: Timeline<OpTag>,
  rank: number,
  window?: { start: number; end: number; microBatch: number },
  /** The tasks' columns (`taskColumns`): pass the plan's to skip reading them from the tags. */
  columns: TaskColumns = taskColumns(timeline),
): RankTimeBreakdown {
  // Read from the span table (no span objects) and the task columns (no task or tag objects); the interval
  // sets are typed buffers reused across calls.
  const { workStart, end } = timeline.table;
  const kindOf = columns.kind;
  const microBatchOf = columns.microBatch;
  const wireBytesOf = columns.wireBytes;
  const compute = scratch.compute.clear();
  const optimizer = scratch.optimizer.clear();
  const comm = scratch.comm.clear();
  // Per collective kind, in slots in the order first seen: busy intervals and wire bytes (a number per slot:
  // a string-keyed record written per task was a third of this function's time in sweeps).
  const kinds: string[] = [];
  // Slot by kind code (-1: not seen yet in this call).
  const slotOfKind = scratch.slotOfKind.fill(-1);
  const busyByKind = scratch.byKind;
  const wireBytes = scratch.wireBytes;
  // Slots in the order their wire bytes were first counted (the record's key order).
  const wireOrder: number[] = [];
  const mine = tasksOf(timeline, rank);
  for (let i = 0; i < mine.length; i++) {
    const task = mine[i]!;
    const lo = window ? Math.max(workStart[task]!, window.start) : workStart[task]!;
    const hi = window ? Math.min(end[task]!, window.end) : end[task]!;
    if (window && hi <= lo && microBatchOf[task] !== window.microBatch) continue;
    // An empty interval adds nothing to any union: the buffers keep only non-empty ones.
    const code = kindOf[task]!;
    if (code === KIND_COMPUTE) compute.push(lo, hi);
    else if (code === KIND_OPTIMIZER) optimizer.push(lo, hi);
    else {
      comm.push(lo, hi);
      let slot = slotOfKind[code]!;
      if (slot < 0) {
        slot = kinds.length;
        slotOfKind[code] = slot;
        kinds.push(OP_KINDS[code]!);
        // Buffers reused across calls: new ones grew by doubling on every call.
        if (slot === busyByKind.length) busyByKind.push(new IntervalBuffer(64));
        else busyByKind[slot]!.clear();
        wireBytes[slot] = -1;
      }
      busyByKind[slot]!.push(lo, hi);
      if (!window || microBatchOf[task] === window.microBatch) {
        const bytes = wireBytesOf[task]!;
        const w = wireBytes[slot]!;
        if (w < 0) {
          wireOrder.push(slot);
          wireBytes[slot] = 0 + bytes;
        } else wireBytes[slot] = w + bytes;
      }
    }
  }
  const wireBytesByKind: Record<string, number> = {};
  for (let k = 0; k < wireOrder.length; k++) wireBytesByKind[kinds[wireOrder[k]!]!] = wireBytes[wireOrder[k]!]!;
  const stepSeconds = window ? window.end - window.start : timeline.makespan;
  // Each set merged once: the union of compute ∪ optimizer is that of the two merged lists (merging only
  // takes maxima, so the intervals, and the sums below, are the same as from the raw lists).
  compute.merge();
  optimizer.merge();
  comm.merge();
  const computeSeconds = compute.totalLength();
  const optimizerSeconds = optimizer.totalLength();
  const commBusySeconds = comm.totalLength();
  let busy = compute;
  if (optimizer.length > 0) {
    busy = scratch.busy.clear();
    busy.pushAll(compute);
    busy.pushAll(optimizer);
    busy.merge();
  }
  const commExposedSeconds = subtractedLength(comm, busy);
  const busySecondsByKind: Record<string, number> = {};
  for (let k = 0; k < kinds.length; k++) busySecondsByKind[kinds[k]!] = busyByKind[k]!.merge().totalLength();
  return {
    stepSeconds,
    computeSeconds,
    optimizerSeconds,
    commBusySeconds,
    commExposedSeconds,
    idleSeconds: Math.max(0, stepSeconds - computeSeconds - optimizerSeconds - commExposedSeconds),
    wireBytesByKind,
    busySecondsByKind,
  };
}

/** Buffers `rankBreakdown` reuses (it does not call itself); `byKind` and `wireBytes` by kind slot. */
const scratch = {
  compute: new IntervalBuffer(1024),
  optimizer: new IntervalBuffer(16),
  comm: new IntervalBuffer(1024),
  busy: new IntervalBuffer(1024),
  byKind: [] as IntervalBuffer[],
  // A slot per kind at most.
  wireBytes: new Float64Array(OP_KINDS.length),
  slotOfKind: new Int8Array(OP_KINDS.length),
};

export interface WaitReport {
  /** The collective (label and kind) whose members waited longest for a late rank. */
  label: string;
  kind: string;
  waitSeconds: number;
  /** The rank that arrived last most often. */
  lateRank: number;
  lateCount: number;
  collectives: number;
}

/** Which collective waited, and for whom: only meaningful when several ranks were simulated. */
/**
 * `weightOf(key)`: how many collective instances of the world one rendezvous key stands for (symmetry
 * reduction simulates one per group type; strategy/symmetry.ts), 1 when absent.
 */
export function waitReport(
  timeline: Timeline<OpTag>,
  groupOf?: (task: number) => string | undefined,
  weightOf?: (key: string) => number,
  /** Ranks a simulated rank stands for: its late counts are its class's, shared evenly by the members. */
  classSize?: (rank: number) => number,
): WaitReport | undefined {
  const byTask = new Map<string, { arrivals: [number, number][]; label: string; kind: string; weight: number; groupSize: number }>();
  for (const s of timeline.spans) {
    if (!isComm(s.tag)) continue;
    // One entry per collective instance: its rendezvous group when known.
    const key = groupOf?.(s.task) ?? `${s.tag.kind}|${s.tag.label}|${s.tag.phase}|${s.tag.microBatch}|${s.workStart}`;
    let g = byTask.get(key);
    if (!g) byTask.set(key, (g = { arrivals: [], label: `${s.tag.kind} ${s.tag.phase} ${s.tag.label} (micro-batch ${s.tag.microBatch})`, kind: s.tag.kind, weight: weightOf?.(key) ?? 1, groupSize: s.tag.groupSize ?? 1 }));
    g.arrivals.push([s.process, s.start]);
  }
  let worst: WaitReport | undefined;
  const lateCounts = new Map<number, number>();
  let collectives = 0;
  for (const g of byTask.values()) {
    // A collective with one member waits for nobody. (A reduced plan's key may show one arrival for a group
    // of several identical ranks: its weight still counts it.)
    if (g.arrivals.length < 2 && g.groupSize < 2) continue;
    collectives += g.weight;
    let first = Infinity;
    let last = -Infinity;
    let lastRank = -1;
    for (const [r, t] of g.arrivals) {
      first = Math.min(first, t);
      if (t > last) [last, lastRank] = [t, r];
    }
    const wait = last - first;
    // Members that arrive together hold nobody back: only a collective someone waited at has a late rank.
    if (wait > 0) lateCounts.set(lastRank, (lateCounts.get(lastRank) ?? 0) + g.weight);
    if (!worst || wait > worst.waitSeconds) worst = { label: g.label, kind: g.kind, waitSeconds: wait, lateRank: lastRank, lateCount: 0, collectives: 0 };
  }
  if (!worst || collectives === 0 || lateCounts.size === 0) return undefined;
  if (classSize) for (const [r, n] of lateCounts) lateCounts.set(r, n / classSize(r));
  const [lateRank, lateCount] = [...lateCounts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
  return { ...worst, lateRank, lateCount, collectives };
}

/**
 * A steady-state plan lowered one middle micro-batch for `extraTimes` more: extend the breakdown by that
 * micro-batch's window (from its first compute to the next micro-batch's first compute) that many times.
 */
export function extendBySteadyState(
  timeline: Timeline<OpTag>,
  rank: number,
  base: RankTimeBreakdown,
  repeat: { microBatch: number; extraTimes: number },
  columns: TaskColumns = taskColumns(timeline),
): RankTimeBreakdown {
  // One pass: the first compute of the repeated micro-batch, and the first of any later one.
  let start = Infinity;
  let end = Infinity;
  const { workStart } = timeline.table;
  const kindOf = columns.kind;
  const microBatchOf = columns.microBatch;
  const mine = tasksOf(timeline, rank);
  for (let i = 0; i < mine.length; i++) {
    const task = mine[i]!;
    if (kindOf[task] !== KIND_COMPUTE) continue;
    const mb = microBatchOf[task]!;
    if (mb === repeat.microBatch) start = Math.min(start, workStart[task]!);
    else if (mb > repeat.microBatch) end = Math.min(end, workStart[task]!);
  }
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return base;
  const one = rankBreakdown(timeline, rank, { start, end, microBatch: repeat.microBatch }, columns);
  const k = repeat.extraTimes;
  const add = (a: Record<string, number>, b: Record<string, number>) => {
    const out = { ...a };
    for (const [key, v] of Object.entries(b)) out[key] = (out[key] ?? 0) + k * v;
    return out;
  };
  return {
    stepSeconds: base.stepSeconds + k * one.stepSeconds,
    computeSeconds: base.computeSeconds + k * one.computeSeconds,
    optimizerSeconds: base.optimizerSeconds + k * one.optimizerSeconds,
    commBusySeconds: base.commBusySeconds + k * one.commBusySeconds,
    commExposedSeconds: base.commExposedSeconds + k * one.commExposedSeconds,
    idleSeconds: base.idleSeconds + k * one.idleSeconds,
    wireBytesByKind: add(base.wireBytesByKind, one.wireBytesByKind),
    busySecondsByKind: add(base.busySecondsByKind, one.busySecondsByKind),
  };
}
