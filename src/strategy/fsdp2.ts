import { bytesOf } from '../util/dtype.ts';
import type { StrategyContext, StrategyResult } from './context.ts';
import { collTag, mem, type OpTag, opTag } from './plan.ts';
import type { MemoryChange } from '../engine/index.ts';
import { clipGradNormSeconds, deviceOptimizerStateBytes, optimizerLabel, optimizerStep, pagedOptimizerStateBytes } from './optimizer.ts';
import { copyTensorCount, hiddenMatrices, trainableTensorCount } from '../model/params.ts';
import { gatheredBytes, shardOf, storedBytes } from './param-bytes.ts';
import { offloadAfterForward, reloadBeforeBackward } from './activation-offload.ts';
import type { LayerCosts, ParamShare } from './costs.ts';
import { memoryBoundSeconds } from '../compute/kernels.ts';
import { emitEpLayerBackward } from './ep-schedule.ts';
import { cpRing, emitLayerForward, layerLabel, layerForwardSeconds, memoryAt, tpGatherLogits, tpSync, type LayerForwardSeconds } from './tensor-parallel.ts';
import { lossReleasedAtHeadForward } from './trainer-passes.ts';
import { noGradForwardsAround } from '../config/trainer.ts';
import { packedMap } from '../util/v8-shapes.ts';

/**
 * FSDP2 (`fully_shard`, torch/distributed/fsdp/_fully_shard/) as accelerate applies it: one parameter group
 * per decoder layer plus the root (embedding, final norm, lm_head) — accelerate `fsdp2_prepare_model`
 * wraps each `transformer_layer_cls_to_wrap` module bottom-up, then the whole model.
 *
 * Forward: each group's pre-forward hook all-gathers it on the all-gather stream; the CPU runs ahead, so
 * layer i+1's AllGather overlaps layer i's compute (implicit prefetch). `wait_for_unshard` frees the
 * previous all-gather state only after the compute stream has consumed it (`_fsdp_param_group.py`,
 * `_wait_all_gather_streams_on_event`), so a gather can run at most one group ahead of the one computing.
 * With `reshard_after_forward` each layer frees its unsharded parameters after its forward. The root is
 * never resharded after forward: its parameters are needed at once by backward (`_fsdp_state.py`
 * `_lazy_init` sets the root's post_forward_mesh_info to None).
 *
 * Backward: `pre_backward` unshards the group (AllGather again if resharded) and prefetches exactly one
 * group ahead in reverse order (`_backward_prefetch`). After a group's gradients exist its ReduceScatter is
 * issued on the reduce-scatter stream, in `reduce_dtype`, overlapping the next group's backward; the root's
 * comes last with nothing left to hide behind. Every group reshards after backward.
 *
 * Gradient accumulation: HF Trainer wraps non-final micro-batches in `accelerator.no_sync`
 * (transformers trainer.py `_inner_training_loop`), which for FSDP2 calls
 * `set_requires_gradient_sync(False)` (accelerate ≥ 1.11): no ReduceScatter, and unsharded gradients
 * accumulate in `reduce_dtype` (`_fsdp_param.py` `to_accumulated_grad_if_needed`) until the final one.
 *
 * With tensor / context parallelism each layer's compute splits into its attention and MLP halves with the
 * TP collectives and the ring-attention exchange between them (tensor-parallel.ts). HSDP (dp_replicate > 1)
 * all-reduces each sharded gradient across replicas after its ReduceScatter (`_fsdp_collectives.py`
 * `foreach_reduce`: reduce-scatter on the shard mesh, then all-reduce on the replicate mesh).
 *
 * FSDP1 differences that change the schedule: `backward_prefetch=BACKWARD_PRE` (default) issues the next
 * unit's AllGather when the current unit's backward starts, BACKWARD_POST / None only after it ends
 * (torch/distributed/fsdp/_runtime_utils.py `_prefetch_handle`); `limit_all_gathers=False` lets forward
 * gathers run ahead without the two-in-flight rate limiter (`_limiter_utils.py`).
 */
