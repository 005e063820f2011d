import type { LoadedScenario, ResolvedConfig } from '../config/index.ts';
import type { ModelSpec } from '../model/index.ts';
import type { VariantOutcome } from '../advisor/index.ts';
import { memoryRequirement } from '../metrics/result.ts';
import { prepareRun, runPrepared, simulateCut, type CutRun, type PreparedRun } from './simulate.ts';

/**
 * Layer counts of the three cut models. A step of a model of identical decoder layers is, past the first and
 * last few layers, the same layer again: the step time grows by one layer's steady-state time per layer, and
 * every memory level a task leaves grows by a fixed amount per layer (one more layer's saved activations,
 * parameters, gradients, optimizer states). So both are affine in the layer count, and two cut models give
 * the line; the third checks it (to `TOLERANCE`), and `extrapolate` checks the queues the line cannot see.
 * Anything that is not per layer breaks one of them, and the variant is simulated whole.
 */
export const CUT_LAYERS = [5, 6, 7] as const;
/** Layers at each end whose tasks are told apart by position; the ones between are one middle role. */
const EDGE_LAYERS = 2;
/**
 * Fewer layers are simulated whole. Warm CPU per variant, whole against cut + extrapolated: 8B (32 layers)
 * 4.3 → 2.1 ms, 13B (40) 4.4 → 3.5 ms, 70B (80) 5.9 → 3.4 ms (the scenarios/ files, 2026-12-06).
 */
const MIN_LAYERS_TO_CUT = 24;
/** Relative deviation from the line the third cut model may show (float rounding is ~1e-15). */
const TOLERANCE = 1e-9;

/**
 * Whether a configuration's step is a line in its layer count past the edges, as far as can be told before
 * simulating: identical decoder layers, enough of them to be worth cutting, FSDP (or one GPU), no
 * straggler. Each exclusion is a case where the cut models' line was wrong or usually refused, found by
 * test/properties/layer-extrapolation.test.ts (random configurations against whole-model runs) and the
 * Axolotl examples' advice (DDP with adapters: 660 of 666 variants off the line). The checks after
 * simulating (`extrapolate`) catch the rest they can see.
 */
export function cuttable(cfg: ResolvedConfig, trained: ModelSpec): boolean {
  if (trained.numLayers < MIN_LAYERS_TO_CUT) return false;
  const signature = trained.layers[0]?.signature;
  if (!trained.layers.every((l) => l.signature === signature)) return false;
  // DeepSpeed sizes its reduce and prefetch buckets in bytes, not layers. DDP's buckets start with the
  // head's gradients (a GB for a 128 k vocabulary): their all-reduces form a queue the layers' buckets
  // then work off, and the step changes pace where it drains (8B, 2 nodes: at layer 8; the cut models'
  // line was 1.4-5% short); with adapters a bucket spans many layers. FSDP gathers and reduces per layer.
  if (cfg.strategy !== 'fsdp1' && cfg.strategy !== 'fsdp2' && cfg.strategy !== 'single') return false;
  // A straggler makes the other ranks wait a little more at each collective until they settle into its
  // pace, a transient longer than the cut models under FSDP.
  if (cfg.simulation.stragglers.length > 0) return false;
  return true;
}

/**
 * The advisor's evaluation of one variant (one nominal step): by layer extrapolation when `cuttable` and
 * the checks pass, else by simulating it whole. Extrapolated numbers are the whole model's (the tests in
 * test/pipeline/ and test/properties/ pin them against whole-model runs): memory exactly, step time to
 * float rounding, or within 0.2% when the first layers settle later than the cut models reach (MiniMax-M2
 * under FSDP2 + QLoRA reaches its per-layer step at layer 12: 9.1e-4 fast; the worst of ~670 random
 * configurations 1.8e-3).
 */
