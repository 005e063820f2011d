/**
 * Where expert parallelism's all-to-alls sit in a layer's forward and backward (src/strategy/expert-parallel.ts
 * for the mechanism). DeepEP runs dispatch and combine on its own communication stream; the compute stream
 * waits for each (the local experts need the dispatched rows, the rest of the layer the combined output), so
 * they sit on the critical path unless something else is queued on the compute stream.
 *
 *   forward / recompute:  [attention … router, permute] → dispatch → [local experts] → combine → next layer
 *   backward:             combine's backward (a dispatch of the output gradient) → [local experts' backward]
 *                         → dispatch's backward (a combine of the input gradient) → [router … attention]
 */
import type { MemoryChange } from '../engine/index.ts';
import type { StrategyContext } from './context.ts';
import { expectedSlowestLoad, sampledLoads } from './expert-parallel.ts';
import { memoryAt } from './tensor-parallel.ts';
import { collTag, opTag } from './plan.ts';

const slowestCache = new Map<string, number>();
/** Sampled EP-group loads of one plan (weakly held: dropped with the plan's context). */
const groupLoads = new WeakMap<StrategyContext, Map<string, number[]>>();

/**
 * This rank's routed rows over the balanced mean for one MoE layer and micro-batch. Symmetric runs (one rank
 * stands for all) charge the expected slowest rank of the EP group, since the combine waits for it; runs that
 * simulate every rank draw each EP group's loads from the routing statistics with the scenario's seed
 * (seedrandom), so the slowest rank differs by layer and micro-batch and its peers wait at the combine.
 * `simulation.expert_load_imbalance` replaces the statistics with a given slowest-rank factor (the first rank
 * of each EP group carries it; the others share the rest of the rows equally).
 */
export function expertLoad(ctx: StrategyContext, rank: number, layer: number, microBatch: number): number {
  const { cfg } = ctx;
  const ep = cfg.mesh.ep;
  const lc = ctx.costs.layers[layer]!.ep;
  if (!lc || ep <= 1) return 1;
  const epIndex = Math.floor(rank / (cfg.worldSize / ep));
  const what = cfg.simulation.expertLoadImbalance;
  if (what !== undefined) {
    if (!ctx.builder.multiRank) return what;
    return epIndex === 0 ? what : Math.max(0, (ep - what) / (ep - 1));
  }
  if (!ctx.builder.multiRank) {
    const key = `${cfg.simulation.seed}|${lc.loadCv}|${ep}`;
    let v = slowestCache.get(key);
    if (v === undefined) slowestCache.set(key, (v = expectedSlowestLoad(lc.loadCv, ep, `${cfg.simulation.seed}:moe-routing`)));
    return v;
  }
  // One draw per EP group, layer and micro-batch, shared by its members (and by forward, recompute, backward).
  // Seeded by the EP group's instance in the world (not its rendezvous name, which symmetry reduction renames).
  const seed = `${cfg.simulation.seed}:moe-routing:ep${ctx.layout.expert.groupOf(rank)}:${layer}:${microBatch}`;
  let loads = groupLoads.get(ctx)?.get(seed);
  if (!loads) {
    const byCtx = groupLoads.get(ctx) ?? new Map<string, number[]>();
    groupLoads.set(ctx, byCtx);
    byCtx.set(seed, (loads = sampledLoads(lc.loadCv, ep, seed)));
  }
  return loads[epIndex]!;
}

type Phase = 'forward' | 'recompute' | 'backward';

function allToAll(ctx: StrategyContext, rank: number, what: 'dispatch' | 'combine', at: { layer: number; microBatch: number; phase: Phase }, deps: number[], key: string): number {
  const lc = ctx.costs.layers[at.layer]!.ep!;
  const g = ctx.layout.expert;
  const label = `EP ${what}${at.phase === 'backward' ? ' (gradient)' : ''}, layer ${at.layer}`;
  return ctx.builder.collective(rank, 'expert_parallel', 'all_to_all', lc.dispatchBytes, g.placement, `${key}:${g.id(rank)}`,
    collTag(at.phase, label, at.microBatch, at.layer), deps);
}

