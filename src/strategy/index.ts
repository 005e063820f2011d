import type { ResolvedConfig } from '../config/types.ts';
import type { Cluster } from '../hardware/cluster.ts';
import type { ModelSpec } from '../model/types.ts';
import { networkParams } from '../network/index.ts';
import type { GpuSpec } from '../compute/kernels.ts';
import { stepCosts } from './costs.ts';
import { stepMemory } from '../memory/step-memory.ts';
import { lowerDdp } from './ddp.ts';
import { lowerFsdp2 } from './fsdp2.ts';
import { lowerZero } from './zero.ts';
import { lowerEbftStrided } from './ebft-strided.ts';
import { PlanBuilder, type Plan } from './plan.ts';
import { parallelLayout, type GroupRef, type ParallelLayout } from './layout.ts';
import { rankClasses, type RankClasses } from './symmetry.ts';
import type { StrategyContext, StrategyResult } from './context.ts';

export type { Plan, OpTag, OpKind, StreamName, MemoryCategory, TaskColumns } from './plan.ts';
export { stepCosts, type StepCosts } from './costs.ts';
export { assignBuckets } from './ddp.ts';

/**
 * Lowers a resolved config into the task graph of one training step. Ranks are symmetric unless jitter
 * or a straggler makes them differ: then every rank is simulated and collectives rendezvous; otherwise
 * rank 0 stands for all of them.
 */
export interface PlanOptions {
  /**
   * Lower only micro-batches 0, 1 and the last; metrics count micro-batch 1 for all the middle ones. The
   * middle micro-batches of a step are identical (same tasks, same state, no jitter), so the result is the
   * same as the full timeline's at a fraction of the work — for sweeps and the advisor, not for reports.
   */
  steadyState?: boolean;
  /** Stop lowering past this many tasks with this error (the process's memory budget). */
  limit?: PlanBuilder['limit'];
  /**
   * Simulate every rank of a varied run (true) or one per class (false; symmetry.ts); unset: one per class,
   * but every rank of a jittered world up to EVERY_RANK_JITTER_MAX_RANKS.
   */
  everyRank?: boolean;
}

/** Ranks and micro-batches `buildPlan` lowers for this config: what sizes the plan, before building it. */
export function planShape(cfg: ResolvedConfig, worldSize: number, gpusPerNode: number, opts: PlanOptions = {}): { ranks: number; microBatches: number; steadyState: boolean } {
  const varied = cfg.simulation.jitter > 0 || cfg.simulation.stragglers.length > 0;
  const GA = cfg.batch.gradientAccumulationSteps;
  const compress = (opts.steadyState ?? false) && !varied && GA > 3;
  // Only a reduced run needs the groups to count its classes.
  const ranks = !varied ? 1 : everyRankOf(cfg, worldSize, opts.everyRank) ? worldSize : simulatedRanks(cfg, parallelLayout(cfg.strategy, cfg.mesh, worldSize, gpusPerNode), worldSize, false).ranks.length;
  return { ranks, microBatches: compress ? 3 : GA, steadyState: compress };
}

/**
 * Which ranks a plan lowers. Symmetric runs: rank 0 for all. A straggler (or a fixed expert-load slot) breaks
 * the symmetry only partly: one representative per class of ranks with identical timelines (symmetry.ts),
 * whose collectives rendezvous per group type. Jitter draws every rank's kernels independently: no two ranks
 * are alike, so every rank is simulated.
 */
/**
 * Jittered worlds up to this many ranks simulate every rank: each draws its own kernels, which is exact. Larger
 * ones simulate one rank per class and draw the latest of a group's other members from the order statistics of
 * their accumulated jitter (engine `virtualArrival`), exact only for one chain of work between rendezvous.
 * A cost policy, not a physical constant: 256 ranks of a 70B step run in seconds (README, Speed).
 */
export const EVERY_RANK_JITTER_MAX_RANKS = 256;

/** `everyRank`: true forces every rank, false one per class (what tests compare), undefined the policy above. */
function everyRankOf(cfg: ResolvedConfig, worldSize: number, everyRank: boolean | undefined): boolean {
  return everyRank ?? (cfg.simulation.jitter > 0 && worldSize <= EVERY_RANK_JITTER_MAX_RANKS);
}

