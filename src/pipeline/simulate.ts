import { ShardsimError } from '../util/errors.ts';
import { loadScenarioFile, resolveConfig, checkAgainstModel, DEFAULT_HARDWARE, type LoadedScenario, type ResolvedConfig, type SimulationOverrides } from '../config/index.ts';
import { loadHardwareProfile, buildCluster, type Cluster } from '../hardware/index.ts';
import { applyPeft, loadModel, parameterCounts, type ModelSpec } from '../model/index.ts';
import { linearizeExperts } from '../model/linearized-experts.ts';
import { applyUnfrozen } from '../model/freeze.ts';
import { buildPlan, planShape, type OpTag, type Plan } from '../strategy/index.ts';
import { checkPlanLowerBound, checkReportSize, checkSteps, checkWorldSize, heapBudgetBytes, maxPlanTasks, planTooLarge, settleHeapGrowth } from './limits.ts';
import { simulate, EngineStallError, type Timeline } from '../engine/index.ts';
import { buildResult, stepSecondsOf, type SimulationResult } from '../metrics/result.ts';
import { advise } from '../advisor/index.ts';
import { evaluateVariant } from './layer-extrapolation.ts';

/** Everything one simulation produced: the result contract plus the timeline reports draw from. */
export interface SimulationRun {
  result: SimulationResult;
  cfg: ResolvedConfig;
  model: ModelSpec;
  cluster: Cluster;
  plan: Plan;
  timeline: Timeline<OpTag>;
}

export interface RunOptions {
  /** Lower one middle micro-batch for all of them (same numbers, less work; no full timeline). */
  steadyState?: boolean;
  /** Keep every memory change for charts (costs memory on big runs). */
  recordMemory?: boolean;
  /**
   * Attach the OOM advisor's `advice` (src/advisor/): what to change when the scenario does not fit, or
   * faster configurations when it fits with room to spare. Off by default; the advice runs never advise.
   */
  advice?: boolean;
  /** A model already loaded for this scenario (the advisor's variants reuse the base run's). */
  model?: ModelSpec;
  /** Every rank (true), one per class of identical ranks (false), or the default policy (strategy/index.ts `everyRank`). */
  everyRank?: boolean;
  /**
   * Models loaded by earlier runs of this process, by their load arguments (a sweep's configs share one):
   * models are never modified after loading (the advisor's variants share theirs the same way).
   */
  modelCache?: Map<string, ModelSpec>;
}

function cachedModel(cache: Map<string, ModelSpec> | undefined, args: Parameters<typeof loadModel>[0]): ModelSpec {
  if (!cache) return loadModel(args);
  const key = JSON.stringify(args);
  let model = cache.get(key);
  if (!model) cache.set(key, (model = loadModel(args)));
  return model;
}

/** Ranks the report draws task by task (the trace's most; the timeline chart draws at most two). */
const REPORT_RANKS = 16;

/** A scenario resolved against its hardware and model: what every run of it shares, whatever its layer count. */
export interface PreparedRun {
  loaded: LoadedScenario;
  cfg: ResolvedConfig;
  cluster: Cluster;
  /** The model as loaded (the advisor's variants reuse it). */
  base: ModelSpec;
  /** What trains: the whole model, or PEFT's adapters over a frozen (possibly quantised) base. */
  trained: ModelSpec;
}

/** scenario → resolved config → model + hardware. */
export async function prepareRun(loaded: LoadedScenario, opts: Pick<RunOptions, 'model' | 'modelCache'> = {}): Promise<PreparedRun> {
  const sim = loaded.input.simulation ?? {};
  const profile = loadHardwareProfile(sim.hardware ?? DEFAULT_HARDWARE);
  const cfg = await resolveConfig(loaded, { hardware: profile.id, gpusPerNode: profile.node.gpus_per_node });
  const cluster = buildCluster(profile, cfg.simulation.numNodes, cfg.simulation.gpus);
  const base = opts.model ?? cachedModel(opts.modelCache, { ...(cfg.model.baseModel ? { baseModel: cfg.model.baseModel } : {}), ...(cfg.model.modelConfig ? { modelConfig: cfg.model.modelConfig } : {}), baseDir: cfg.baseDir });
  checkAgainstModel(cfg, base);
  if (cfg.float8 && profile.gpu.achieved_fp8_matmul_flops_per_second === undefined) {
    throw new ShardsimError(`float8 training needs fp8 tensor cores and a measured fp8 matmul rate, and ${profile.gpu.name} (${profile.id}) has none`, { key: 'fp8', fix: 'remove fp8: true, or pick an H100 / H200 / B200 profile' });
  }
  return { loaded, cfg, cluster, base, trained: trainedModel(base, cfg) };
}

/** scenario → resolved config → model + hardware → plan → engine → metrics. */
export async function simulateLoaded(loaded: LoadedScenario, opts: RunOptions = {}): Promise<SimulationRun> {
  return runPrepared(await prepareRun(loaded, opts), opts);
}

