import { loadScenarioFile, resolveConfig, checkAgainstModel, DEFAULT_HARDWARE, type LoadedScenario, type ResolvedConfig, type SimulationOverrides } from '../config/index.ts';
import { loadHardwareProfile, buildCluster, type Cluster } from '../hardware/index.ts';
import { applyPeft, loadModel, parameterCounts, type ModelSpec } from '../model/index.ts';
import { linearizeExperts } from '../model/linearized-experts.ts';
import { buildPlan, type OpTag, type Plan } from '../strategy/index.ts';
import { simulate, type Timeline } from '../engine/index.ts';
import { buildResult, type SimulationResult } from '../metrics/result.ts';
import { advise } from '../advisor/index.ts';

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
}

/** scenario → resolved config → model + hardware → plan → engine → metrics. */
export async function simulateLoaded(loaded: LoadedScenario, opts: RunOptions = {}): Promise<SimulationRun> {
  const sim = loaded.input.simulation ?? {};
  const profile = loadHardwareProfile(sim.hardware ?? DEFAULT_HARDWARE);
  const cfg = await resolveConfig(loaded, { hardware: profile.id, gpusPerNode: profile.node.gpus_per_node });
  const cluster = buildCluster(profile, cfg.simulation.numNodes, cfg.simulation.gpus);
  const base = opts.model ?? loadModel({ ...(cfg.model.baseModel ? { baseModel: cfg.model.baseModel } : {}), ...(cfg.model.modelConfig ? { modelConfig: cfg.model.modelConfig } : {}), baseDir: cfg.baseDir });
  checkAgainstModel(cfg, base);
  // What trains: the whole model, or PEFT's adapters over a frozen (possibly quantised) base.
  const model = trainedModel(base, cfg);
  const plan = buildPlan(cfg, model, cluster, { steadyState: (opts.steadyState ?? false) && !opts.recordMemory });

  const varied = cfg.simulation.jitter > 0;
  const steps = cfg.simulation.steps;
  let first: Timeline<OpTag> | undefined;
  const stepTimes: number[] = [];
  for (let i = 0; i < (varied ? steps : 1); i++) {
    const tl = simulate(plan.tasks, {
      resources: plan.resources,
      ...(varied ? { jitter: { seed: `${cfg.simulation.seed}:${i}`, relativeStd: cfg.simulation.jitter } } : {}),
      recordMemory: i === 0 && (opts.recordMemory ?? false),
    });
    first ??= tl;
    stepTimes.push(tl.makespan);
  }
  // Without jitter every step is the same.
  while (stepTimes.length < steps) stepTimes.push(stepTimes[0]!);
  const result = buildResult({ cfg, model, totalParams: parameterCounts(model).total, cluster, plan, timeline: first!, stepTimes });
  const run: SimulationRun = { result, cfg, model, cluster, plan, timeline: first! };
  if (opts.advice) {
    const { advice, debug } = await advise(run, loaded, { simulate: (variant) => simulateLoaded(variant, { model: base, steadyState: true }) });
    result.advice = advice;
    result.advice_debug = debug;
  }
  return run;
}

function trainedModel(loaded: ModelSpec, cfg: ResolvedConfig): ModelSpec {
  const base = cfg.linearizedExperts ? linearizeExperts(loaded) : loaded;
  const p = cfg.peft;
  if (!p) return base;
  return applyPeft(base, {
    r: p.r,
    dropout: p.dropout > 0,
    dora: p.dora,
    targets: p.targets,
    parameters: p.parameters,
    modulesToSave: p.modulesToSave,
    ...(p.layersToTransform ? { layersToTransform: p.layersToTransform } : {}),
    ...(p.quantization ? { quantization: p.quantization } : {}),
    fusedKernels: p.fusedKernels,
    upcastAdapters: p.adapterDtype === 'fp32' && cfg.precision.computeDtype !== 'fp32',
  });
}

export async function simulateFile(path: string, overrides: SimulationOverrides = {}, opts: RunOptions = {}): Promise<SimulationRun> {
  return simulateLoaded(loadScenarioFile(path, overrides), opts);
}
