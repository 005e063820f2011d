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
import { parallelLayout } from './layout.ts';
import type { StrategyContext, StrategyResult } from './context.ts';

export type { Plan, OpTag, OpKind, StreamName, MemoryCategory } from './plan.ts';
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
}

/** Ranks and micro-batches `buildPlan` lowers for this config: what sizes the plan, before building it. */
export function planShape(cfg: ResolvedConfig, worldSize: number, opts: PlanOptions = {}): { ranks: number; microBatches: number; steadyState: boolean } {
  const varied = cfg.simulation.jitter > 0 || cfg.simulation.stragglers.length > 0;
  const GA = cfg.batch.gradientAccumulationSteps;
  const compress = (opts.steadyState ?? false) && !varied && GA > 3;
  return { ranks: varied ? worldSize : 1, microBatches: compress ? 3 : GA, steadyState: compress };
}

export function buildPlan(cfg: ResolvedConfig, model: ModelSpec, cluster: Cluster, opts: PlanOptions = {}): Plan {
  const profile = cluster.profile;
  const gpu: GpuSpec = { ...profile.gpu, kernels: profile.kernels, framework: profile.framework, ...(cfg.precision.tf32Matmul ? { tf32Matmul: true } : {}) };
  const net = networkParams(profile, cfg.simulation.interNodeBandwidthBytesPerSecond);
  const varied = cfg.simulation.jitter > 0 || cfg.simulation.stragglers.length > 0;
  const ranks = varied ? Array.from({ length: cluster.worldSize }, (_, r) => r) : [0];
  const builder = new PlanBuilder(ranks, net, cfg.simulation.stragglers, profile.kernels.collective_sm_count / profile.kernels.sm_count);
  if (opts.limit) builder.limit = opts.limit;
  const GA = cfg.batch.gradientAccumulationSteps;
  const compress = (opts.steadyState ?? false) && !varied && GA > 3;
  const microBatches = compress ? [0, 1, GA - 1] : Array.from({ length: GA }, (_, i) => i);
  const layout = parallelLayout(cfg.strategy, cfg.mesh, cluster.worldSize, cluster.gpusPerNode);
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
  const persistent = result!.persistent;
  // Model states live from before the step starts: an allocation at t = 0 on each simulated rank.
  const first = new Map<number, number>();
  builder.tasks.forEach((t, i) => {
    if (!first.has(t.process)) first.set(t.process, i);
  });
  for (const i of first.values()) {
    const t = builder.tasks[i]!;
    t.memory = [
      { at: 'start', bytes: persistent.parameters, category: 'parameters' },
      { at: 'start', bytes: persistent.optimizer_states, category: 'optimizer_states' },
      { at: 'start', bytes: persistent.communication_buffers, category: 'communication_buffers' },
      ...(t.memory ?? []),
    ];
  }
  return {
    tasks: builder.tasks,
    resources: builder.resources,
    ranks,
    persistentBytes: { ...persistent, gradients: 0, activations: 0, other: 0 },
    persistentGradientBytes: result!.persistentGradientBytes,
    pagedOptimizerBytes: result!.pagedBytes ?? 0,
    ...(compress ? { repeatedMicroBatch: { microBatch: 1, extraTimes: GA - 3 } } : {}),
  };
}