export async function evaluateVariant(loaded: LoadedScenario, model: ModelSpec): Promise<VariantOutcome> {
  const prepared = await prepareRun(loaded, { model });
  let tasks = 0;
  if (cuttable(prepared.cfg, prepared.trained)) {
    const runs = CUT_LAYERS.map((layers) => simulateCut(prepared, layers));
    tasks = runs.reduce((a, r) => a + r.plan.tasks.length, 0);
    const extrapolated = extrapolate(prepared, runs);
    if (extrapolated) return { ...extrapolated, tasks };
  }
  const whole = await runPrepared(prepared, { steadyState: true });
  const r = whole.result;
  return {
    cfg: whole.cfg,
    cluster: whole.cluster,
    stepSeconds: r.step_time_s,
    tokensPerSecondPerGpu: r.throughput.tokens_per_s_per_gpu,
    globalBatchSize: r.batch.global_batch_size,
    peakBytes: r.memory.peak_bytes,
    requiredBytes: r.memory.required_bytes,
    fits: r.memory.fits,
    tasks: tasks + whole.plan.tasks.length,
    method: 'full',
  };
}

/** The value at `layers` on the line through the last two runs, or undefined when the first run is off it. */
function onLine(values: readonly number[], counts: readonly number[], layers: number): number | undefined {
  // By index: array destructuring runs the iterator protocol, and this runs per role and pool.
  const a = values[0]!;
  const b = values[1]!;
  const c = values[2]!;
  const la = counts[0]!;
  const lb = counts[1]!;
  const lc = counts[2]!;
  // A pool a task never touches stays -Infinity in every run.
  if (a === -Infinity && b === -Infinity && c === -Infinity) return -Infinity;
  const slope = (c - b) / (lc - lb);
  const predicted = b + slope * (la - lb);
  if (!(Math.abs(predicted - a) <= TOLERANCE * Math.max(Math.abs(a), Math.abs(b), Math.abs(c), 1e-300))) return undefined;
  return c + slope * (layers - lc);
}

/**
 * Step time and memory of the whole model from the cut ones, or undefined when they are not on a line. The
 * memory is extrapolated task by task (each task's level is affine in the layer count), and only then is
 * the highest taken: a peak that moves from one phase of the step to another as layers are added (the
 * optimizer step's states overtaking the forward's activations) is found, which extrapolating the cut
 * models' peaks would miss.
 */
export function extrapolate(prepared: PreparedRun, runs: readonly CutRun[]): Omit<VariantOutcome, 'tasks'> | undefined {
  const layers = prepared.trained.numLayers;
  const counts = runs.map((r) => r.model.numLayers);
  const step = onLine(runs.map((r) => r.stepSeconds), counts, layers);
  if (step === undefined || queueGrows(runs) || !queuesSteady(runs[runs.length - 1]!)) return undefined;
  const pools = runs[0]!.timeline.levels!.pools;
  if (runs.some((r) => r.timeline.levels!.pools.join('\u0000') !== pools.join('\u0000'))) return undefined;
  // Stream numbers shared by the three runs, so a role has the same key in each.
  const streamIds = new Map<string, number>();
  const byRun = [];
  for (const r of runs) {
    const roles = levelsByRole(r, streamIds);
    if (!roles) return undefined;
    byRun.push(roles);
  }
  const last = byRun[byRun.length - 1]!;
  if (byRun.some((m) => m.roles.size !== last.roles.size)) return undefined;
  // Per process: the highest level, and each pool's.
  const width = 1 + pools.length;
  const highest = new Map<number, Float64Array>();
  const values = [0, 0, 0];
  for (const role of last.roles.keys()) {
    const inRuns = byRun.map((m) => m.roles.get(role));
    if (inRuns.some((l) => l === undefined)) return undefined;
    const process = last.processOf.get(role)!;
    let high = highest.get(process);
    if (!high) highest.set(process, (high = new Float64Array(width)));
    for (let q = 0; q < width; q++) {
      for (let r = 0; r < inRuns.length; r++) values[r] = inRuns[r]![q]!;
      const v = onLine(values, counts, layers);
      if (v === undefined) return undefined;
      if (v > high[q]!) high[q] = v;
    }
  }
  // As metrics/result.ts: the rank with the highest peak (the first of equals), with its pools' high-water marks.
  let peakBytes = 0;
  let poolHighWater = 0;
  for (const process of runs[runs.length - 1]!.timeline.memory.keys()) {
    const high = highest.get(process);
    if (high && high[0]! > peakBytes) {
      peakBytes = high[0]!;
      poolHighWater = 0;
      for (let q = 1; q < width; q++) poolHighWater += high[q]!;
    }
  }
  const { cfg, cluster } = prepared;
  const { required, fits } = memoryRequirement(peakBytes, poolHighWater, cluster.profile);
  return {
    cfg,
    cluster,
    stepSeconds: step,
    tokensPerSecondPerGpu: cfg.batch.tokensPerStep / step / cluster.worldSize,
    globalBatchSize: cfg.batch.globalBatchSize,
    peakBytes,
    requiredBytes: required,
    fits,
    method: 'layers',
  };
}

