import seedrandom from 'seedrandom';
import { maxOfNormals } from '../util/normal.ts';
import { TypedEventHeap } from './heap.ts';
import { scratchF64, scratchF64List, scratchI32, scratchI32List, scratchU8 } from './scratch.ts';
import { FluidNetwork } from './fluid.ts';

/**
 * The discrete-event kernel. It knows processes, streams, tasks, dependencies, rendezvous groups,
 * shared bandwidth resources and memory counters — nothing about ML. A plan is a static task graph:
 * tasks on one (process, stream) run one at a time in submission order, as kernels on a CUDA stream do;
 * `deps` are cross-stream waits, as CUDA events are; a `group` is a rendezvous (a collective): its
 * members start together once every member is at the head of its stream, and end together when the
 * slowest member's work is done.
 */

export type Work =
  /**
   * Fixed work, e.g. a kernel whose time the cost model already knows. With `sharesProcessor` it runs at
   * the speed its process has left: 1 − the occupancy of the process's running occupant tasks.
   */
  | { kind: 'delay'; seconds: number; sharesProcessor?: boolean }
  /**
   * Bytes that move through shared resources after a fixed latency. The flow runs at its share of every
   * resource it crosses (max-min fair) but never faster than `maxBytesPerSecond`.
   */
  | {
      kind: 'flow';
      latencySeconds: number;
      bytes: number;
      maxBytesPerSecond: number;
      resources: readonly string[];
    };

export interface MemoryChange {
  /** Applied when the task starts or when it ends. */
  at: 'start' | 'end';
  /** Positive allocates, negative frees. */
  bytes: number;
  category: string;
  /**
   * Allocator pool the bytes belong to (default "default"). A caching allocator reuses a freed block only
   * for requests from the pool that made it, so each pool keeps its own high-water mark reserved.
   */
  pool?: string;
}

export interface Task<Tag> {
  process: number;
  stream: string;
  deps?: readonly number[];
  work: Work;
  group?: string;
  /**
   * A rendezvous member that stands for this many members of the real group (itself included) whose own
   * jitter is not simulated: with jitter, the group also waits for the latest of them (`virtualArrival`).
   */
  standsFor?: number;
  memory?: readonly MemoryChange[];
  /**
   * Fraction of its process's processor this task holds from the moment it is launched (arrives at the
   * head of its stream) until it ends; `sharesProcessor` delay work on that process slows accordingly.
   */
  occupancy?: number;
  /** Opaque payload handed back on the span (the engine never looks inside). */
  tag: Tag;
}

export interface Span<Tag> {
  task: number;
  process: number;
  stream: string;
  /** When the task reached the head of its stream with its dependencies met. */
  start: number;
  /** When its work began (later than `start` only for a group waiting on a late member). */
  workStart: number;
  end: number;
  tag: Tag;
}

export interface MemorySample {
  time: number;
  process: number;
  category: string;
  bytes: number;
}

export interface ProcessMemory {
  peakBytes: number;
  peakTime: number;
  breakdownAtPeak: Record<string, number>;
  finalBytes: number;
  /** Highest bytes held at once in each allocator pool. */
  poolPeakBytes: Record<string, number>;
}

export interface SimulationOptions {
  /** Capacity (bytes/s) of each shared resource named by flow work. */
  resources?: ReadonlyMap<string, number>;
  /** Lowest speed a shared-processor task keeps however occupied its process is. */
  minimumShare?: number;
  /** Multiplicative per-task variation of delay work: factor ~ max(0.01, 1 + N(0, relativeStd)). */
  jitter?: { seed: string; relativeStd: number };
  /** Keep every memory change (for charts); peaks are tracked either way. */
  recordMemory?: boolean;
  /** Report each task's memory levels (`Timeline.levels`): the highest live bytes its changes left. */
  levels?: boolean;
}

/**
 * The highest level each task's memory changes left its process at, right after each change (-Infinity for
 * a task without changes): in all, and in each allocator pool it changed. A process's peak is the highest
 * `total` of its tasks and each pool's high-water mark the highest of that pool's column, so a caller can
 * tell which task set each one.
 */
export interface MemoryLevels {
  /** Pool names, in the order of the `pool` columns. */
  pools: string[];
  /** By task. */
  total: Float64Array;
  /** By task × pool: `pool[task * pools.length + q]`. */
  pool: Float64Array;
}

export interface Timeline<Tag> {
  /** Every task's span, in the order the tasks finished: built from `table` on first access. */
  readonly spans: Span<Tag>[];
  /** The spans as arrays (what metrics read without building a span object per task). */
  readonly table: SpanTable<Tag>;
  makespan: number;
  memory: Map<number, ProcessMemory>;
  memorySamples: MemorySample[];
  eventsProcessed: number;
  /** Present when asked for (`SimulationOptions.levels`). */
  levels?: MemoryLevels;
}