export function lowerFsdp2(ctx: StrategyContext, rank: number): StrategyResult {
  const { cfg, model, costs, memory: M, builder: b } = ctx;
  const L = model.numLayers;
  const GA = cfg.batch.gradientAccumulationSteps;
  const shard = ctx.dataParallel.size;
  const pr = cfg.precision;
  const reshard = cfg.fsdp.reshardAfterForward;
  // Selective AC recomputes only what its policy does not save (costs.ts `recomputeSeconds`).
  const ckpt = cfg.activationCheckpointing !== 'none';
  const fsdp2 = cfg.strategy === 'fsdp2';

  const gatherB = bytesOf(pr.gatherDtype);
  const reduceB = bytesOf(pr.reduceDtype);
  // Gathers move every parameter of a group (frozen ones too, quantised ones as stored); gradients,
  // reduce-scatters and optimizer state concern the trainable ones only.
  const root = costs.root;
  const rootGrads = root.trainableParams;
  const unshardedRoot = gatheredBytes(root, pr.gatherDtype);
  const shardedGrad = (n: number) => Math.ceil(n / shard) * bytesOf(pr.gradDtype);
  // Expert parallelism: Axolotl pre-wraps each Experts module as its own FSDP unit on the `dp_shard` mesh
  // (expert_parallel/plugin.py `fully_shard_experts`) — the rank's numExperts/ep experts are sharded over
  // dp_shard = shard / ep ranks, the rest of the layer over the whole ep × dp_shard group; pure EP (dp_shard 1)
  // keeps the experts out of FSDP (`ignored_params`, monkeypatch/accelerate/fsdp2.py).
  const ep = cfg.mesh.ep;
  const expertShard = ctx.layout.expertShard.placement.size;
  const minus = (a: ParamShare, x: ParamShare): ParamShare => ({ params: a.params - x.params, trainableParams: a.trainableParams - x.trainableParams, frozenParams: a.frozenParams - x.frozenParams, quantizedBytes: a.quantizedBytes - x.quantizedBytes });
  const plus = (a: ParamShare, x: ParamShare): ParamShare => ({ params: a.params + x.params, trainableParams: a.trainableParams + x.trainableParams, frozenParams: a.frozenParams + x.frozenParams, quantizedBytes: a.quantizedBytes + x.quantizedBytes });
  const localShare = (l: LayerCosts): ParamShare => (l.ep && ep > 1 ? plus(shardOf(minus(l, l.ep.experts), shard), shardOf(l.ep.experts, expertShard)) : shardOf(l, shard));
  const localTrainable = costs.layers.reduce((a, l) => a + localShare(l).trainableParams, 0) + Math.ceil(rootGrads / shard);
  // PEFT modules_to_save copies live in the root group: their shards and optimizer states keep the base dtype
  // (Precision.copyDtype); their sharded gradients are counted in the gradient dtype (a small overcount).
  const localCopies = Math.ceil((root.copyParams ?? 0) / shard);
  const localStored = costs.layers.reduce((a, l) => a + storedBytes(localShare(l), pr), 0) + storedBytes(shardOf(root, shard), pr);

  // ---- memory rules (sizes from src/memory/step-memory.ts; lifetimes from torch/distributed/fsdp/_fully_shard) ----
  // All-gather: FSDP2 gathers into one flat `all_gather_output` (unsharded size) on the all-gather stream, then
  // `foreach_all_gather_copy_out` copies it into per-parameter storages that the unsharded parameters view
  // (`_fsdp_collectives.py`), so both exist between copy-out and the flat buffer's free. In forward that free
  // is deferred to the *next* group's `wait_for_unshard` (`comm_ctx.all_gather_state`, "defer free to allow for
  // overlap of this copy-out with next all-gather"), and the root's post-forward frees the last one
  // (`_fsdp_state.py`); in backward it is freed right after copy-out. FSDP1 all-gathers straight into the
  // padded unsharded flat parameter (`_flat_param.py` `_all_gather_flat_param`): no second buffer.
  // Both are allocated on the all-gather (copy-in / unshard) stream, so they live in its allocator pool; the
  // FSDP2 per-parameter storages are allocated by the copy-out on the compute stream.
  const gatherMem = (bytes: number) => mem('start', bytes, fsdp2 ? 'communication_buffers' : 'parameters', 'all_gather');
  const paramPool = fsdp2 ? 'default' : 'all_gather';
  const copyOut = (bytes: number, freeFlat: number): MemoryChange[] =>
    fsdp2 ? [mem('start', bytes, 'parameters'), ...(freeFlat > 0 ? [mem('start', -freeFlat, 'communication_buffers', 'all_gather')] : [])] : [];
  // Gradients: autograd produces unsharded grads in param_dtype. Under no_sync (non-final micro-batches)
  // `accumulate_unsharded_grad_if_needed` / `to_accumulated_grad_if_needed` (`_fsdp_param.py`) keep them,
  // upcast to reduce_dtype when it differs, and add each later micro-batch's (transient) grad into them.
  // The final micro-batch's `foreach_reduce` (`_fsdp_collectives.py`) allocates the reduce-scatter input
  // (unsharded, reduce_dtype), copies the grads in and frees them; that input is held until the next group's
  // post_backward frees it (`comm_ctx.reduce_scatter_state`), the last one at the end of backward. FSDP1
  // reduces the grad tensor itself (a reduce_dtype copy only if the dtypes differ), freed when the
  // reduce-scatter ends (`_post_backward_hook`, `_no_dispatch_record_stream`).
  // `simulation.fsdp_gradient_sync: every_micro_batch` models the other behaviour (accelerate before
  // no_sync reached FSDP2, torchtitan's default): reduce-scatter after every micro-batch, accumulating
  // into the sharded gradient, with no unsharded gradients kept in between.
  const everyMb = cfg.simulation.fsdpGradientSync === 'every_micro_batch' && GA > 1;
  const GAacc = everyMb ? 1 : GA;
  const accumulated = (n: number) => n * (reduceB !== gatherB ? reduceB : gatherB);
  const pendingGrad = (n: number) => (GAacc > 1 ? accumulated(n) : n * gatherB);
  const postBackward = (n: number, mb: number, sync: boolean): MemoryChange[] => {
    if (GAacc === 1) return [];
    if (mb === 0 && !sync) return reduceB !== gatherB ? [mem('end', accumulated(n), 'gradients'), mem('end', -n * gatherB, 'gradients')] : [];
    return [mem('end', -n * gatherB, 'gradients')];
  };
  // The reduce-scatter output (sharded, reduce_dtype) is allocated on the reduce-scatter stream and, cast to
  // the sharded parameter's dtype if that differs, becomes the sharded gradient: it stays in that stream's
  // pool until zero_grad frees it. FSDP2's post_backward first waits for the previous reduce-scatter and
  // drops its input, then `foreach_reduce` allocates this group's input, copies the grads in and frees them,
  // all on the compute stream (`compute`, at the end of the group's backward); the collective's own side is
  // `start`/`end`.
  let heldRsInput = 0;
  const gradB = bytesOf(pr.gradDtype);
  const reduceScatterMem = (n: number, mb: number, sharded = Math.ceil(n / shard)): { compute: MemoryChange[]; start: MemoryChange[]; end: MemoryChange[] } => {
    const out = sharded * reduceB;
    const castOut = reduceB !== gradB ? [mem('end', sharded * gradB, 'gradients', 'reduce_scatter'), mem('end', -out, 'gradients', 'reduce_scatter')] : [];
    // Reducing every micro-batch, later outputs are added into the sharded gradient the first one made.
    if (everyMb && mb > 0 && !cfg.fsdp.offloadParams) castOut.push(mem('end', -(reduceB !== gradB ? sharded * gradB : out), 'gradients', 'reduce_scatter'));
    if (fsdp2) {
      const compute = [mem('end', -heldRsInput, 'communication_buffers'), mem('end', n * reduceB, 'communication_buffers'), mem('end', -pendingGrad(n), 'gradients')];
      heldRsInput = n * reduceB;
      return { compute, start: [mem('start', out, 'gradients', 'reduce_scatter')], end: castOut };
    }
    const cast = reduceB !== gatherB ? n * reduceB : 0;
    return {
      compute: [],
      start: [mem('start', cast, 'communication_buffers', 'reduce_scatter'), mem('start', out, 'gradients', 'reduce_scatter')],
      end: [mem('end', -cast, 'communication_buffers', 'reduce_scatter'), mem('end', -pendingGrad(n), 'gradients'), ...castOut],
    };
  };
  // Root gradients appear in two places: the final norm and lm_head at the head's backward (for tied
  // embeddings the lm_head matmul's V×h contribution is the embedding's gradient, held from then on), the
  // embedding (and learned positions) at the embedding's backward.
  const Vh = model.vocabSize * model.hiddenSize;
  const tiedTrains = model.tiedEmbeddings && costs.embedding.trainableParams > 0;
  const headGradParams = costs.head.trainableParams + (tiedTrains ? Vh : 0);
  const embedGradParams = rootGrads - headGradParams;
  const tiedContribution = tiedTrains ? Vh * gatherB : 0;
  // Autocast (fp32 weights seen by a 16-bit forward): each linear saves the 16-bit cast of its weight, which
  // the cast cache also holds until forward ends; checkpointed layers drop theirs at the end of forward and
  // re-cast during recompute.
  const cacheRoot = M.autocastCache.rootBytes;
  const tag = opTag;
  const dpId = ctx.layout.dataParallel.id(rank);
  const key = (what: string, mb: number) => (b.multiRank ? `${what}:mb${mb}:${dpId}` : '');
  // TP / CP collectives name their own group instance (tensor-parallel.ts); a TP group spans DP groups.
  const meshKey = (what: string, mb: number) => (b.multiRank ? `${what}:mb${mb}` : '');
  const split = cfg.mesh.tp > 1 || cfg.mesh.cp > 1;
  const hsdp = ctx.layout.replicate.placement.size > 1;
  // FSDP1's BACKWARD_POST / no prefetch issue a unit's backward gather only after the unit above finishes.
  const prefetchAhead = !fsdp2 && cfg.fsdp.backwardPrefetch !== 'BACKWARD_PRE' ? 1 : 2;
  const throttleForward = fsdp2 || cfg.fsdp.limitAllGathers;

  const layerForward = (i: number, mb: number, phase: 'forward' | 'recompute', deps: number[], memory: MemoryChange[], seconds: LayerForwardSeconds) =>
    emitLayerForward(ctx, rank, { layer: i, microBatch: mb, phase }, deps, memory, seconds, (what) => meshKey(what, mb));
  // FSDP2's `foreach_all_gather_copy_out` splits the flat all-gather output into the per-parameter tensors on
  // the compute stream before the layer runs (`_fsdp_collectives.py`, called from `wait_for_unshard`): a
  // memory-bound read + write of the unsharded layer each time it is gathered. FSDP1 gathers in place.
  // Copy-out is charged where a gather precedes: the forward, and the recompute only when resharded.
  const withCopyOut = (x: LayerForwardSeconds, copyOutSeconds: number): LayerForwardSeconds => ({ full: x.full + copyOutSeconds, attention: x.attention + copyOutSeconds, mlp: x.mlp });
  // Packed in every tier (src/util/v8-shapes.ts packedMap): the layer functions below index it.
  const views = packedMap(costs.layers, (lc, i) => {
    const epExperts = lc.ep && ep > 1 ? lc.ep.experts : undefined;
    // Bytes gathered over the whole group and, for the experts' own FSDP unit, over dp_shard; under pure EP the
    // experts are not in FSDP at all (resident, counted in the persistent parameters), so nothing gathers them.
    const gatherMain = epExperts ? gatheredBytes(minus(lc, epExperts), pr.gatherDtype) : gatheredBytes(lc, pr.gatherDtype);
    const gatherExperts = epExperts && expertShard > 1 ? gatheredBytes(epExperts, pr.gatherDtype) : 0;
    const unsharded = gatherMain + gatherExperts;
    const copyOutSeconds = fsdp2 ? memoryBoundSeconds(2 * unsharded, ctx.gpu, 1) : 0;
    const timings = layerForwardSeconds(lc, cfg);
    const mlpBackward = lc.backwardSegments.filter((x) => x.part === 'mlp').reduce((a, x) => a + x.seconds, 0);
    return {
      lc, share: lc as ParamShare, grads: lc.trainableParams, unsharded, copyOutSeconds, local: localShare(lc), epExperts,
      gatherMain, gatherExperts, act: M.layers[i]!, cache: M.autocastCache.layerBytes[i]!,
      fullForward: withCopyOut(timings.forward, copyOutSeconds), recompute: timings.recompute, mlpBackward, attentionBackward: lc.backwardSeconds - mlpBackward,
    };
  });
  // CPU offload (`offload_params`, FSDP2 CPUOffloadPolicy / FSDP1 CPUOffload): sharded parameters, gradients
  // and optimizer states live in host memory. Each unshard first copies the rank's shard to the GPU
  // (`_fsdp_param.py` `FSDPParam.unshard` → `sharded_param.to(device, non_blocking=True)` on the all-gather
  // copy-in stream), each reduced gradient shard goes back (`_fsdp_collectives.py` `foreach_reduce`:
  // `to("cpu", non_blocking=True)`), and the optimizer steps on the CPU.
  const offload = cfg.fsdp.offloadParams;
  const shardBytes = (share: ParamShare) => storedBytes('ep' in share && share.ep && ep > 1 ? localShare(share as LayerCosts) : shardOf(share, shard), pr);
  const h2d = (n: ParamShare, label: string, mb: number, phase: 'forward' | 'backward', deps: number[], layer?: number): number[] => {
    if (!offload) return deps;
    const bytes = shardBytes(n);
    return [b.copy(rank, 'host_to_device', bytes, ctx.host.h2dBytesPerSecond, { phase, label: `${label} shard → GPU`, microBatch: mb, ...(layer !== undefined ? { layer } : {}) }, deps,
      [mem('start', bytes, 'parameters', 'all_gather')])];
  };
  const freeCopyIn = (n: ParamShare): MemoryChange[] => (offload ? [mem('end', -shardBytes(n), 'parameters', 'all_gather')] : []);
  const d2h = (n: number, label: string, mb: number, deps: number[], layer?: number, sharded = Math.ceil(n / shard)): number => {
    const bytes = sharded * gradB;
    return b.copy(rank, 'device_to_host', bytes, ctx.host.d2hBytesPerSecond, { phase: 'backward', label: `${label} gradient → CPU`, microBatch: mb, ...(layer !== undefined ? { layer } : {}) }, deps,
      [mem('end', -bytes, 'gradients', 'reduce_scatter')]);
  };
  const replicaAllReduce = (n: number, what: string, label: string, mb: number, layer: number | undefined, deps: number[]): number =>
    b.collective(rank, 'all_reduce', 'all_reduce', Math.ceil(n / shard) * reduceB, ctx.layout.replicate.placement, b.multiRank ? `${what}:mb${mb}:${ctx.layout.replicate.id(rank)}` : '',
      collTag('backward', `${label} (HSDP replicas)`, mb, layer), deps);

  // A layer's all-gather: one collective over the data-parallel group, and under EP × dp_shard a second for the
  // experts' FSDP unit over dp_shard, queued behind it on the all-gather stream (the layer waits for both).
  const gatherLayer = (i: number, mb: number, phase: 'forward' | 'backward', deps: number[], memory: MemoryChange[], pass = ''): number => {
    const v = views[i]!;
    const tagG = collTag(phase, pass ? `layer ${i} (${pass})` : layerLabel(i), mb, i);
    const main = b.collective(rank, 'all_gather', 'all_gather', v.gatherMain, ctx.dataParallel, b.multiRank ? key(`ag-${pass}${phase[0]}${i}`, mb) : '', tagG, deps, memory);
    if (v.gatherExperts === 0) return main;
    return b.collective(rank, 'all_gather', 'all_gather', v.gatherExperts, ctx.layout.expertShard.placement, `ag-${pass}${phase[0]}${i}x:mb${mb}:${ctx.layout.expertShard.id(rank)}`,
      collTag(phase, `layer ${i} experts`, mb, i), [main]);
  };

  // Preference trainers: the reference forwards under no_grad between the trained forward and the backward.
  // - With an adapter the reference is the policy with its adapters disabled (TRL dpo_trainer.py
  //   `compute_ref_log_probs`: `torch.no_grad()` + `null_ref_context()` → PEFT `disable_adapter()`), run
  //   through the same FSDP units: each unit resharded after the trained forward is all-gathered again, one
  //   unit ahead at most as in the trained forward, and resharded after its no-grad forward (FSDP2
  //   `reshard_after_forward`, FSDP1 FULL_SHARD). The root stays unsharded after the trained forward (both
  //   FSDPs skip the root's post-forward reshard since backward needs it at once).
  // - A full fine-tune's separate reference model is wrapped by TRL's `prepare_fsdp` (trl/models/utils.py):
  //   FSDP1 with the plugin's auto-wrap policy (per-layer units like the policy's, gathered again each pass;
  //   its root unit is never resharded, as it never runs a backward), FSDP2 with one `fully_shard(model)` at
  //   the root — a root unit is not resharded after forward, so after its first forward the whole reference
  //   model stays unsharded on every GPU: in a steady step it gathers nothing (`referenceResidentBytes`).
  // Nothing is saved: a pass allocates only its transient peak (src/memory/step-memory.ts `noGradForward`).
  // KTO's policy KL forward (adapters on, no grad) runs before the trained forward (kto_trainer.py
  // `_compute_loss` → `_compute_kl_logps`): the root is gathered for it (and stays unsharded for the trained
  // forward), every layer unit — sharded since the last backward — is gathered, run and resharded, and the
  // trained forward's own gathers are issued after it.
  // resolve.ts refuses what this does not cover (TP / CP / EP, an offloaded reference model, a KL pass with
  // units kept unsharded after forward).
  const referencePasses = noGradForwardsAround(cfg.trainer).after;
  const klPasses = noGradForwardsAround(cfg.trainer).before;
  const separateReference = cfg.trainer.kind === 'preference' && cfg.trainer.referenceCopy;
  const refGathers = reshard && !(separateReference && fsdp2);
  const refB = bytesOf(cfg.precision.computeDtype);
  const referenceResidentBytes = !separateReference || referencePasses === 0 ? 0
    : Math.ceil(costs.total.params / shard) * refB + (fsdp2 ? costs.total.params : root.params) * refB;
  const noGradForwards = (mb: number, deps: number[], what: 'reference' | 'policy KL'): number[] => {
    const passes = what === 'reference' ? referencePasses : klPasses;
    const gathers = what === 'reference' ? refGathers : true;
    let waitFor = deps;
    for (let p = 0; p < passes; p++) {
      const pass = `${what === 'reference' ? 'ref' : 'kl'}${p}`;
      const start = waitFor;
      const last = what === 'reference' && p === passes - 1;
      waitFor = [b.compute(rank, costs.embedding.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: `embedding (${what}, no grad)` }, mb), waitFor,
        [mem('start', M.noGradForward.peakBytes, 'activations')])];
      const ref: number[] = [];
      for (let i = 0; i < L; i++) {
        const v = views[i]!;
        const gathered = gathers ? gatherLayer(i, mb, 'forward', [...start, i >= 2 ? ref[i - 2]! : -1], [gatherMem(v.unsharded)], pass) : -1;
        const memory = gathers ? [...copyOut(v.unsharded, v.unsharded), mem('end', -v.unsharded, 'parameters', paramPool)] : [];
        ref[i] = b.compute(rank, v.lc.forwardSeconds + (gathers ? v.copyOutSeconds : 0), tag({ kind: 'compute', phase: 'forward', label: `layer ${i} (${what}, no grad)`, layer: i, flops: v.lc.forwardFlops }, mb), [...waitFor, gathered], memory);
        waitFor = [ref[i]!];
      }
      const headMem = [mem('end', -M.noGradForward.peakBytes, 'activations'), ...(last ? [mem('end', -M.head.heldUntilLossReturnsBytes, 'activations')] : [])];
      waitFor = [b.compute(rank, costs.head.noGradForwardSeconds, tag({ kind: 'compute', phase: 'forward', label: `head (${what} log-probs, no grad)`, flops: costs.head.forwardFlops }, mb), waitFor, headMem)];
    }
    return waitFor;
  };

  let lastOfPrev = -1;
  const finalRs: number[] = [];

  // One layer's forward and one layer's backward in functions of their own: V8 then recompiles only the one a
  // de-optimisation hits (a whole micro-batch as one function took 0.15–0.45 s per optimising compilation).
  const forwardLayer = (i: number, mb: number, klEnd: number[], fwd: number[], waitFor: number[]): number[] => {
    const v = views[i]!;
    const throttle = throttleForward && i >= 2 ? fwd[i - 2]! : -1;
    const gathered = gatherLayer(i, mb, 'forward', h2d(v.share, `layer ${i}`, mb, 'forward', [throttle, lastOfPrev, ...klEnd], i), [gatherMem(v.unsharded), ...freeCopyIn(v.share)]);
    const memory = [...copyOut(v.unsharded, i === 0 ? unshardedRoot : views[i - 1]!.unsharded), mem('start', v.cache, 'parameters'), mem('start', v.act.savedBytes, 'activations')];
    if (reshard) memory.push(mem('end', -v.unsharded, 'parameters', paramPool));
    const [done, next] = layerForward(i, mb, 'forward', [gathered, ...waitFor], memory, v.fullForward);
    fwd[i] = done;
    offloadAfterForward(ctx, rank, i, mb, done);
    return next;
  };
  const backwardLayer = (i: number, mb: number, sync: boolean, forwardEnd: number, bwd: number[], rsLayers: number[], waitFor: number[]): number[] => {
    const v = views[i]!;
    const act = v.act;
    let gathered = -1;
    if (reshard) {
      const prefetchGate = i + prefetchAhead <= L - 1 ? bwd[i + prefetchAhead]! : forwardEnd;
      gathered = gatherLayer(i, mb, 'backward', h2d(v.share, `layer ${i}`, mb, 'backward', [prefetchGate], i), [gatherMem(v.unsharded), ...freeCopyIn(v.share)]);
    }
    // Offloaded activations come back while the layer above runs its backward.
    const reload = reloadBeforeBackward(ctx, rank, i, mb, i + 2 <= L - 1 ? bwd[i + 2]! : forwardEnd);
    if (reload >= 0) waitFor = [...waitFor, reload];
    if (ckpt) {
      [, waitFor] = layerForward(i, mb, 'recompute', [...waitFor, gathered],
        [...(reshard ? copyOut(v.unsharded, v.unsharded) : []), mem('start', v.cache, 'parameters'), mem('start', act.recomputeBytes, 'activations')], reshard ? withCopyOut(v.recompute, v.copyOutSeconds) : v.recompute);
    }
    const memory: MemoryChange[] = [];
    if (reshard && !ckpt) memory.push(...copyOut(v.unsharded, v.unsharded));
    memory.push(mem('start', v.grads * gatherB, 'gradients'), mem('start', act.backwardWorkingBytes, 'activations'));
    memory.push(mem('end', -(act.backwardWorkingBytes + act.savedBytes + act.recomputeBytes), 'activations'), mem('end', -v.cache, 'parameters'), mem('end', -v.unsharded, 'parameters', paramPool));
    memory.push(...postBackward(v.grads, mb, sync));
    // A group with nothing to train has no gradients to reduce.
    const rs = sync && v.grads > 0 ? reduceScatterMem(v.grads, mb, v.local.trainableParams) : undefined;
    if (rs) memory.push(...rs.compute);
    let gradsReady: number[];
    const copyOutHere = reshard && !ckpt ? v.copyOutSeconds : 0;
    if (v.lc.ep) {
      [bwd[i], waitFor] = emitEpLayerBackward(ctx, rank, { layer: i, microBatch: mb }, [...waitFor, gathered], memory, copyOutHere, (what) => meshKey(what, mb));
      gradsReady = [bwd[i]!];
    } else if (!split) {
      bwd[i] = b.compute(rank, v.lc.backwardSeconds + copyOutHere, tag({ kind: 'compute', phase: 'backward', label: layerLabel(i), layer: i, flops: v.lc.backwardFlops }, mb), [...waitFor, gathered], memory);
      waitFor = [bwd[i]!];
      gradsReady = [bwd[i]!];
    } else {
      const t = { phase: 'backward', layer: i, microBatch: mb } as const;
      const flopsOf = (sec: number) => (v.lc.backwardFlops * sec) / v.lc.backwardSeconds;
      const bm = b.compute(rank, v.mlpBackward + copyOutHere, tag({ kind: 'compute', phase: 'backward', label: `layer ${i} mlp`, layer: i, flops: flopsOf(v.mlpBackward) }, mb), [...waitFor, gathered], memoryAt('start', memory));
      const t3 = tpSync(ctx, rank, `mlp input gradient, layer ${i}`, t, [bm], b.multiRank ? meshKey(`tp-b${i}m`, mb) : '');
      const ring = cpRing(ctx, rank, 'backward', t, t3, b.multiRank ? meshKey(`cp-b${i}`, mb) : '');
      bwd[i] = b.compute(rank, v.attentionBackward, tag({ kind: 'compute', phase: 'backward', label: `layer ${i} attention`, layer: i, flops: flopsOf(v.attentionBackward) }, mb), t3, memoryAt('end', memory));
      waitFor = [...tpSync(ctx, rank, `attention input gradient, layer ${i}`, t, [bwd[i]!], b.multiRank ? meshKey(`tp-b${i}a`, mb) : ''), ring];
      gradsReady = [bwd[i]!, ring];
    }
    if (rs) {
      const expertGrads = v.epExperts?.trainableParams ?? 0;
      let r = b.collective(rank, 'reduce_scatter', 'reduce_scatter', (v.grads - expertGrads) * reduceB, ctx.dataParallel, b.multiRank ? key(`rs${i}`, mb) : '',
        collTag('backward', layerLabel(i), mb, i), gradsReady, [...rs.start, ...rs.end]);
      // The experts' FSDP unit reduce-scatters its gradients over dp_shard (none under pure EP: they stay local).
      if (expertGrads > 0 && expertShard > 1) {
        r = b.collective(rank, 'reduce_scatter', 'reduce_scatter', expertGrads * reduceB, ctx.layout.expertShard.placement, `rs${i}x:mb${mb}:${ctx.layout.expertShard.id(rank)}`,
          collTag('backward', `layer ${i} experts`, mb, i), [r]);
      }
      const reduced = hsdp ? replicaAllReduce(v.grads, `hsdp-ar${i}`, `layer ${i}`, mb, i, [r]) : r;
      rsLayers.push(offload ? d2h(v.grads, `layer ${i}`, mb, [reduced], i, v.local.trainableParams) : reduced);
    }
    return waitFor;
  };

  // One micro-batch's forward and backward in a function of its own: V8 compiles it apart from the set-up
  // above (the whole lowering as one function took ~0.3 s per optimising compilation, several per sweep).
  const lowerMicroBatch = (mb: number): void => {
    const sync = everyMb || mb === GA - 1;
    // ---- forward ----
    const agRoot = b.collective(rank, 'all_gather', 'all_gather', unshardedRoot, ctx.dataParallel, key('ag-root', mb),
      collTag('forward', 'root (embedding, norm, lm_head)', mb), h2d(root, 'root', mb, 'forward', [lastOfPrev]), [gatherMem(unshardedRoot), ...freeCopyIn(root)]);
    const klEnd = klPasses > 0 ? noGradForwards(mb, [agRoot], 'policy KL') : [];
    let prevCompute = b.compute(rank, costs.embedding.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'embedding' }, mb), [agRoot, ...klEnd], copyOut(unshardedRoot, 0));
    let waitFor: number[] = [prevCompute];
    const fwd: number[] = [];
    for (let i = 0; i < L; i++) waitFor = forwardLayer(i, mb, klEnd, fwd, waitFor);
    const H = M.head;
    const headFMem = [mem('start', cacheRoot, 'parameters'), mem('start', H.savedBytes, 'activations'), mem('start', H.lossForwardBytes, 'activations'),
      mem('end', -lossReleasedAtHeadForward(ctx), 'activations')];
    // The root's post-forward frees the last deferred all-gather output; autocast's exit drops the cache,
    // which checkpointed layers were the only holders of.
    if (fsdp2) headFMem.push(mem('end', -views[L - 1]!.unsharded, 'communication_buffers', 'all_gather'));
    if (ckpt) headFMem.push(mem('end', -views.reduce((a, v) => a + v.cache, 0), 'parameters'));
    const headF = b.compute(rank, costs.head.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'head (norm, lm_head, loss)', flops: costs.head.forwardFlops }, mb), waitFor, headFMem);
    const logitsGathered = tpGatherLogits(ctx, rank, { phase: 'forward', microBatch: mb }, [headF], meshKey('tp-logits', mb));
    // The reference forwards (preference trainers), after which the backward starts: its gathers and reloads too.
    const forwardEnd = referencePasses > 0 ? noGradForwards(mb, logitsGathered, 'reference')[0]! : headF;
    // ---- backward ----
    const headB = b.compute(rank, costs.head.backwardSeconds, tag({ kind: 'compute', phase: 'backward', label: 'head (norm, lm_head, loss)', flops: 2 * costs.head.forwardFlops }, mb), referencePasses > 0 ? [forwardEnd] : logitsGathered,
      [mem('start', headGradParams * gatherB, 'gradients'), mem('start', H.lossBackwardBytes, 'activations'),
        mem('end', -(H.lossHeldBytes + H.lossBackwardBytes + H.savedBytes), 'activations'), mem('end', -cacheRoot, 'parameters')]);
    waitFor = tpSync(ctx, rank, 'lm_head input gradient', { phase: 'backward', microBatch: mb }, [headB], meshKey('tp-head', mb));
    const bwd: number[] = [];
    const rsLayers: number[] = [];
    for (let i = L - 1; i >= 0; i--) waitFor = backwardLayer(i, mb, sync, forwardEnd, bwd, rsLayers, waitFor);
    const embedMem = [mem('start', embedGradParams * gatherB + tiedContribution, 'gradients'), mem('end', -tiedContribution, 'gradients'),
      mem('end', -unshardedRoot, 'parameters', paramPool), ...postBackward(rootGrads, mb, sync)];
    const rsRootMem = sync && rootGrads > 0 ? reduceScatterMem(rootGrads, mb) : undefined;
    if (rsRootMem) embedMem.push(...rsRootMem.compute);
    const embedB = b.compute(rank, costs.embedding.backwardSeconds, tag({ kind: 'compute', phase: 'backward', label: 'embedding' }, mb), waitFor, embedMem);
    lastOfPrev = embedB;
    if (rsRootMem) {
      const rs = rsRootMem;
      // The last reduce-scatter input is freed at the end of backward (`_root_post_backward_final_callback`).
      const rsRoot = b.collective(rank, 'reduce_scatter', 'reduce_scatter', rootGrads * reduceB, ctx.dataParallel, key('rs-root', mb),
        collTag('backward', 'root (embedding, norm, lm_head)', mb), [embedB], [...rs.start, ...rs.end, mem('end', -heldRsInput, 'communication_buffers')]);
      heldRsInput = 0;
      const reducedRoot = hsdp ? replicaAllReduce(rootGrads, 'hsdp-ar-root', 'root', mb, undefined, [rsRoot]) : rsRoot;
      const lastReduce = offload ? d2h(rootGrads, 'root', mb, [reducedRoot]) : reducedRoot;
      // The optimizer waits for the last micro-batch's reductions (earlier ones finish before them).
      if (mb === GA - 1) finalRs.push(...rsLayers, lastReduce);
    }
  };
  for (const mb of ctx.microBatches) lowerMicroBatch(mb);

  // ---- optimizer: clip_grad_norm_ (an all-reduce of the local norms), then AdamW on the local shard ----
  const gradBytes = views.reduce((a, v) => a + v.local.trainableParams * gradB, 0) + shardedGrad(rootGrads);
  if (offload) {
    // clip_grad_norm_ and AdamW run on the CPU over the host-resident shard (torch's CPU AdamW kernels); the
    // node's cores are shared by its ranks.
    const norm = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, `grad-norm:${dpId}`, collTag('optimizer', 'grad norm', GA - 1), [lastOfPrev, ...finalRs]);
    b.host(rank, localTrainable / ctx.host.cpuAdamParamsPerSecond, opTag({ kind: 'optimizer', phase: 'optimizer', label: 'clip_grad_norm + AdamW (CPU)' }, GA - 1), [norm]);
    return {
      persistent: { parameters: 0, optimizer_states: 0, communication_buffers: 0 },
      persistentGradientBytes: 0,
    };
  }
  const clip = b.compute(rank, clipGradNormSeconds(cfg, localTrainable, ctx.gpu), opTag({ kind: 'optimizer', phase: 'optimizer', label: 'clip_grad_norm' }, GA - 1), [lastOfPrev, ...finalRs]);
  const norm = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, `grad-norm:${dpId}`, collTag('optimizer', 'grad norm', GA - 1), [clip]);
  const step = optimizerStep(cfg, { params: localTrainable, tensors: trainableTensorCount(model), matrices: hiddenMatrices(model), matrixShare: 1 / shard, copies: { params: localCopies, tensors: copyTensorCount(model) } }, ctx.gpu);
  // zero_grad(set_to_none=True) after the step frees the sharded gradients.
  b.compute(rank, step.seconds, opTag({ kind: 'optimizer', phase: 'optimizer', label: optimizerLabel(cfg) }, GA - 1), [norm],
    [mem('start', step.temporaryBytes, 'optimizer_states'), mem('end', -step.temporaryBytes, 'optimizer_states'), mem('end', -gradBytes, 'gradients', 'reduce_scatter')]);

  return {
    persistent: {
      parameters: localStored + referenceResidentBytes,
      optimizer_states: deviceOptimizerStateBytes(cfg, localTrainable, localCopies),
      communication_buffers: 0,
    },
    persistentGradientBytes: gradBytes,
    pagedBytes: pagedOptimizerStateBytes(cfg, localTrainable, localCopies),
  };
}