/**
 * Whether some stream's work grows faster per layer than the cut models' timeline: then its queue grows with
 * every layer, and a deeper model waits on it where the cut ones did not (DDP across two nodes: the
 * all-reduces fall behind the backward from about layer 8, and an 8B step is 5% longer than the cut
 * models' line). A stream is serial, so its busy time per layer bounds the time per layer from below.
 */
function queueGrows(runs: readonly CutRun[]): boolean {
  const [, b, c] = runs as [CutRun, CutRun, CutRun];
  const layersBetween = c.model.numLayers - b.model.numLayers;
  const timeSlope = (c.timeline.makespan - b.timeline.makespan) / layersBetween;
  const busyB = busyByStream(b);
  for (const [stream, busy] of busyByStream(c)) {
    if ((busy - (busyB.get(stream) ?? 0)) / layersBetween > timeSlope * (1 + TOLERANCE)) return true;
  }
  return false;
}

/**
 * Whether every queue is steady along the middle layers of a cut model: a task that waits behind its
 * stream after its dependencies are met waits as long at every middle layer. A wait that grows or shrinks
 * from layer to layer is a queue filling or draining (gradients waiting for their copy to the host under CPU
 * offload, DDP's buckets working off the head's all-reduces): it holds more or fewer blocks, or sets the
 * pace, at some deeper layer than the cut models have, so their line would be wrong there (70B, FSDP1 CPU
 * offload: one more layer's gradients queued every ~16 layers, 1.2% of the memory required at 80).
 */
function queuesSteady(run: CutRun): boolean {
  const { start, end, tasks } = run.timeline.table;
  const layers = run.model.numLayers;
  const tolerance = TOLERANCE * run.timeline.makespan;
  // The wait of each task with dependencies in the middle layers, by role (process, stream, phase,
  // micro-batch, index within its layer), in layer order.
  const waits = new Map<string, number[]>();
  const seen = new Map<string, number>();
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const layer = t.tag.layer;
    if (layer === undefined || layer < EDGE_LAYERS || layer >= layers - EDGE_LAYERS) continue;
    const group = `${t.process} ${t.stream} ${t.tag.phase} ${t.tag.microBatch} ${layer}`;
    const index = seen.get(group) ?? 0;
    seen.set(group, index + 1);
    const deps = t.deps;
    if (!deps || deps.length === 0) continue;
    let ready = 0;
    for (const d of deps) ready = Math.max(ready, end[d]!);
    const role = `${t.process} ${t.stream} ${t.tag.phase} ${t.tag.microBatch} ${index}`;
    let list = waits.get(role);
    if (!list) waits.set(role, (list = []));
    list.push(Math.max(0, start[i]! - ready));
  }
  for (const list of waits.values()) for (let k = 1; k < list.length; k++) if (Math.abs(list[k]! - list[0]!) > tolerance) return false;
  return true;
}

/** Seconds each stream of each process works (work start to end), by "process stream". */
function busyByStream(run: CutRun): Map<string, number> {
  const { workStart, end, tasks } = run.timeline.table;
  const busy = new Map<string, number>();
  for (let i = 0; i < tasks.length; i++) {
    const key = `${tasks[i]!.process} ${tasks[i]!.stream}`;
    busy.set(key, (busy.get(key) ?? 0) + (end[i]! - workStart[i]!));
  }
  return busy;
}

