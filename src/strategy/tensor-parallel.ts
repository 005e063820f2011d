import type { StrategyContext } from './context.ts';
import type { MemoryChange } from '../engine/index.ts';
import { collTag, type OpTag, opTag } from './plan.ts';
import type { LayerCosts } from './costs.ts';
import { emitEpLayerForward } from './ep-schedule.ts';

/**
 * Tensor parallelism's collectives on the critical path (Megatron-LM, Shoeybi et al. 2019 §3; transformers'
 * `base_model_tp_plan`: q/k/v/gate/up "colwise", o_proj/down_proj "rowwise"). Each row-parallel matmul's
 * partial output is all-reduced in forward, and each column-parallel block's input gradient in backward:
 * 2 AllReduces of b·s·h per layer each way. With sequence parallelism (Korthikanti et al. 2022 §4.2.2) each
 * AllReduce becomes a ReduceScatter + AllGather of the same total bytes around the sequence-split norms.
 * The compute stream waits for each one (DTensor's functional collectives are waited on at once).
 */
export function tpSync(ctx: StrategyContext, rank: number, label: string, tag: Omit<OpTag, 'kind' | 'label'>, deps: number[], key: string): number[] {
  const { builder: b, layout, costs, cfg } = ctx;
  // Without TP there is nothing to wait for beyond the inputs themselves.
  if (cfg.mesh.tp <= 1) return deps.filter((d) => d >= 0);
  const bytes = costs.parallel.tpActivationBytes;
  const group = layout.tensor;
  // Rendezvous keys only matter when several ranks are simulated (PlanBuilder.collective).
  const gid = b.multiRank ? group.id(rank) : '';
  const t = (l: string) => collTag(tag.phase, l, tag.microBatch, tag.layer, tag.flops);
  if (!cfg.mesh.sequenceParallel) {
    return [b.collective(rank, 'tensor_parallel', 'all_reduce', bytes, group.placement, b.multiRank ? `${key}:${gid}` : '', t(`TP ${label}`), deps)];
  }
  const rs = b.collective(rank, 'tensor_parallel', 'reduce_scatter', bytes, group.placement, b.multiRank ? `${key}:rs:${gid}` : '', t(`TP ${label} (SP)`), deps);
  return [b.collective(rank, 'tensor_parallel', 'all_gather', bytes, group.placement, b.multiRank ? `${key}:ag:${gid}` : '', t(`TP ${label} (SP)`), [rs])];
}

/**
 * The head's logits gathered over TP for the loss (lm_head "colwise_rep" in transformers' tp plans); under
 * loss parallel they stay sharded (ResolvedConfig.lossParallel).
 */
export function tpGatherLogits(ctx: StrategyContext, rank: number, tag: Omit<OpTag, 'kind' | 'label'>, deps: number[], key: string): number[] {
  const { builder: b, layout, costs, cfg } = ctx;
  if (cfg.mesh.tp <= 1 || cfg.lossParallel) return deps.filter((d) => d >= 0);
  return [b.collective(rank, 'tensor_parallel', 'all_gather', costs.parallel.tpLogitsBytes, layout.tensor.placement, `${key}:${layout.tensor.id(rank)}`, collTag(tag.phase, 'TP logits', tag.microBatch, tag.layer, tag.flops), deps)];
}

/**
 * Ring attention (context parallel, torch `context_parallel` / `_RingAttention`): each rank holds s/cp
 * tokens; its K/V block travels round the ring in cp − 1 send/recv steps, overlapped with the block
 * attention it feeds. Backward sends K/V and dK/dV. Returns the task the attention's consumer must wait for.
 */