/**
 * The timeline's spans as arrays: times by task index, the tasks in the order they finished. Per-process
 * lists are built on first request and kept on the table (no side map that would keep plans alive).
 */
export class SpanTable<Tag> {
  private byProcess: Map<number, Int32Array> | undefined;

  constructor(
    /** Task indices in the order the tasks finished (the order of `Timeline.spans`). */
    readonly order: Int32Array,
    /** By task index: `Span.start`, `Span.workStart`, `Span.end`. */
    readonly start: Float64Array,
    readonly workStart: Float64Array,
    readonly end: Float64Array,
    /** The plan's tasks (process, stream and tag of each span). */
    readonly tasks: readonly Task<Tag>[],
  ) {}

  /** The tasks of one process in the order they finished (empty for a process with none). */
  ofProcess(process: number): Int32Array {
    this.byProcess ??= tasksByProcess(this.order, this.tasks);
    return this.byProcess.get(process) ?? EMPTY_I32;
  }
}

function tasksByProcess(order: Int32Array, tasks: readonly Task<unknown>[]): Map<number, Int32Array> {
  const byProcess = new Map<number, Int32Array>();
  // One process (a steady-state plan's usual case): its tasks are the whole order.
  if (order.length > 0) {
    const only = tasks[order[0]!]!.process;
    let one = true;
    for (let i = 1; i < order.length && one; i++) one = tasks[order[i]!]!.process === only;
    if (one) {
      byProcess.set(only, order);
      return byProcess;
    }
  }
  const counts = new Map<number, number>();
  for (let i = 0; i < order.length; i++) {
    const p = tasks[order[i]!]!.process;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
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
  return byProcess;
}

/**
 * The engine stopped because it could not make progress: a scheduling loop (events processed without
 * simulated time advancing or any task moving) or more events than the plan can need. It is a bug or an
 * input beyond the engine's arithmetic, never an answer; the pipeline names the scenario.
 */
export class EngineStallError extends Error {
  constructor(
    readonly detail: string,
    readonly atSeconds: number,
    readonly eventsProcessed: number,
  ) {
    super(`engine made no progress at t = ${atSeconds.toPrecision(6)} s after ${eventsProcessed} events: ${detail}`);
    this.name = 'EngineStallError';
  }
}

/** Event kinds in the typed heap. */
const DELAY_DONE = 0;
const LATENCY_DONE = 1;
const FLOW_CHECK = 2;
const GROUP_START = 3;
const EVENT_NAMES = ['delay-done', 'latency-done', 'flow-check', 'group-start'];

/** Per-process state: memory ledger and processor sharing, found once per task instead of per map. */
interface ProcessState {
  process: number;
  /** Its streams by name (numbers into the run's stream list). */
  streams: Map<string, number>;
  /** The first few of them, scanned before the map. */
  streamNames: string[];
  streamIds: number[];
  /** Live bytes by category number (`catTouched`: ever changed), and the numbers in the order first touched (the breakdown's key order). */
  catBytes: Float64Array;
  catTouched: Uint8Array;
  catOrder: number[];
  /** Live bytes by allocator pool number; each pool's high-water mark (`poolSet`: ever positive), and the order those were first set. */
  poolBytes: Float64Array;
  poolPeak: Float64Array;
  poolSet: Uint8Array;
  poolOrder: number[];
  total: number;
  rec: ProcessMemory | undefined;
  /** The live state is the state at the peak (copied lazily at the next free). */
  peakDirty: boolean;
  /**
   * The bytes by category at the last peak copied at a free, and how many of `catOrder` were touched then
   * (`peakCatCount` < 0: none copied). The record is built once at the end: a string-keyed object built at
   * every free after a new peak was ~5% of a run.
   */
  peakCat: Float64Array;
  peakCatCount: number;
  /** Summed occupancy of the running occupant tasks. */
  occupied: number;
  /**
   * Shared-processor delay tasks running on this process, in the order they started (a handful at most,
   * one per stream). A Set here churned its hash table at every start and finish: a fifth of a run.
   */
  sharing: number[];
}

const NO_GROUP = -1;

export function simulate<Tag>(tasks: readonly Task<Tag>[], options: SimulationOptions = {}): Timeline<Tag> {
  const n = tasks.length;
  const heap = pooledHeap();
  let now = 0;
  let events = 0;
  const rng = options.jitter && options.jitter.relativeStd > 0 ? seedrandom(options.jitter.seed) : undefined;
  const jitterStd = options.jitter?.relativeStd ?? 0;

  // ---- the plan as arrays, read from the task objects once ----
  // Work: delay seconds or flow latency; flows' bytes, cap and resources.
  // Arrays of the engine's own state come from a pool (engine/scratch.ts): each is written for every task
  // below before it is read, or cleared here.
  const isFlow = scratchU8(0, n);
  const workSeconds = scratchF64(0, n);
  const sharesProcessor = scratchU8(1, n);
  const flowBytes = scratchF64(1, n);
  const flowMaxRate = scratchF64(2, n);
  // Flows' resource lists (numbered once the network exists, below).
  const flowResources: (readonly string[] | undefined)[] = new Array(n);
  const occupancyOf = scratchF64(3, n);
  const groupOf = scratchI32(0, n);
  // Memory changes in two flat lists, those at a task's start and those at its end, each in list order
  // (zero-byte changes dropped): task t's are [off[t], off[t + 1]).
  const memStartOff = scratchI32(1, n + 1);
  const memEndOff = scratchI32(2, n + 1);
  memStartOff[0] = memEndOff[0] = 0;
  const memStartBytes = scratchF64List(0, n);
  const memStartCat = scratchI32List(0, n);
  const memStartPool = scratchI32List(1, n);
  const memEndBytes = scratchF64List(1, n);
  const memEndCat = scratchI32List(2, n);
  const memEndPool = scratchI32List(3, n);
  const catIds = new Map<string, number>();
  const catNames: string[] = [];
  const poolIds = new Map<string, number>();
  const poolNames: string[] = [];
  // Dependencies in task order (CSR) and their count per task.
  const depStart = scratchI32(3, n + 1);
  depStart[0] = 0;
  const depList = scratchI32List(4, n);
  const remainingDeps = scratchI32(4, n);
  // Dependents of each task in one flat list (CSR): task d's are dependentList[dependentStart[d] .. dependentStart[d + 1]).
  const dependentStart = scratchI32(5, n + 1).fill(0, 0, n + 1);
  // The span table's times (handed out with the timeline: one buffer of their own), by task: when it reached
  // its stream's head, when its work began, when it ended (jitter's drift also reads its predecessors' ends).
  const readyAt = scratchF64(7, n).fill(-1, 0, n);
  const workStart = scratchF64(8, n);
  const endAt = scratchF64(9, n).fill(0, 0, n);
  // Jitter drift (see `virtualArrival`): what jitter added to a task's end since its chain last left a
  // rendezvous (all members together), and that sum's variance.
  const driftDev = rng ? new Float64Array(n) : undefined;
  const driftVar = rng ? new Float64Array(n) : undefined;
  // The chain a task's drift belongs to (a new one where a rendezvous reset it) and, per chain, the uniform
  // its virtual members' maximum is drawn from: the same latest member all along one chain, as a rank that
  // drifted late stays late until a rendezvous lines everyone up again.
  const chainOf = rng ? new Int32Array(n) : undefined;
  const chainU = new Map<number, number>();
  // A chain survives a rendezvous that waited for its virtual members (the latest of them is still the one
  // behind): how far the chain's representative was shifted by such waits, and what a member carries on.
  const chainShift = new Map<number, number>();
  const carryChain = rng ? new Int32Array(n).fill(-1) : undefined;
  const carryShift = rng ? new Float64Array(n) : undefined;
  let chains = 0;
  const done = scratchU8(2, n).fill(0, 0, n);
  // Streams: each one's queue of tasks in submission order, the next to run, and whether one is running.
  // The queues are one flat list by stream (CSR, built after the tasks are read: an array per stream grown
  // by push cost more than the two passes): stream s's are queueList[queueStart[s] .. queueStart[s + 1]),
  // and streamHead[s] is the position in that list of its next task.
  let streamCount = 0;
  const streamOf = scratchI32(6, n);
  const procs: ProcessState[] = [];
  const procByNumber = new Map<number, ProcessState>();
  const procOf: ProcessState[] = new Array(n);
  // Rendezvous groups by name: members (task order), members arrived, members still working.
  const groupIds = new Map<string, number>();
  const groupMembers: number[][] = [];
  const groupArrived: number[] = [];
  const groupPending: number[] = [];
  let finished = 0;
  const order = scratchI32(10, n);

  let lastProc: ProcessState | undefined;
  for (let i = 0; i < n; i++) {
    const t = tasks[i]!;
    // Each field is read once and checked as read (a separate check read them all again).
    const w = t.work;
    const occupancy = t.occupancy;
    if (occupancy !== undefined && !(occupancy >= 0 && occupancy <= 1)) throw new Error(`task ${i}: occupancy must be within [0, 1], got ${occupancy}`);
    occupancyOf[i] = occupancy ?? 0;
    if (w.kind === 'delay') {
      const seconds = w.seconds;
      if (!(seconds >= 0 && seconds < Infinity)) throw badWork(i, 'seconds', seconds);
      isFlow[i] = 0;
      workSeconds[i] = seconds;
      sharesProcessor[i] = w.sharesProcessor ? 1 : 0;
    } else {
      const latency = w.latencySeconds;
      const bytes = w.bytes;
      const maxRate = w.maxBytesPerSecond;
      if (!(latency >= 0 && latency < Infinity)) throw badWork(i, 'latencySeconds', latency);
      if (!(bytes >= 0 && bytes < Infinity)) throw badWork(i, 'bytes', bytes);
      if (!(maxRate > 0)) throw new Error(`task ${i}: maxBytesPerSecond must be positive, got ${maxRate}`);
      isFlow[i] = 1;
      sharesProcessor[i] = 0;
      workSeconds[i] = latency;
      flowBytes[i] = bytes;
      flowMaxRate[i] = maxRate;
      flowResources[i] = w.resources;
    }
    // Plans list a process's tasks together: the previous task's process is the likely one.
    if (lastProc === undefined || lastProc.process !== t.process) {
      lastProc = procByNumber.get(t.process);
      if (!lastProc) {
        lastProc = {
          process: t.process, streams: new Map(), streamNames: [], streamIds: [], catBytes: EMPTY_F64, catTouched: EMPTY_U8, catOrder: [], poolBytes: EMPTY_F64, poolPeak: EMPTY_F64, poolSet: EMPTY_U8, poolOrder: [],
          total: 0, rec: undefined, peakDirty: false, peakCat: EMPTY_F64, peakCatCount: -1, occupied: 0, sharing: [],
        };
        procByNumber.set(t.process, lastProc);
        procs.push(lastProc);
      }
    }
    procOf[i] = lastProc;
    // A process has a few streams: scan its names (the same string objects, mostly) before hashing.
    const names = lastProc.streamNames;
    let s: number | undefined;
    for (let k = 0; k < names.length; k++) {
      if (names[k] === t.stream) {
        s = lastProc.streamIds[k]!;
        break;
      }
    }
    if (s === undefined) s = lastProc.streams.get(t.stream);
    if (s === undefined) {
      s = streamCount++;
      lastProc.streams.set(t.stream, s);
      if (names.length < 8) {
        names.push(t.stream);
        lastProc.streamIds.push(s);
      }
    }
    streamOf[i] = s;
    const deps = t.deps;
    if (deps) for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      if (d < 0 || d >= n) throw new Error(`task ${i} depends on missing task ${d}`);
      depList.push(d);
      dependentStart[d + 1]!++;
    }
    depStart[i + 1] = depList.length;
    remainingDeps[i] = depList.length - depStart[i]!;
    if (t.group !== undefined) {
      let g = groupIds.get(t.group);
      if (g === undefined) {
        groupIds.set(t.group, (g = groupMembers.length));
        groupMembers.push([]);
        groupArrived.push(0);
        groupPending.push(0);
      }
      groupMembers[g]!.push(i);
      groupOf[i] = g;
    } else groupOf[i] = NO_GROUP;
    const changes = t.memory;
    if (changes) for (let k = 0; k < changes.length; k++) {
      const m = changes[k]!;
      if (m.bytes === 0) continue;
      const c = idOf(catIds, catNames, m.category);
      const q = idOf(poolIds, poolNames, m.pool ?? 'default');
      if (m.at === 'start') {
        memStartBytes.push(m.bytes);
        memStartCat.push(c);
        memStartPool.push(q);
      } else if (m.at === 'end') {
        memEndBytes.push(m.bytes);
        memEndCat.push(c);
        memEndPool.push(q);
      }
    }
    memStartOff[i + 1] = memStartBytes.length;
    memEndOff[i + 1] = memEndBytes.length;
  }
  const queueStart = scratchI32(11, streamCount + 1).fill(0, 0, streamCount + 1);
  const queueList = scratchI32(12, n);
  const streamHead = scratchI32(13, streamCount);
  const streamBusy = scratchU8(3, streamCount).fill(0, 0, streamCount);
  for (let i = 0; i < n; i++) queueStart[streamOf[i]! + 1]!++;
  for (let s = 0; s < streamCount; s++) {
    queueStart[s + 1]! += queueStart[s]!;
    streamHead[s] = queueStart[s]!;
  }
  // streamHead doubles as each queue's fill position here; reset to the starts below.
  for (let i = 0; i < n; i++) queueList[streamHead[streamOf[i]!]!++] = i;
  for (let s = 0; s < streamCount; s++) streamHead[s] = queueStart[s]!;
  for (const p of procs) {
    p.catBytes = new Float64Array(catNames.length);
    p.catTouched = new Uint8Array(catNames.length);
    p.peakCat = new Float64Array(catNames.length);
    p.poolBytes = new Float64Array(poolNames.length);
    p.poolPeak = new Float64Array(poolNames.length);
    p.poolSet = new Uint8Array(poolNames.length);
  }

  for (let i = 0; i < n; i++) dependentStart[i + 1]! += dependentStart[i]!;
  const dependentList = scratchI32(7, dependentStart[n]!);
  {
    const fill = scratchI32(8, n);
    for (let i = 0; i < n; i++) fill[i] = dependentStart[i]!;
    const deps = depList.values;
    for (let i = 0; i < n; i++) {
      for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) dependentList[fill[deps[k]!]!++] = i;
    }
  }

  // Memory accounting per process: each keeps its bytes by category and pool number and the order it first
  // touched them (the key order of the records it reports).
  const memory = new Map<number, ProcessMemory>();
  const memorySamples: MemorySample[] = [];
  const recordMemory = options.recordMemory ?? false;
  const poolCount = poolNames.length;
  const levels: MemoryLevels | undefined = options.levels
    ? { pools: [...poolNames], total: new Float64Array(n).fill(-Infinity), pool: new Float64Array(n * poolCount).fill(-Infinity) }
    : undefined;
  // A task's changes apply in list order and the peak is checked after each one, so a list can say
  // "allocate the new buffer, then free the old one" (both alive for an instant) or the reverse.
  const applyMemory = (task: number, p: ProcessState, from: number, to: number, bytesOf: Float64Array, catOf: Int32Array, poolOf: Int32Array) => {
    for (let k = from; k < to; k++) {
      const bytes = bytesOf[k]!;
      const c = catOf[k]!;
      // The breakdown at a peak is copied lazily, at the first free after it: until then every change was
      // an allocation that raised the peak, so the live state *is* the state at the peak.
      if (bytes < 0 && p.peakDirty) {
        p.peakCat.set(p.catBytes);
        p.peakCatCount = p.catOrder.length;
        p.peakDirty = false;
      }
      if (p.catTouched[c] === 0) {
        p.catTouched[c] = 1;
        p.catOrder.push(c);
      }
      p.catBytes[c] = p.catBytes[c]! + bytes;
      const total = (p.total += bytes);
      if (recordMemory) memorySamples.push({ time: now, process: p.process, category: catNames[c]!, bytes });
      let rec = p.rec;
      if (!rec) {
        rec = p.rec = { peakBytes: 0, peakTime: 0, breakdownAtPeak: {}, finalBytes: 0, poolPeakBytes: {} };
        memory.set(p.process, rec);
      }
      rec.finalBytes = total;
      const q = poolOf[k]!;
      const inPool = p.poolBytes[q]! + bytes;
      p.poolBytes[q] = inPool;
      if (inPool > p.poolPeak[q]!) {
        if (p.poolSet[q] === 0) {
          p.poolSet[q] = 1;
          p.poolOrder.push(q);
        }
        p.poolPeak[q] = inPool;
      }
      if (total > rec.peakBytes) {
        rec.peakBytes = total;
        rec.peakTime = now;
        p.peakDirty = true;
      }
      if (levels) {
        if (total > levels.total[task]!) levels.total[task] = total;
        const j = task * poolCount + q;
        if (inPool > levels.pool[j]!) levels.pool[j] = inPool;
      }
    }
  };

  // Processor sharing: occupancy per process and the shared-processor delay tasks running on it.
  const remaining = scratchF64(4, n);
  const rate = scratchF64(5, n);
  const lastUpdate = scratchF64(6, n);
  const version = scratchI32(9, n).fill(0, 0, n);
  const minimumShare = options.minimumShare ?? 0.05;
  const speedOf = (p: ProcessState) => Math.max(minimumShare, 1 - p.occupied);
  const scheduleDelay = (task: number) => {
    heap.push(now + remaining[task]! / rate[task]!, DELAY_DONE, task, ++version[task]!);
  };
  const occupy = (task: number, sign: 1 | -1) => {
    const occupancy = occupancyOf[task]!;
    if (occupancy === 0) return;
    const p = procOf[task]!;
    p.occupied += sign * occupancy;
    const speed = speedOf(p);
    const sharing = p.sharing;
    for (let k = 0; k < sharing.length; k++) {
      const d = sharing[k]!;
      remaining[d] = Math.max(0, remaining[d]! - (now - lastUpdate[d]!) * rate[d]!);
      lastUpdate[d] = now;
      rate[d] = speed;
      scheduleDelay(d);
    }
  };

  const network = new FluidNetwork(options.resources ?? new Map(), streamCount);
  // Each flow's resources by number, resolved in task order before the run (a list shared by consecutive
  // flows is looked up once). An unknown resource fails here, naming the first flow that uses it.
  const flowIds: number[][] = new Array(n);
  {
    let lastList: readonly string[] | undefined;
    let lastIds: number[] = [];
    for (let i = 0; i < n; i++) {
      const list = flowResources[i];
      if (list === undefined || flowBytes[i]! <= 0) continue;
      if (list !== lastList) {
        lastIds = network.resolve(i, list);
        lastList = list;
      }
      flowIds[i] = lastIds;
    }
  }
  let flowCheckAt = Infinity;
  const scheduleFlowCheck = () => {
    const next = network.nextCompletion(now);
    if (next < Infinity && next !== flowCheckAt) {
      flowCheckAt = next;
      heap.push(next, FLOW_CHECK, 0, 0);
    }
  };

  // Progress: work started, a flow placed on the network, a task's work done. The guards in the event
  // loop count events that move none of these.
  let progress = 0;
  const startWork = (task: number) => {
    progress++;
    workStart[task] = now;
    const from = memStartOff[task]!;
    const to = memStartOff[task + 1]!;
    if (from < to) applyMemory(task, procOf[task]!, from, to, memStartBytes.values, memStartCat.values, memStartPool.values);
    if (isFlow[task] === 0) {
      let seconds = workSeconds[task]!;
      if (rng) {
        const factor = Math.max(0.01, 1 + jitterStd * gaussian(rng));
        const w = seconds;
        seconds *= factor;
        if (groupOf[task] === NO_GROUP) {
          driftDev![task] = driftDev![task]! + (factor - 1) * w;
          driftVar![task] = driftVar![task]! + (jitterStd * w) ** 2;
        }
      }
      remaining[task] = seconds;
      lastUpdate[task] = now;
      // One store for both cases: plans whose first runs share the processor in every delay task left the
      // other branch's store without feedback, and the first host or copy task deoptimised the engine.
      const shares = sharesProcessor[task] === 1;
      rate[task] = shares ? speedOf(procOf[task]!) : 1;
      if (shares) procOf[task]!.sharing.push(task);
      scheduleDelay(task);
    } else {
      heap.push(now + workSeconds[task]!, LATENCY_DONE, task, 0);
    }
  };

  const arrive = (task: number) => {
    streamBusy[streamOf[task]!] = 1;
    readyAt[task] = now;
    if (driftDev) inheritDrift(task);
    occupy(task, 1);
    const g = groupOf[task]!;
    if (g === NO_GROUP) {
      startWork(task);
      return;
    }
    const members = groupMembers[g]!;
    if (++groupArrived[g]! === members.length) {
      let at = now;
      if (driftDev) for (const m of members) at = Math.max(at, virtualArrival(m));
      if (at > now) {
        // The latest virtual member set the start: every member's chain carries on past it.
        for (const m of members) {
          carryChain![m] = chainOf![m]!;
          carryShift![m] = (chainShift.get(chainOf![m]!) ?? 0) + at - (readyAt[m]! - driftDev![m]!);
        }
        heap.push(at, GROUP_START, task, 0);
      } else startGroup(g);
    }
  };

  const startGroup = (g: number) => {
    const members = groupMembers[g]!;
    groupPending[g] = members.length;
    // Indexed (here and at the group's end): `for…of` allocates an iterator per collective in cold code.
    for (let i = 0; i < members.length; i++) startWork(members[i]!);
  };

  /**
   * Symmetry reduction under jitter: member `m` stands for `standsFor − 1` more ranks of its class, each
   * having drifted since they last left a rendezvous together by an independent Gaussian sum with the
   * variance `m`'s chain accumulated. The latest of them arrives at the chain's jitter-free schedule + σ·Z,
   * Z the maximum of k iid standard normals, sampled exactly by its order statistic: Φ(Z) = U^(1/k), one U
   * per chain (the same member stays the latest). A rendezvous that waited for that member lines the
   * representative up behind it but not the others: the chain carries on, and what the representative's
   * schedule already absorbed (`chainShift`) is not waited for twice — so a chain of waits adds up to the
   * maximum of the whole drift, not a sum of maxima. Exact when the members' jittered work since they last
   * left together adds up on one chain; an approximation where streams overlap (docs/ARCHITECTURE.md,
   * "Ranks simulated").
   */
  const virtualArrival = (m: number): number => {
    const k = (tasks[m]!.standsFor ?? 1) - 1;
    if (k < 1) return -Infinity;
    const v = driftVar![m]!;
    const chain = chainOf![m]!;
    const jitterFree = readyAt[m]! - driftDev![m]! - (chainShift.get(chain) ?? 0);
    if (!(v > 0)) return jitterFree;
    let u = chainU.get(chain);
    if (u === undefined) chainU.set(chain, (u = rng!()));
    return jitterFree + Math.sqrt(v) * maxOfNormals(k, u);
  };

  /** A task's drift when it starts: that of whichever predecessor released it last (a rendezvous resets it). */
  const inheritDrift = (task: number) => {
    let from = -1;
    let latest = -Infinity;
    for (let k = depStart[task]!, end = depStart[task + 1]!; k < end; k++) {
      const d = depList.values[k]!;
      if (endAt[d]! >= latest) {
        latest = endAt[d]!;
        from = d;
      }
    }
    const s = streamOf[task]!;
    const head = streamHead[s]!;
    const prev = head > queueStart[s]! ? queueList[head - 1]! : -1;
    if (prev >= 0 && endAt[prev]! >= latest) from = prev;
    if (from >= 0 && groupOf[from] !== NO_GROUP && carryChain![from]! >= 0) {
      // Released by a rendezvous that waited for this chain's latest virtual member: same chain, its drift
      // variance kept, the representative's own deviation now part of its (shifted) schedule.
      const chain = carryChain![from]!;
      chainOf![task] = chain;
      chainShift.set(chain, carryShift![from]!);
      driftVar![task] = driftVar![from]!;
      return;
    }
    if (from < 0 || groupOf[from] !== NO_GROUP) {
      chainOf![task] = ++chains;
      return;
    }
    chainOf![task] = chainOf![from]!;
    driftDev![task] = driftDev![from]!;
    driftVar![task] = driftVar![from]!;
  };

  const tryStart = (s: number) => {
    if (streamBusy[s] === 1) return;
    const head = streamHead[s]!;
    if (head >= queueStart[s + 1]!) return;
    const task = queueList[head]!;
    if (remainingDeps[task] === 0) arrive(task);
  };

  const finish = (task: number) => {
    done[task] = 1;
    endAt[task] = now;
    const p = procOf[task]!;
    const from = memEndOff[task]!;
    const to = memEndOff[task + 1]!;
    if (from < to) applyMemory(task, p, from, to, memEndBytes.values, memEndCat.values, memEndPool.values);
    // Only shared-processor delay tasks were added (flows never are); the others keep their order.
    if (sharesProcessor[task] === 1) {
      const sharing = p.sharing;
      // Shift the later ones down and pop (splice would allocate the removed elements' array).
      let at = sharing.indexOf(task);
      if (at >= 0) {
        for (; at < sharing.length - 1; at++) sharing[at] = sharing[at + 1]!;
        sharing.pop();
      }
    }
    occupy(task, -1);
    order[finished++] = task;
    const s = streamOf[task]!;
    streamBusy[s] = 0;
    streamHead[s]!++;
    for (let k = dependentStart[task]!, end = dependentStart[task + 1]!; k < end; k++) {
      const d = dependentList[k]!;
      if (--remainingDeps[d]! === 0) tryStart(streamOf[d]!);
    }
    tryStart(s);
  };

  /** A member's own work is done; a group ends when all members are. */
  const workDone = (task: number) => {
    progress++;
    const g = groupOf[task]!;
    if (g === NO_GROUP) {
      finish(task);
      return;
    }
    if (--groupPending[g]! === 0) {
      const members = groupMembers[g]!;
      for (let i = 0; i < members.length; i++) finish(members[i]!);
    }
  };

  for (let s = 0; s < streamCount; s++) tryStart(s);

  // The most events a correct run can process. Every event was pushed by: a task's start (one), a change
  // of occupancy on its process (two per task, each re-timing at most one running task per stream of
  // that process), a flow placed or checked (a check either finishes a flow or, after floating-point
  // slack, is followed by one that does). Beyond this bound the engine is looping.
  let maxStreams = 1;
  for (const p of procs) maxStreams = Math.max(maxStreams, p.streams.size);
  const eventBudget = n * (8 + 2 * maxStreams) + 64;
  // Events in a row at one instant that moved nothing. Each such event consumes a queued entry (a stale
  // re-timing) without adding one at that instant, so a run longer than the queue was is a loop.
  let idle = 0;
  let idleQueue = 0;

  while (heap.pop()) {
    const evTime = heap.time;
    const evKind = heap.kind;
    const evTask = heap.task;
    events++;
    const before = progress;
    const sameInstant = evTime === now;
    now = evTime;
    if (evKind === DELAY_DONE) {
      if (heap.version === version[evTask]) workDone(evTask); // else re-rated since
    } else if (evKind === LATENCY_DONE) {
      progress++;
      if (flowBytes[evTask]! <= 0) workDone(evTask);
      else network.addResolved(evTask, flowBytes[evTask]!, flowMaxRate[evTask]!, flowIds[evTask]!, now);
      scheduleFlowCheck();
    } else if (evKind === GROUP_START) {
      progress++;
      startGroup(groupOf[evTask]!);
    } else if (evTime === flowCheckAt) {
      flowCheckAt = Infinity;
      const count = network.collectFinished(now);
      const finishedTasks = network.finishedTasks;
      for (let k = 0; k < count; k++) workDone(finishedTasks[k]!);
      scheduleFlowCheck();
    } // else superseded by a re-rating
    if (progress !== before || !sameInstant) {
      idle = 0;
      idleQueue = heap.size;
    } else if (++idle > idleQueue + 2) {
      throw new EngineStallError(`${idle} events at this instant changed nothing (a ${EVENT_NAMES[evKind]} event keeps rescheduling itself)`, now, events);
    }
    if (events > eventBudget) {
      throw new EngineStallError(`more events than ${n} tasks can need (${eventBudget}); the last was a ${EVENT_NAMES[evKind]} event`, now, events);
    }
  }

  for (const p of procs) {
    if (!p.rec) continue;
    if (p.peakDirty) p.rec.breakdownAtPeak = toRecord(catNames, p.catOrder, p.catBytes, p.catOrder.length);
    else if (p.peakCatCount >= 0) p.rec.breakdownAtPeak = toRecord(catNames, p.catOrder, p.peakCat, p.peakCatCount);
    p.rec.poolPeakBytes = toRecord(poolNames, p.poolOrder, p.poolPeak, p.poolOrder.length);
  }
  const stuck = n - finished;
  if (stuck > 0) {
    const first = tasks.findIndex((_, i) => !done[i]);
    throw new Error(`engine: ${stuck} task(s) never ran (first: #${first} on stream ${tasks[first]!.stream}); the plan has a dependency cycle or an incomplete group`);
  }
  // The table's arrays are the timeline's own: copied out of the pool in one buffer.
  const times = new Float64Array(3 * n);
  times.set(readyAt.subarray(0, n), 0);
  times.set(workStart.subarray(0, n), n);
  times.set(endAt.subarray(0, n), 2 * n);
  const timeline = new TableTimeline(new SpanTable(order.slice(0, n), times.subarray(0, n), times.subarray(n, 2 * n), times.subarray(2 * n), tasks), now, memory, memorySamples, events);
  if (levels) timeline.levels = levels;
  return timeline;
}