function simulatedRanks(cfg: ResolvedConfig, layout: ParallelLayout, worldSize: number, everyRank: boolean | undefined): { ranks: number[]; classes?: RankClasses } {
  const varied = cfg.simulation.jitter > 0 || cfg.simulation.stragglers.length > 0;
  if (!varied) return { ranks: [0] };
  if (everyRankOf(cfg, worldSize, everyRank)) return { ranks: Array.from({ length: worldSize }, (_, r) => r) };
  const slow = new Map(cfg.simulation.stragglers.map((s) => [s.rank, `${s.computeSlowdown}/${s.linkSlowdown}`]));
  // A rank's own inputs: its straggler slowdowns and its expert-parallel load (ep-schedule.ts `expertLoad`: a
  // fixed imbalance loads the first rank of each EP group; sampled loads differ by EP group and slot).
  const ep = cfg.mesh.ep;
  const epSlot = (r: number) => Math.floor(r / (worldSize / ep));
  const load = ep <= 1 ? () => '' : cfg.simulation.expertLoadImbalance !== undefined ? (r: number) => (epSlot(r) === 0 ? 'hot' : '') : (r: number) => `${layout.expert.groupOf(r)}:${epSlot(r)}`;
  const classes = rankClasses(worldSize, groupKinds(layout), (r) => `${slow.get(r) ?? ''}|${load(r)}`);
  return { ranks: classes.representatives, classes };
}

const GROUP_KINDS = ['dataParallel', 'replicate', 'tensor', 'context', 'expert', 'expertShard'] as const satisfies readonly (keyof ParallelLayout)[];
const groupKinds = (layout: ParallelLayout): GroupRef[] => GROUP_KINDS.map((k) => layout[k]);

/**
 * For a representative's collective: how many members of its real group instance are of its class (itself
 * included), from the group type its rendezvous key names (`kind~type`); a key without one spans the world.
 */
function membersAlike(classes: RankClasses): (rank: number, key: string) => number {
  const counts = new Map<string, Map<number, number>>();
  GROUP_KINDS.forEach((k, i) => {
    const ref = classes.kinds[i]!;
    classes.groupTypes[i]!.forEach((t, g) => {
      const name = `${k}~${t}`;
      if (counts.has(name)) return;
      const byClass = new Map<number, number>();
      for (const r of ref.groups[g]!) byClass.set(classes.classOf[r]!, (byClass.get(classes.classOf[r]!) ?? 0) + 1);
      counts.set(name, byClass);
    });
  });
  return (rank, key) => {
    const c = classes.classOf[rank]!;
    const name = /[A-Za-z]+~\d+/.exec(key)?.[0];
    return name === undefined ? classes.sizes[c]! : (counts.get(name)?.get(c) ?? 1);
  };
}

/** How many group instances of the world each reduced group name (`kind~type`) stands for. */
function groupInstances(classes: RankClasses): Map<string, number> {
  const out = new Map<string, number>();
  GROUP_KINDS.forEach((k, i) => {
    for (const t of classes.groupTypes[i]!) out.set(`${k}~${t}`, (out.get(`${k}~${t}`) ?? 0) + 1);
  });
  return out;
}

/**
 * The GPU as the cost models see it, one object per profile and TF32 setting: stepCosts keeps layer costs
 * by this object (costs.ts), so plans of one scenario (the advisor's cut models) share them.
 */
const gpuSpecs = new WeakMap<Cluster['profile'], [GpuSpec | undefined, GpuSpec | undefined]>();

function gpuSpecOf(profile: Cluster['profile'], tf32Matmul: boolean): GpuSpec {
  let pair = gpuSpecs.get(profile);
  if (!pair) gpuSpecs.set(profile, (pair = [undefined, undefined]));
  const i = tf32Matmul ? 1 : 0;
  return (pair[i] ??= { ...profile.gpu, kernels: profile.kernels, framework: profile.framework, ...(tf32Matmul ? { tf32Matmul: true } : {}) });
}

/** The layout a reduced plan lowers with: each collective names its group type, not its instance. */
function reducedLayout(layout: ParallelLayout, classes: RankClasses): ParallelLayout {
  const out = { ...layout };
  GROUP_KINDS.forEach((k, i) => {
    const ref = layout[k];
    const types = classes.groupTypes[i]!;
    out[k] = { ...ref, id: (rank) => `${k}~${types[ref.groupOf(rank)]}` };
  });
  return out;
}