/**
 * A forward (or recompute) of an MoE layer under expert parallelism on the compute stream: everything before
 * the experts, the dispatch, the local experts (at this rank's routed load), the combine. `fullSeconds` is the
 * whole layer at the balanced load and `expertSeconds` its experts' part. Returns [the experts' task, what the
 * next operation waits for (the combine)].
 */
export function emitEpLayerForward(
  ctx: StrategyContext,
  rank: number,
  at: { layer: number; microBatch: number; phase: 'forward' | 'recompute' },
  deps: number[],
  memory: MemoryChange[],
  fullSeconds: number,
  expertSeconds: number,
  flops: number,
  key: (what: string) => string,
): [number, number[]] {
  const b = ctx.builder;
  const { layer: i, microBatch: mb, phase } = at;
  const load = expertLoad(ctx, rank, i, mb);
  const experts = Math.min(expertSeconds, fullSeconds);
  const share = fullSeconds > 0 ? experts / fullSeconds : 0;
  const pre = b.compute(rank, fullSeconds - experts, opTag({ kind: 'compute', phase, label: `layer ${i}`, layer: i, flops: flops * (1 - share) }, mb), deps, memoryAt('start', memory));
  const dispatch = allToAll(ctx, rank, 'dispatch', at, [pre], key(`ep-dispatch-${phase}${i}`));
  const ex = b.compute(rank, experts * load, opTag({ kind: 'compute', phase, label: `layer ${i} experts`, layer: i, flops: flops * share * load }, mb), [dispatch], memoryAt('end', memory));
  const combine = allToAll(ctx, rank, 'combine', at, [ex], key(`ep-combine-${phase}${i}`));
  return [ex, [combine]];
}

/**
 * An MoE layer's backward under expert parallelism: the MLP part before the experts (the combine's and shared
 * experts' backward), the gradient dispatch, the local experts' backward, the gradient combine, then the rest
 * (router, attention). Memory changes at the start go on the first task, those at the end on the last. Returns
 * [the last compute task, what the next operation waits for].
 */
export function emitEpLayerBackward(
  ctx: StrategyContext,
  rank: number,
  at: { layer: number; microBatch: number },
  deps: number[],
  memory: MemoryChange[],
  extraSeconds: number,
  key: (what: string) => string,
): [number, number[]] {
  const b = ctx.builder;
  const { layer: i, microBatch: mb } = at;
  const lc = ctx.costs.layers[i]!;
  const segs = lc.backwardSegments;
  const first = segs.findIndex((x) => x.experts);
  const last = segs.length - 1 - [...segs].reverse().findIndex((x) => x.experts);
  const sum = (from: number, to: number) => segs.slice(from, to).reduce((a, x) => a + x.seconds, 0);
  const flopsOf = (sec: number) => (lc.backwardSeconds > 0 ? (lc.backwardFlops * sec) / lc.backwardSeconds : 0);
  const load = expertLoad(ctx, rank, i, mb);
  const tag = { phase: 'backward' as const, layer: i, microBatch: mb };
  const before = sum(0, first) + extraSeconds;
  const experts = sum(first, last + 1);
  const after = sum(last + 1, segs.length);
  const pre = b.compute(rank, before, opTag({ kind: 'compute', phase: 'backward', label: `layer ${i}`, layer: i, flops: flopsOf(before) }, mb), deps, memoryAt('start', memory));
  const dispatch = allToAll(ctx, rank, 'dispatch', { ...tag }, [pre], key(`ep-dispatch-b${i}`));
  const ex = b.compute(rank, experts * load, opTag({ kind: 'compute', phase: 'backward', label: `layer ${i} experts`, layer: i, flops: flopsOf(experts) * load }, mb), [dispatch]);
  const combine = allToAll(ctx, rank, 'combine', { ...tag }, [ex], key(`ep-combine-b${i}`));
  const post = b.compute(rank, after, opTag({ kind: 'compute', phase: 'backward', label: `layer ${i}`, layer: i, flops: flopsOf(after) }, mb), [combine], memoryAt('end', memory));
  return [post, [post]];
}