/** plan → engine → metrics (and advice) of a prepared scenario. */
export async function runPrepared(prepared: PreparedRun, opts: RunOptions = {}): Promise<SimulationRun> {
  const { loaded, cfg, cluster, base, trained: model } = prepared;
  const planOpts = { steadyState: (opts.steadyState ?? false) && !opts.recordMemory, ...(opts.everyRank !== undefined ? { everyRank: opts.everyRank } : {}) };
  const { plan, budget } = planOf(prepared, model, planOpts);
  const varied = cfg.simulation.jitter > 0;
  const steps = cfg.simulation.steps;
  checkSteps(steps, varied, plan.tasks.length);
  settleHeapGrowth(plan.tasks.length * (varied ? steps : 1));
  if (opts.recordMemory) checkReportSize(plan.tasks.length, (plan.tasks.length / plan.ranks.length) * Math.min(plan.ranks.length, REPORT_RANKS), budget);

  let first: Timeline<OpTag> | undefined;
  const stepTimes: number[] = [];
  for (let i = 0; i < (varied ? steps : 1); i++) {
    const tl = runEngine(cfg.name, plan, {
      ...(varied ? { jitter: { seed: `${cfg.simulation.seed}:${i}`, relativeStd: cfg.simulation.jitter } } : {}),
      recordMemory: i === 0 && (opts.recordMemory ?? false),
    });
    first ??= tl;
    stepTimes.push(tl.makespan);
  }
  // Without jitter every step is the same: one time stands for all `steps`.
  const result = buildResult({ cfg, model, totalParams: parameterCounts(model).total, cluster, plan, timeline: first!, stepTimes, stepCount: steps });
  const run: SimulationRun = { result, cfg, model, cluster, plan, timeline: first! };
  if (opts.advice) {
    const { advice, debug } = await advise(run, loaded, { evaluate: (variant) => evaluateVariant(variant, base) });
    result.advice = advice;
    result.advice_debug = debug;
  }
  return run;
}

/** Sizes first (pipeline/limits.ts): a plan the heap cannot hold is refused before it is built. */
function planOf(prepared: PreparedRun, model: ModelSpec, planOpts: { steadyState: boolean; everyRank?: boolean }): { plan: Plan; budget: number } {
  const { cfg, cluster } = prepared;
  const budget = checkWorldSize(cluster.worldSize, heapBudgetBytes());
  const shape = planShape(cfg, cluster.worldSize, cluster.gpusPerNode, planOpts);
  checkPlanLowerBound({ ranks: shape.ranks, microBatches: shape.microBatches, layers: model.numLayers }, budget);
  return { plan: buildPlan(cfg, model, cluster, { ...planOpts, limit: { maxTasks: maxPlanTasks(budget), error: (n) => planTooLarge(n, budget) } }), budget };
}

/** One nominal step of the trained model cut to its first `layers` decoder layers, as a steady-state plan. */
export interface CutRun {
  model: ModelSpec;
  plan: Plan;
  /** With each task's memory levels (engine `levels`). */
  timeline: Timeline<OpTag>;
  stepSeconds: number;
}

/** The step of a prepared scenario with only its first `layers` decoder layers (pipeline/layer-extrapolation.ts). */
export function simulateCut(prepared: PreparedRun, layers: number): CutRun {
  const t = prepared.trained;
  const model = { ...t, layers: t.layers.slice(0, layers), numLayers: layers };
  const { plan } = planOf(prepared, model, { steadyState: true });
  const timeline = runEngine(prepared.cfg.name, plan, { recordMemory: false, levels: true });
  return { model, plan, timeline, stepSeconds: stepSecondsOf(timeline, plan) };
}

/**
 * The engine on a plan. A stall (the engine's progress guard) is a bug, not an answer: it becomes one line
 * naming the scenario, where the engine stopped and what most likely caused it.
 */
function runEngine(scenario: string, plan: Plan, options: { jitter?: { seed: string; relativeStd: number }; recordMemory: boolean; levels?: boolean }): Timeline<OpTag> {
  try {
    return simulate(plan.tasks, { resources: plan.resources, ...options });
  } catch (err) {
    if (!(err instanceof EngineStallError)) throw err;
    throw new Error(
      `scenario ${scenario}: ${err.message}; likely cause: a scheduling loop in the engine at this time scale (${plan.tasks.length} tasks) — please report it with the scenario`,
    );
  }
}

function trainedModel(loaded: ModelSpec, cfg: ResolvedConfig): ModelSpec {
  const linearized = cfg.linearizedExperts ? linearizeExperts(loaded) : loaded;
  // AutoModelForSequence/TokenClassification: the decoder with a `score` head (h → num_labels, no bias, never
  // tied) where lm_head was (config/trainer.ts).
  const base = cfg.trainer.kind === 'reward' || cfg.trainer.kind === 'token-classification' ? { ...linearized, headOutputs: cfg.trainer.numLabels, tiedEmbeddings: false, lmHeadBias: false } : linearized;
  const p = cfg.peft;
  if (!p) return cfg.unfrozenParameters ? applyUnfrozen(base, cfg.unfrozenParameters) : base;
  // Under LoRA the score head trains: Axolotl builds the LoraConfig with task_type SEQ_CLS / TOKEN_CLS for
  // these model classes (loaders/adapter.py `_get_peft_task_type`), and PEFT's PeftModelForSequence/
  // TokenClassification add their classifier ("classifier", "score") to modules_to_save.
  const scoreHead = cfg.trainer.kind === 'reward' || cfg.trainer.kind === 'token-classification';
  return applyPeft(base, {
    r: p.r,
    dropout: p.dropout > 0,
    dora: p.dora,
    targets: p.targets,
    parameters: p.parameters,
    modulesToSave: scoreHead ? [...p.modulesToSave, 'score'] : p.modulesToSave,
    ...(p.layersToTransform ? { layersToTransform: p.layersToTransform } : {}),
    ...(p.quantization ? { quantization: p.quantization } : {}),
    quantizeExperts: p.quantizeExperts,
    fusedKernels: p.fusedKernels,
    upcastAdapters: p.adapterDtype === 'fp32' && cfg.precision.computeDtype !== 'fp32',
  });
}

export async function simulateFile(path: string, overrides: SimulationOverrides = {}, opts: RunOptions = {}): Promise<SimulationRun> {
  return simulateLoaded(loadScenarioFile(path, overrides), opts);
}