export function buildPlan(cfg: ResolvedConfig, model: ModelSpec, cluster: Cluster, opts: PlanOptions = {}): Plan {
  const profile = cluster.profile;
  const gpu = gpuSpecOf(profile, cfg.precision.tf32Matmul === true);
  const net = networkParams(profile, cfg.simulation.interNodeBandwidthBytesPerSecond);
  const varied = cfg.simulation.jitter > 0 || cfg.simulation.stragglers.length > 0;
  const fullLayout = parallelLayout(cfg.strategy, cfg.mesh, cluster.worldSize, cluster.gpusPerNode);
  const { ranks, classes } = simulatedRanks(cfg, fullLayout, cluster.worldSize, opts.everyRank);
  const layout = classes ? reducedLayout(fullLayout, classes) : fullLayout;
  const builder = new PlanBuilder(ranks, net, cfg.simulation.stragglers, profile.kernels.collective_sm_count / profile.kernels.sm_count);
  // Jitter over classes: every collective rendezvous (even with one representative) and says how many
  // members of the real group its representative stands for.
  if (classes && cfg.simulation.jitter > 0) builder.standsFor = membersAlike(classes);
  if (opts.limit) builder.limit = opts.limit;
  const GA = cfg.batch.gradientAccumulationSteps;
  const compress = (opts.steadyState ?? false) && !varied && GA > 3;
  const microBatches = compress ? [0, 1, GA - 1] : Array.from({ length: GA }, (_, i) => i);
  const ctx: StrategyContext = {
    cfg,
    model,
    costs: stepCosts(cfg, model, gpu),
    memory: stepMemory(cfg, model),
    gpu,
    builder,
    dataParallel: layout.dataParallel.placement,
    host: {
      h2dBytesPerSecond: cfg.fsdp.offloadPinMemory ? profile.node.host_link.h2d_pinned_bytes_per_second : profile.node.host_link.h2d_pageable_bytes_per_second,
      d2hBytesPerSecond: cfg.fsdp.offloadPinMemory ? profile.node.host_link.d2h_pinned_bytes_per_second : profile.node.host_link.d2h_pageable_bytes_per_second,
      cpuAdamParamsPerSecond: profile.host.torch_cpu_adam_params_per_second / cluster.gpusPerNode,
      pinnedH2dBytesPerSecond: profile.node.host_link.h2d_pinned_bytes_per_second,
      pinnedD2hBytesPerSecond: profile.node.host_link.d2h_pinned_bytes_per_second,
    },
    layout,
    microBatches,
  };
  const zero = cfg.strategy === 'zero1' || cfg.strategy === 'zero2' || cfg.strategy === 'zero3';
  // Strided EBFT's step has passes of its own (src/strategy/ebft-strided.ts); resolve.ts keeps it on one GPU.
  const lower = cfg.trainer.kind === 'ebft-strided' ? lowerEbftStrided : zero ? (c: StrategyContext, r: number) => lowerZero(c, r, cluster) : cfg.strategy === 'fsdp2' || cfg.strategy === 'fsdp1' ? lowerFsdp2 : lowerDdp;
  let result: StrategyResult | undefined;
  for (const r of ranks) result = lower(ctx, r);
  // DeepEP's NVLink buffer (expert parallelism) is allocated once per rank before training.
  const persistent = { ...result!.persistent, communication_buffers: result!.persistent.communication_buffers + cfg.expertParallelBufferBytes };
  // Model states live from before the step starts: an allocation at t = 0 on each simulated rank.
  const first = new Map<number, number>();
  // Plans list a rank's tasks together: only a change of process can be a first task.
  let lastProcess = NaN;
  for (let i = 0; i < builder.tasks.length; i++) {
    const p = builder.tasks[i]!.process;
    if (p === lastProcess) continue;
    lastProcess = p;
    if (!first.has(p)) first.set(p, i);
  }
  for (const i of first.values()) {
    const t = builder.tasks[i]!;
    t.memory = [
      { at: 'start', bytes: persistent.parameters, category: 'parameters', pool: undefined },
      { at: 'start', bytes: persistent.optimizer_states, category: 'optimizer_states', pool: undefined },
      { at: 'start', bytes: persistent.communication_buffers, category: 'communication_buffers', pool: undefined },
      ...(t.memory ?? []),
    ];
  }
  return {
    tasks: builder.tasks,
    columns: builder.taskColumns(),
    resources: builder.resources,
    ranks,
    ...(classes ? { rankClasses: ranks.map((r, c) => ({ representative: r, ranks: classes.sizes[c]! })), groupInstances: groupInstances(classes) } : {}),
    persistentBytes: { ...persistent, gradients: 0, activations: 0, other: 0 },
    persistentGradientBytes: result!.persistentGradientBytes,
    pagedOptimizerBytes: result!.pagedBytes ?? 0,
    ...(compress ? { repeatedMicroBatch: { microBatch: 1, extraTimes: GA - 3 } } : {}),
  };
}