export function cpRing(ctx: StrategyContext, rank: number, pass: 'forward' | 'backward', tag: Omit<OpTag, 'kind' | 'label'> & { layer: number }, deps: number[], key: string): number {
  const { builder: b, layout, costs, cfg } = ctx;
  const cp = cfg.mesh.cp;
  const block = costs.layers[tag.layer]!.cpKvBlockBytes;
  if (cp <= 1 || block === 0) return -1;
  const bytes = (cp - 1) * block * (pass === 'backward' ? 2 : 1);
  return b.collective(rank, 'context_parallel', 'send_recv', bytes, layout.context.placement, `${key}:${layout.context.id(rank)}`, collTag(tag.phase, `CP ring ${pass}`, tag.microBatch, tag.layer, tag.flops), deps);
}

/** "layer i", one string per layer for every plan (labels are immutable; building one per task was garbage). */
const layerLabels: string[] = [];
export function layerLabel(i: number): string {
  return (layerLabels[i] ??= `layer ${i}`);
}

export interface LayerForwardSeconds {
  full: number;
  attention: number;
  mlp: number;
}

/** A layer's forward and what checkpointing re-runs of it, split into the halves TP/CP put collectives between. */
export function layerForwardSeconds(layer: LayerCosts, cfg: StrategyContext['cfg']): { forward: LayerForwardSeconds; recompute: LayerForwardSeconds } {
  const forward = { full: layer.forwardSeconds, attention: layer.attentionForwardSeconds, mlp: layer.mlpForwardSeconds };
  const r = layer.recomputeSeconds;
  return { forward, recompute: cfg.activationCheckpointing === 'selective' ? { full: r, attention: r / 2, mlp: r / 2 } : forward };
}

/** The memory changes of a task that happen at its start or at its end (for splitting a task in two). */
export const memoryAt = (at: 'start' | 'end', memory: MemoryChange[]) => memory.filter((m) => m.at === at);

/**
 * One decoder layer's forward (or its recompute) on the compute stream. Without TP/CP it is one task;
 * with them it is the attention half, the ring-attention exchange beside it, a TP sync, the MLP half and
 * another TP sync. Memory changes at the start go on the first task, those at the end on the last.
 * Returns [the last compute task, what the next operation must wait for].
 */
export function emitLayerForward(
  ctx: StrategyContext,
  rank: number,
  at: { layer: number; microBatch: number; phase: 'forward' | 'recompute' },
  deps: number[],
  memory: MemoryChange[],
  seconds: LayerForwardSeconds,
  key: (what: string) => string,
): [number, number[]] {
  const { builder: b, costs, cfg } = ctx;
  const { layer: i, microBatch: mb, phase } = at;
  const label = layerLabel(i);
  const flops = costs.layers[i]!.forwardFlops;
  // Expert parallelism (never with TP/CP: src/config/resolve.ts): dispatch and combine around the experts.
  const ep = costs.layers[i]!.ep;
  if (ep) return emitEpLayerForward(ctx, rank, at, deps, memory, seconds.full, ep.expertForwardSeconds, flops, key);
  if (cfg.mesh.tp <= 1 && cfg.mesh.cp <= 1) {
    const c = b.compute(rank, seconds.full, opTag({ kind: 'compute', phase, label, layer: i, flops }, mb), deps, memory);
    return [c, [c]];
  }
  const t = { phase, layer: i, microBatch: mb } as const;
  const fa = b.compute(rank, seconds.attention, opTag({ kind: 'compute', phase, label: `${label} attention`, layer: i, flops: flops / 2 }, mb), deps, memoryAt('start', memory));
  const ring = cpRing(ctx, rank, 'forward', t, deps, b.multiRank ? key(`cp-${phase}${i}`) : '');
  const t1 = tpSync(ctx, rank, `attention output, layer ${i}`, t, [fa, ring], b.multiRank ? key(`tp-${phase}${i}a`) : '');
  const fm = b.compute(rank, seconds.mlp, opTag({ kind: 'compute', phase, label: `${label} mlp`, layer: i, flops: flops / 2 }, mb), [...t1, ring], memoryAt('end', memory));
  return [fm, tpSync(ctx, rank, `mlp output, layer ${i}`, t, [fm], b.multiRank ? key(`tp-${phase}${i}m`) : '')];
}
