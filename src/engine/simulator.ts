import seedrandom from 'seedrandom';
import { maxOfNormals } from '../util/normal.ts';
import { TypedEventHeap } from './heap.ts';
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
}

export interface Timeline<Tag> {
  spans: Span<Tag>[];
  makespan: number;
  memory: Map<number, ProcessMemory>;
  memorySamples: MemorySample[];
  eventsProcessed: number;
}

interface StreamState {
  queue: number[];
  head: number;
  busy: boolean;
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
  /** Live bytes by category number, and the numbers in the order first touched (the breakdown's key order). */
  catBytes: (number | undefined)[];
  catOrder: number[];
  /** Live bytes by allocator pool number; each pool's high-water mark, and the order those were first set. */
  poolBytes: (number | undefined)[];
  poolPeak: (number | undefined)[];
  poolOrder: number[];
  total: number;
  rec: ProcessMemory | undefined;
  /** The live state is the state at the peak (copied lazily at the next free). */
  peakDirty: boolean;
  /** Summed occupancy of the running occupant tasks. */
  occupied: number;
  /** Shared-processor delay tasks running on this process. */
  sharing: Set<number> | undefined;
}

export function simulate<Tag>(tasks: readonly Task<Tag>[], options: SimulationOptions = {}): Timeline<Tag> {
  const n = tasks.length;
  const heap = new TypedEventHeap();
  let now = 0;
  let events = 0;
  const rng = options.jitter && options.jitter.relativeStd > 0 ? seedrandom(options.jitter.seed) : undefined;
  const jitterStd = options.jitter?.relativeStd ?? 0;

  const remainingDeps = new Int32Array(n);
  // Dependents of each task in one flat list (CSR): task d's are dependentList[dependentStart[d] .. dependentStart[d + 1]).
  const dependentStart = new Int32Array(n + 1);
  const readyAt = new Float64Array(n).fill(-1);
  // Jitter drift (see `virtualArrival`): what jitter added to a task's end since its chain last left a
  // rendezvous (all members together), and that sum's variance.
  const endAt = rng ? new Float64Array(n) : undefined;
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
  const workStart = new Float64Array(n);
  const done = new Uint8Array(n);
  const streams = new Map<number, Map<string, StreamState>>();
  const streamList: StreamState[] = [];
  const streamOf: StreamState[] = new Array(n);
  const procs = new Map<number, ProcessState>();
  const procOf: ProcessState[] = new Array(n);
  const groups = new Map<string, { members: number[]; arrived: number; pending: number }>();
  const spans: Span<Tag>[] = [];

  let lastProc: ProcessState | undefined;
  let lastStreams: Map<string, StreamState> | undefined;
  for (let i = 0; i < n; i++) {
    const t = tasks[i]!;
    checkWork(i, t.work, t.occupancy);
    // Plans list a process's tasks together: the previous task's process is the likely one.
    if (lastProc === undefined || lastProc.process !== t.process) {
      lastProc = procs.get(t.process);
      if (!lastProc) {
        lastProc = { process: t.process, catBytes: [], catOrder: [], poolBytes: [], poolPeak: [], poolOrder: [], total: 0, rec: undefined, peakDirty: false, occupied: 0, sharing: undefined };
        procs.set(t.process, lastProc);
        streams.set(t.process, new Map());
      }
      lastStreams = streams.get(t.process)!;
    }
    procOf[i] = lastProc;
    let s = lastStreams!.get(t.stream);
    if (!s) {
      s = { queue: [], head: 0, busy: false };
      lastStreams!.set(t.stream, s);
      streamList.push(s);
    }
    s.queue.push(i);
    streamOf[i] = s;
    if (t.deps) for (const d of t.deps) {
      if (d < 0 || d >= n) throw new Error(`task ${i} depends on missing task ${d}`);
      remainingDeps[i]!++;
      dependentStart[d + 1]!++;
    }
    if (t.group !== undefined) {
      let g = groups.get(t.group);
      if (!g) {
        g = { members: [], arrived: 0, pending: 0 };
        groups.set(t.group, g);
      }
      g.members.push(i);
    }
  }

  for (let i = 0; i < n; i++) dependentStart[i + 1]! += dependentStart[i]!;
  const dependentList = new Int32Array(dependentStart[n]!);
  {
    const fill = dependentStart.slice(0, n);
    for (let i = 0; i < n; i++) {
      const deps = tasks[i]!.deps;
      if (deps) for (const d of deps) dependentList[fill[d]!++] = i;
    }
  }

  // Memory accounting per process. Categories and pools are numbered once per run; each process keeps its
  // bytes by number and the order it first touched them (the key order of the records it reports).
  const memory = new Map<number, ProcessMemory>();
  const catIds = new Map<string, number>();
  const catNames: string[] = [];
  const poolIds = new Map<string, number>();
  const poolNames: string[] = [];
  const memorySamples: MemorySample[] = [];
  const recordMemory = options.recordMemory ?? false;
  // A task's changes apply in list order and the peak is checked after each one, so a list can say
  // "allocate the new buffer, then free the old one" (both alive for an instant) or the reverse.
  const applyMemory = (task: number, at: 'start' | 'end') => {
    const changes = tasks[task]!.memory;
    if (!changes) return;
    const p = procOf[task]!;
    for (let i = 0; i < changes.length; i++) {
      const m = changes[i]!;
      if (m.at !== at || m.bytes === 0) continue;
      const c = idOf(catIds, catNames, m.category);
      // The breakdown at a peak is copied lazily, at the first free after it: until then every change was
      // an allocation that raised the peak, so the live state *is* the state at the peak.
      if (m.bytes < 0 && p.peakDirty) {
        p.rec!.breakdownAtPeak = toRecord(catNames, p.catOrder, p.catBytes);
        p.peakDirty = false;
      }
      const held = p.catBytes[c];
      if (held === undefined) p.catOrder.push(c);
      p.catBytes[c] = (held ?? 0) + m.bytes;
      const total = (p.total += m.bytes);
      if (recordMemory) memorySamples.push({ time: now, process: p.process, category: m.category, bytes: m.bytes });
      let rec = p.rec;
      if (!rec) {
        rec = p.rec = { peakBytes: 0, peakTime: 0, breakdownAtPeak: {}, finalBytes: 0, poolPeakBytes: {} };
        memory.set(p.process, rec);
      }
      rec.finalBytes = total;
      const q = idOf(poolIds, poolNames, m.pool ?? 'default');
      const inPool = (p.poolBytes[q] ?? 0) + m.bytes;
      p.poolBytes[q] = inPool;
      const poolPeak = p.poolPeak[q];
      if (inPool > (poolPeak ?? 0)) {
        if (poolPeak === undefined) p.poolOrder.push(q);
        p.poolPeak[q] = inPool;
      }
      if (total > rec.peakBytes) {
        rec.peakBytes = total;
        rec.peakTime = now;
        p.peakDirty = true;
      }
    }
  };

  // Processor sharing: occupancy per process and the shared-processor delay tasks running on it.
  const remaining = new Float64Array(n);
  const rate = new Float64Array(n);
  const lastUpdate = new Float64Array(n);
  const version = new Int32Array(n);
  const minimumShare = options.minimumShare ?? 0.05;
  const speedOf = (p: ProcessState) => Math.max(minimumShare, 1 - p.occupied);
  const scheduleDelay = (task: number) => {
    heap.push(now + remaining[task]! / rate[task]!, DELAY_DONE, task, ++version[task]!);
  };
  const occupy = (task: number, sign: 1 | -1) => {
    const occupancy = tasks[task]!.occupancy;
    if (!occupancy) return;
    const p = procOf[task]!;
    p.occupied += sign * occupancy;
    const speed = speedOf(p);
    if (p.sharing) for (const d of p.sharing) {
      remaining[d] = Math.max(0, remaining[d]! - (now - lastUpdate[d]!) * rate[d]!);
      lastUpdate[d] = now;
      rate[d] = speed;
      scheduleDelay(d);
    }
  };

  const network = new FluidNetwork(options.resources ?? new Map());
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
    const t = tasks[task]!;
    workStart[task] = now;
    applyMemory(task, 'start');
    const w = t.work;
    if (w.kind === 'delay') {
      let seconds = w.seconds;
      if (rng) {
        const factor = Math.max(0.01, 1 + jitterStd * gaussian(rng));
        seconds *= factor;
        if (t.group === undefined) {
          driftDev![task] = driftDev![task]! + (factor - 1) * w.seconds;
          driftVar![task] = driftVar![task]! + (jitterStd * w.seconds) ** 2;
        }
      }
      remaining[task] = seconds;
      lastUpdate[task] = now;
      rate[task] = w.sharesProcessor ? speedOf(procOf[task]!) : 1;
      if (w.sharesProcessor) (procOf[task]!.sharing ??= new Set()).add(task);
      scheduleDelay(task);
    } else {
      heap.push(now + w.latencySeconds, LATENCY_DONE, task, 0);
    }
  };

  const arrive = (task: number) => {
    const s = streamOf[task]!;
    s.busy = true;
    readyAt[task] = now;
    if (driftDev) inheritDrift(task);
    occupy(task, 1);
    const g = tasks[task]!.group;
    if (g === undefined) {
      startWork(task);
      return;
    }
    const grp = groups.get(g)!;
    grp.arrived++;
    if (grp.arrived === grp.members.length) {
      let at = now;
      if (driftDev) for (const m of grp.members) at = Math.max(at, virtualArrival(m));
      if (at > now) {
        // The latest virtual member set the start: every member's chain carries on past it.
        for (const m of grp.members) {
          carryChain![m] = chainOf![m]!;
          carryShift![m] = (chainShift.get(chainOf![m]!) ?? 0) + at - (readyAt[m]! - driftDev![m]!);
        }
        heap.push(at, GROUP_START, task, 0);
      } else startGroup(grp);
    }
  };

  const startGroup = (grp: { members: number[]; pending: number }) => {
    grp.pending = grp.members.length;
    for (const m of grp.members) startWork(m);
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
    const deps = tasks[task]!.deps;
    if (deps) {
      for (const d of deps) {
        if (endAt![d]! >= latest) {
          latest = endAt![d]!;
          from = d;
        }
      }
    }
    const s = streamOf[task]!;
    const prev = s.head > 0 ? s.queue[s.head - 1]! : -1;
    if (prev >= 0 && endAt![prev]! >= latest) from = prev;
    if (from >= 0 && tasks[from]!.group !== undefined && carryChain![from]! >= 0) {
      // Released by a rendezvous that waited for this chain's latest virtual member: same chain, its drift
      // variance kept, the representative's own deviation now part of its (shifted) schedule.
      const chain = carryChain![from]!;
      chainOf![task] = chain;
      chainShift.set(chain, carryShift![from]!);
      driftVar![task] = driftVar![from]!;
      return;
    }
    if (from < 0 || tasks[from]!.group !== undefined) {
      chainOf![task] = ++chains;
      return;
    }
    chainOf![task] = chainOf![from]!;
    driftDev![task] = driftDev![from]!;
    driftVar![task] = driftVar![from]!;
  };


  const tryStart = (s: StreamState) => {
    if (s.busy || s.head >= s.queue.length) return;
    const task = s.queue[s.head]!;
    if (remainingDeps[task] === 0) arrive(task);
  };

  const finish = (task: number) => {
    const t = tasks[task]!;
    done[task] = 1;
    if (endAt) endAt[task] = now;
    applyMemory(task, 'end');
    procOf[task]!.sharing?.delete(task);
    occupy(task, -1);
    spans.push({ task, process: t.process, stream: t.stream, start: readyAt[task]!, workStart: workStart[task]!, end: now, tag: t.tag });
    const s = streamOf[task]!;
    s.busy = false;
    s.head++;
    for (let k = dependentStart[task]!, end = dependentStart[task + 1]!; k < end; k++) {
      const d = dependentList[k]!;
      if (--remainingDeps[d]! === 0) tryStart(streamOf[d]!);
    }
    tryStart(s);
  };

  /** A member's own work is done; a group ends when all members are. */
  const workDone = (task: number) => {
    progress++;
    const g = tasks[task]!.group;
    if (g === undefined) {
      finish(task);
      return;
    }
    const grp = groups.get(g)!;
    if (--grp.pending === 0) for (const m of grp.members) finish(m);
  };

  for (const s of streamList) tryStart(s);

  // The most events a correct run can process. Every event was pushed by: a task's start (one), a change
  // of occupancy on its process (two per task, each re-timing at most one running task per stream of
  // that process), a flow placed or checked (a check either finishes a flow or, after floating-point
  // slack, is followed by one that does). Beyond this bound the engine is looping.
  let maxStreams = 1;
  for (const c of streams.values()) maxStreams = Math.max(maxStreams, c.size);
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
      const w = tasks[evTask]!.work as Extract<Work, { kind: 'flow' }>;
      progress++;
      if (w.bytes <= 0) workDone(evTask);
      else network.add(evTask, w.bytes, w.maxBytesPerSecond, w.resources, now);
      scheduleFlowCheck();
    } else if (evKind === GROUP_START) {
      progress++;
      startGroup(groups.get(tasks[evTask]!.group!)!);
    } else if (evTime === flowCheckAt) {
      flowCheckAt = Infinity;
      for (const task of network.collectFinished(now)) workDone(task);
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

  for (const p of procs.values()) {
    if (!p.rec) continue;
    if (p.peakDirty) p.rec.breakdownAtPeak = toRecord(catNames, p.catOrder, p.catBytes);
    p.rec.poolPeakBytes = toRecord(poolNames, p.poolOrder, p.poolPeak);
  }
  const stuck = n - spans.length;
  if (stuck > 0) {
    const first = tasks.findIndex((_, i) => !done[i]);
    throw new Error(`engine: ${stuck} task(s) never ran (first: #${first} on stream ${tasks[first]!.stream}); the plan has a dependency cycle or an incomplete group`);
  }
  return { spans, makespan: now, memory, memorySamples, eventsProcessed: events };
}