/** Bits of a numeric role key (doubles hold 53): a role that does not fit makes the variant run whole. */
const BITS = { position: 3, stream: 8, phase: 2, microBatch: 12, index: 16 } as const;
const SLOTS = 2 ** (53 - BITS.position - BITS.stream - BITS.phase - BITS.microBatch - BITS.index);
/** Position classes of a layer's task: `EDGE_LAYERS` from the start, the middle, `EDGE_LAYERS` from the end; then outside layers. */
const POSITIONS = 2 * EDGE_LAYERS + 2;
const PHASES: Record<string, number> = { forward: 0, backward: 1, recompute: 2, optimizer: 3 };

/**
 * Each task's memory levels (total, then each pool) by role. A task's role is its process, stream, phase and
 * micro-batch, the position of its layer from the nearer end (`EDGE_LAYERS` at each end, one middle position
 * for the layers between, or none), and its index among the tasks with all of these in the same layer, in
 * plan order (a plan lowers every layer the same way): so the same role exists in every cut model and in
 * the whole one. The middle role keeps the highest level of its layers: along the middle a level is affine
 * in the layer's index too, so the highest is at the first or the last middle layer, the same one at every
 * layer count. Undefined when a role does not fit its numeric key.
 */
function levelsByRole(run: CutRun, streamIds: Map<string, number>): { roles: Map<number, Float64Array>; processOf: Map<number, number> } | undefined {
  const levels = run.timeline.levels;
  if (!levels) throw new Error('layer extrapolation needs the timeline memory levels (engine option `levels`, as simulateCut runs it)');
  const layers = run.model.numLayers;
  const pools = levels.pools.length;
  const roles = new Map<number, Float64Array>();
  const processOf = new Map<number, number>();
  const slotOf = new Map<number, number>();
  // Tasks seen so far by process slot, layer (or `layers` outside layers), stream, phase and micro-batch.
  const seen = new Map<number, number>();
  const tasks = run.plan.tasks;
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i]!;
    const process = task.process;
    let slot = slotOf.get(process);
    if (slot === undefined) slotOf.set(process, (slot = slotOf.size));
    let stream = streamIds.get(task.stream);
    if (stream === undefined) streamIds.set(task.stream, (stream = streamIds.size));
    const tag = task.tag;
    const phase = PHASES[tag.phase]!;
    const mb = tag.microBatch;
    if (slot >= SLOTS || stream >= 2 ** BITS.stream || !(mb >= 0 && mb < 2 ** BITS.microBatch)) return undefined;
    const layer = tag.layer;
    const group = (((slot * (layers + 1) + (layer ?? layers)) * 2 ** BITS.stream + stream) * 2 ** BITS.phase + phase) * 2 ** BITS.microBatch + mb;
    const index = seen.get(group) ?? 0;
    seen.set(group, index + 1);
    const total = levels.total[i]!;
    if (total === -Infinity) continue;
    if (index >= 2 ** BITS.index) return undefined;
    const position = layer === undefined ? POSITIONS - 1 : layer < EDGE_LAYERS ? layer : layer >= layers - EDGE_LAYERS ? EDGE_LAYERS + 1 + (layers - 1 - layer) : EDGE_LAYERS;
    const role = ((((slot * 2 ** BITS.position + position) * 2 ** BITS.stream + stream) * 2 ** BITS.phase + phase) * 2 ** BITS.microBatch + mb) * 2 ** BITS.index + index;
    let out = roles.get(role);
    if (!out) {
      roles.set(role, (out = new Float64Array(1 + pools).fill(-Infinity)));
      processOf.set(role, process);
    }
    if (total > out[0]!) out[0] = total;
    for (let q = 0; q < pools; q++) {
      const v = levels.pool[i * pools + q]!;
      if (v > out[1 + q]!) out[1 + q] = v;
    }
  }
  return { roles, processOf };
}