/**
 * The timeline the engine returns: its span objects are built from the table on first read of `spans`
 * (a prototype getter: a closure per timeline kept the young plan reachable across scavenges, and the
 * sweep's garbage collection grew fourfold).
 */
class TableTimeline<Tag> implements Timeline<Tag> {
  private built: Span<Tag>[] | undefined;

  constructor(
    readonly table: SpanTable<Tag>,
    public makespan: number,
    public memory: Map<number, ProcessMemory>,
    public memorySamples: MemorySample[],
    public eventsProcessed: number,
  ) {}

  levels?: MemoryLevels;

  get spans(): Span<Tag>[] {
    return (this.built ??= spansFrom(this.table));
  }
}

/** Span objects from the table, in finishing order (for reports; metrics read the table). */
function spansFrom<Tag>(table: SpanTable<Tag>): Span<Tag>[] {
  const { order, start, workStart, end, tasks } = table;
  const out: Span<Tag>[] = new Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const task = order[i]!;
    const t = tasks[task]!;
    out[i] = { task, process: t.process, stream: t.stream, start: start[task]!, workStart: workStart[task]!, end: end[task]!, tag: t.tag };
  }
  return out;
}

/**
 * One event heap reused by every run (emptied first, so a run that threw leaves nothing behind): its arrays
 * grow once to the busiest run's queue. Runs never nest (the engine calls nothing that simulates).
 */
const sharedHeap = new TypedEventHeap();
function pooledHeap(): TypedEventHeap {
  sharedHeap.clear();
  return sharedHeap;
}

const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_I32 = new Int32Array(0);

/** The number of `name`, numbering it if new. */
function idOf(ids: Map<string, number>, names: string[], name: string): number {
  // Plans use a handful of names, mostly the same string objects: a scan beats hashing each lookup.
  if (names.length <= 8) for (let i = 0; i < names.length; i++) if (names[i] === name) return i;
  let id = ids.get(name);
  if (id === undefined) {
    ids.set(name, (id = names.length));
    names.push(name);
  }
  return id;
}

/** { name: value } for the first `count` of `order` (first touched first), as a Map's insertion order would give. */
function toRecord(names: readonly string[], order: readonly number[], values: ArrayLike<number>, count: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < count; i++) out[names[order[i]!]!] = values[order[i]!]!;
  return out;
}

/** Durations, sizes and rates the engine can schedule: finite, non-negative (rates positive). */
const badWork = (task: number, what: string, v: number) => new Error(`task ${task}: ${what} must be a finite number ≥ 0, got ${v}`);

/** Standard normal draw (Box–Muller) from a seeded uniform source. */
function gaussian(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