/** Durations, sizes and rates the engine can schedule: finite, non-negative, rates positive. */
/** The number of `name`, numbering it if new. */
function idOf(ids: Map<string, number>, names: string[], name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    ids.set(name, (id = names.length));
    names.push(name);
  }
  return id;
}

/** { name: value } in `order` (first touched first), as a Map's insertion order would give. */
function toRecord(names: readonly string[], order: readonly number[], values: readonly (number | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < order.length; i++) out[names[order[i]!]!] = values[order[i]!]!;
  return out;
}

const badWork = (task: number, what: string, v: number) => new Error(`task ${task}: ${what} must be a finite number ≥ 0, got ${v}`);

function checkWork(task: number, w: Work, occupancy: number | undefined): void {
  if (occupancy !== undefined && !(occupancy >= 0 && occupancy <= 1)) throw new Error(`task ${task}: occupancy must be within [0, 1], got ${occupancy}`);
  if (w.kind === 'delay') {
    if (!(w.seconds >= 0 && w.seconds < Infinity)) throw badWork(task, 'seconds', w.seconds);
    return;
  }
  if (!(w.latencySeconds >= 0 && w.latencySeconds < Infinity)) throw badWork(task, 'latencySeconds', w.latencySeconds);
  if (!(w.bytes >= 0 && w.bytes < Infinity)) throw badWork(task, 'bytes', w.bytes);
  if (!(w.maxBytesPerSecond > 0)) throw new Error(`task ${task}: maxBytesPerSecond must be positive, got ${w.maxBytesPerSecond}`);
}

/** Standard normal draw (Box–Muller) from a seeded uniform source. */
function gaussian(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
