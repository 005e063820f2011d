import { bytesOf } from '../util/dtype.ts';
import type { StrategyContext, StrategyResult } from './context.ts';
import { collTag, mem, type OpTag, opTag } from './plan.ts';
import { clipGradNormSeconds, deviceOptimizerStateBytes, optimizerLabel, optimizerStep, pagedOptimizerStateBytes } from './optimizer.ts';
import { copyTensorCount, headWidth, hiddenMatrices, trainableTensorCount } from '../model/params.ts';
import { copyGradientDeltaBytes, storedBytes } from './param-bytes.ts';
import { optimizerStateBytes } from '../config/optimizers.ts';
import { offloadAfterForward, reloadBeforeBackward } from './activation-offload.ts';
import { expertLoad } from './ep-schedule.ts';
import { cpRing, emitLayerForward, layerForwardSeconds, tpGatherLogits, tpSync } from './tensor-parallel.ts';
import { emitNoGradForwards, lossReleasedAtHeadForward, referenceCopyBytes } from './trainer-passes.ts';
import { packedMap } from '../util/v8-shapes.ts';

/** One DDP gradient bucket: parameters (in reverse registration order) and the layer whose backward fills it last. */
export interface Bucket {
  bytes: number;
  params: number;
  /** Index into the list of backward segments (in execution order) after which the bucket is full. */
  readyAfterSegment: number;
}

/**
 * DDP's bucket assignment (torch/csrc/distributed/c10d/reducer.cpp `compute_bucket_assignment_by_size`):
 * parameters in reverse registration order — roughly the order backward produces their gradients — go into
 * the current bucket until it reaches the size limit; the first bucket's limit is kDefaultFirstBucketBytes =
 * 1 MiB, the rest `bucket_cap_mb` (25 MiB). A tensor larger than the limit gets a bucket of its own.
 */
export function assignBuckets(
  segments: { params: number }[],
  bytesPerParam: number,
  firstBucketBytes: number,
  bucketCapBytes: number,
): Bucket[] {
  const buckets: Bucket[] = [];
  let limit = firstBucketBytes;
  let cur = { bytes: 0, params: 0 };
  segments.forEach((seg, i) => {
    if (seg.params === 0) return;
    cur.params += seg.params;
    cur.bytes += seg.params * bytesPerParam;
    if (cur.bytes >= limit) {
      buckets.push({ ...cur, readyAfterSegment: i });
      cur = { bytes: 0, params: 0 };
      limit = bucketCapBytes;
    }
  });
  if (cur.params > 0) buckets.push({ ...cur, readyAfterSegment: segments.length - 1 });
  return buckets;
}

/**
 * DDP (torch/nn/parallel/distributed.py + reducer.cpp) as HF Trainer drives it: full replicas; during the
 * final micro-batch's backward each bucket's AllReduce is launched as soon as its last gradient is ready,
 * overlapping the rest of backward; earlier micro-batches run under `no_sync()` and only accumulate.
 * With `gradient_as_bucket_view=False` (the default; neither HF Trainer nor Axolotl sets it) the buckets
 * are a second gradient-sized buffer, allocated when the Reducer is built (`initialize_buckets`) and kept.
 * The optimizer waits for every bucket.
 */
export function lowerDdp(ctx: StrategyContext, rank: number): StrategyResult {
  const { cfg, model, costs, memory: M, builder: b } = ctx;
  const L = model.numLayers;
  const GA = cfg.batch.gradientAccumulationSteps;
  const pr = cfg.precision;
  // Selective AC recomputes only what its policy does not save (costs.ts `recomputeSeconds`).
  const ckpt = cfg.activationCheckpointing !== 'none';
  const gradB = bytesOf(pr.gradDtype);
  // Only trainable parameters have gradients, buckets and optimizer state (DDP buckets `requires_grad` params).
  const trainable = costs.total.trainableParams;
  const copies = costs.total.copyParams ?? 0;
  const H = M.head;
  const cacheLayers = M.autocastCache.layerBytes;
  const cacheAllLayers = cacheLayers.reduce((a, x) => a + x, 0);
  const cacheRoot = M.autocastCache.rootBytes;
  const tag = opTag;

  // Backward segments of the whole model in execution order: head, layers L-1..0, embedding.
  // `params`: gradients DDP buckets and all-reduces; `gradParams`: gradients this segment produces. They differ
  // for routed experts under expert parallelism: each rank holds its own experts, which Axolotl keeps out of
  // DDP (`_ddp_params_and_buffers_to_ignore`, expert_parallel/shard.py), so their gradients are never reduced.
  type Seg = { name: string; seconds: number; params: number; gradParams: number; experts?: boolean; layer?: number; part?: 'mlp' | 'attention'; phase: 'backward' | 'recompute' };
  const segments: Seg[] = [{ name: 'head (norm, lm_head, loss)', seconds: costs.head.backwardSeconds, params: costs.head.trainableParams, gradParams: costs.head.trainableParams, phase: 'backward' }];
  for (let i = L - 1; i >= 0; i--) {
    for (const s of costs.layers[i]!.backwardSegments) {
      segments.push({ name: `layer ${i} ${s.name}`, seconds: s.seconds, params: s.experts ? 0 : s.params, gradParams: s.params, layer: i, part: s.part, phase: 'backward', ...(s.experts ? { experts: true } : {}) });
    }
  }
  segments.push({ name: 'embedding', seconds: costs.embedding.backwardSeconds, params: costs.embedding.trainableParams, gradParams: costs.embedding.trainableParams, phase: 'backward' });
  const buckets = assignBuckets(segments, gradB, cfg.ddp.firstBucketBytes, cfg.ddp.bucketCapBytes);
  // Axolotl's fp32 embed_tokens / lm_head (config/resolve.ts axolotlFp32Embeddings): their weights, gradients
  // and optimizer states take fp32 bytes; DDP buckets them apart (buckets hold one dtype), here as extra bytes
  // in the buckets that carry the head's and the embedding's gradients.
  const up = rootDtypeDeltas(ctx);
  if (up.gradHead > 0) buckets[0]!.bytes += up.gradHead;
  if (up.gradEmbedding > 0) buckets[buckets.length - 1]!.bytes += up.gradEmbedding;
  const gradBytes = trainable * gradB + up.gradHead + up.gradEmbedding;
  // Routed experts under expert parallelism are outside DDP's buckets (see `Seg`): no bucket copy of theirs.
  const bucketed = segments.reduce((a, x) => a + x.params, 0) * gradB + up.gradHead + up.gradEmbedding;
  const bucketBuffer = cfg.ddp.gradientAsBucketView || ctx.dataParallel.size <= 1 ? 0 : Math.min(gradBytes, bucketed);
  // With tied embeddings the lm_head matmul's V×h gradient is the embedding's: it exists from the head's
  // backward on; the embedding's own backward adds a transient contribution into it (autograd's InputBuffer).
  const Vh = model.vocabSize * model.hiddenSize;
  const tied = model.tiedEmbeddings && costs.embedding.trainableParams > 0 ? Vh : 0;
  const gradParamsOf = (si: number, seg: Seg) => (si === 0 ? seg.gradParams + tied : seg.layer === undefined && si === segments.length - 1 ? seg.gradParams - tied : seg.gradParams);

  let lastOfPrev = -1;
  const allReduces: number[] = [];
  const epAllToAll = (layer: number, mb: number, what: 'dispatch' | 'combine', deps: number[]) =>
    b.collective(rank, 'expert_parallel', 'all_to_all', costs.layers[layer]!.ep!.dispatchBytes, ctx.layout.expert.placement, `ep-${what}-b${layer}:mb${mb}:${ctx.layout.expert.id(rank)}`,
      collTag('backward', `EP ${what} (gradient), layer ${layer}`, mb, layer), deps);
  const dpId = ctx.layout.dataParallel.id(rank);
  const key = (what: string, mb: number) => (b.multiRank ? `${what}:mb${mb}:${dpId}` : '');
  // TP / CP collectives name their own group instance (tensor-parallel.ts); a TP group spans DP groups.
  const meshKey = (what: string, mb: number) => (b.multiRank ? `${what}:mb${mb}` : '');
  const timings = packedMap(costs.layers, (l) => layerForwardSeconds(l, cfg));

  for (const mb of ctx.microBatches) {
    const sync = mb === GA - 1;
    let waitFor = [b.compute(rank, costs.embedding.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'embedding' }, mb), emitNoGradForwards(ctx, rank, mb, 'before', [lastOfPrev]))];
    for (let i = 0; i < L; i++) {
      let last: number;
      [last, waitFor] = emitLayerForward(ctx, rank, { layer: i, microBatch: mb, phase: 'forward' }, waitFor,
        [mem('start', cacheLayers[i]!, 'parameters'), mem('start', M.layers[i]!.savedBytes, 'activations')], timings[i]!.forward, (what) => meshKey(what, mb));
      offloadAfterForward(ctx, rank, i, mb, last);
    }
    const headFMem = [mem('start', cacheRoot, 'parameters'), mem('start', H.savedBytes, 'activations'), mem('start', H.lossForwardBytes, 'activations'),
      mem('end', -lossReleasedAtHeadForward(ctx), 'activations')];
    // Autocast's exit drops the weight-cast cache, which checkpointed layers were the only holders of.
    if (ckpt) headFMem.push(mem('end', -cacheAllLayers, 'parameters'));
    const headF = b.compute(rank, costs.head.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'head (norm, lm_head, loss)', flops: costs.head.forwardFlops }, mb), waitFor, headFMem);
    waitFor = tpGatherLogits(ctx, rank, { phase: 'forward', microBatch: mb }, [headF], meshKey('tp-logits', mb));
    // Preference trainers: the reference forwards under no_grad before the policy's backward (trainer-passes.ts).
    waitFor = emitNoGradForwards(ctx, rank, mb, 'after', waitFor);

    const segEnd: number[] = [];
    let pendingRing = -1;
    // Offloaded activations come back one layer ahead: each reload starts when the layer above starts.
    let reloadGate = waitFor[waitFor.length - 1] ?? headF;
    let bucketIdx = 0;
    segments.forEach((seg, si) => {
      const memory = [];
      // param.grad is allocated the first time backward produces it and lives until zero_grad(set_to_none);
      // later micro-batches' AccumulateGrad adds a transient new gradient into it.
      const g = gradParamsOf(si, seg) * gradB + (si === 0 ? up.gradHead : si === segments.length - 1 ? up.gradEmbedding : 0);
      if (g > 0) memory.push(mem('start', g, 'gradients'));
      if (mb > 0 && g > 0) memory.push(mem('end', -g, 'gradients'));
      if (si === segments.length - 1 && tied > 0) memory.push(mem('start', tied * gradB, 'gradients'), mem('end', -tied * gradB, 'gradients'));
      if (si === 0) {
        memory.push(mem('start', H.lossBackwardBytes, 'activations'), mem('end', -(H.lossHeldBytes + H.lossBackwardBytes + H.savedBytes), 'activations'), mem('end', -cacheRoot, 'parameters'));
      }
      const firstOfLayer = seg.layer !== undefined && (si === 0 || segments[si - 1]!.layer !== seg.layer);
      const lastOfLayer = seg.layer !== undefined && segments[si + 1]?.layer !== seg.layer;
      const act = seg.layer !== undefined ? M.layers[seg.layer]! : undefined;
      const cacheLayer = seg.layer !== undefined ? cacheLayers[seg.layer]! : 0;
      if (firstOfLayer) {
        const reload = reloadBeforeBackward(ctx, rank, seg.layer!, mb, reloadGate);
        if (reload >= 0) waitFor = [...waitFor, reload];
      }
      if (ckpt && firstOfLayer) {
        [, waitFor] = emitLayerForward(ctx, rank, { layer: seg.layer!, microBatch: mb, phase: 'recompute' }, waitFor,
          [mem('start', cacheLayer, 'parameters'), mem('start', act!.recomputeBytes, 'activations')], timings[seg.layer!]!.recompute, (what) => meshKey(what, mb));
      }
      if (firstOfLayer) memory.push(mem('start', act!.backwardWorkingBytes, 'activations'));
      if (lastOfLayer) memory.push(mem('end', -(act!.backwardWorkingBytes + act!.savedBytes + act!.recomputeBytes), 'activations'), mem('end', -cacheLayer, 'parameters'));
      const lc = seg.layer !== undefined ? costs.layers[seg.layer]! : undefined;
      const flops = lc ? (lc.backwardFlops * seg.seconds) / lc.backwardSeconds : si === 0 ? 2 * costs.head.forwardFlops : 0;
      // Expert parallelism: the gradient dispatch before the layer's first local-expert segment, the gradient
      // combine after its last (src/strategy/ep-schedule.ts), and the experts at this rank's routed load.
      const epHere = seg.experts === true && lc?.ep !== undefined;
      if (epHere && !segments[si - 1]?.experts) waitFor = [epAllToAll(seg.layer!, mb, 'dispatch', waitFor)];
      const load = epHere ? expertLoad(ctx, rank, seg.layer!, mb) : 1;
      let c = b.compute(rank, seg.seconds * load, tag({ kind: 'compute', phase: 'backward', label: epHere ? `layer ${seg.layer} experts ${seg.name.split(' ').pop()}` : seg.name, ...(seg.layer !== undefined ? { layer: seg.layer } : {}), flops: flops * load }, mb), waitFor, memory);
      // optimizer_in_bwd: each parameter's hook steps it and drops its gradient as soon as AccumulateGrad has
      // run, on the compute stream between this segment's backward kernels and the next's. A tied weight's
      // gradient is complete only after the embedding's backward, so it is stepped there. Every gradient this
      // segment produces is stepped, the rank's own experts' too.
      if (cfg.optimizerInBackward && seg.gradParams > 0) c = stepInBackward(ctx, rank, seg.gradParams, seg.name, mb, c, si === 0 ? up.gradHead : si === segments.length - 1 ? up.gradEmbedding : 0);
      waitFor = [c];
      if (epHere && !segments[si + 1]?.experts) waitFor = [epAllToAll(seg.layer!, mb, 'combine', waitFor)];
      segEnd[si] = c;
      if (firstOfLayer) reloadGate = c;
      const t = { phase: 'backward' as const, microBatch: mb, ...(seg.layer !== undefined ? { layer: seg.layer } : {}) };
      // TP: the input gradients of the column-parallel blocks are all-reduced once the MLP half and the
      // attention half of a layer are done, and the lm_head's after the head; CP: the dK/dV ring beside the
      // attention backward.
      if (si === 0) waitFor = tpSync(ctx, rank, 'lm_head input gradient', t, [c], meshKey('tp-head', mb));
      else if (seg.part === 'mlp' && segments[si + 1]?.part === 'attention' && segments[si + 1]?.layer === seg.layer) {
        const sync = tpSync(ctx, rank, `mlp input gradient, layer ${seg.layer}`, t, [c], meshKey(`tp-b${seg.layer}m`, mb));
        pendingRing = cpRing(ctx, rank, 'backward', { ...t, layer: seg.layer! }, sync, meshKey(`cp-b${seg.layer}`, mb));
        waitFor = sync;
      } else if (lastOfLayer) {
        waitFor = tpSync(ctx, rank, `attention input gradient, layer ${seg.layer}`, t, [c, pendingRing], meshKey(`tp-b${seg.layer}a`, mb));
        pendingRing = -1;
      }
      if (sync && ctx.dataParallel.size > 1) {
        while (bucketIdx < buckets.length && buckets[bucketIdx]!.readyAfterSegment === si) {
          const bk = buckets[bucketIdx]!;
          allReduces.push(b.collective(rank, 'all_reduce', 'all_reduce', bk.bytes, ctx.dataParallel, key(`ar-bucket${bucketIdx}`, mb),
            collTag('backward', `bucket ${bucketIdx} (${(bk.bytes / 2 ** 20).toFixed(1)} MiB)`, mb), waitFor));
          bucketIdx++;
        }
      }
    });
    lastOfPrev = waitFor[waitFor.length - 1]!;
  }

  if (cfg.optimizerInBackward) {
    return {
      persistent: { parameters: storedBytes(costs.total, pr), optimizer_states: deviceOptimizerStateBytes(cfg, trainable, copies), communication_buffers: 0 },
      persistentGradientBytes: 0,
      pagedBytes: pagedOptimizerStateBytes(cfg, trainable, copies),
    };
  }
  const clip = b.compute(rank, clipGradNormSeconds(cfg, trainable, ctx.gpu), opTag({ kind: 'optimizer', phase: 'optimizer', label: 'clip_grad_norm' }, GA - 1), [lastOfPrev, ...allReduces]);
  const step = optimizerStep(cfg, { params: trainable, tensors: trainableTensorCount(model), matrices: hiddenMatrices(model), copies: { params: copies, tensors: copyTensorCount(model) } }, ctx.gpu);
  // zero_grad(set_to_none=True) after the step frees the gradients; the buckets stay.
  b.compute(rank, step.seconds, opTag({ kind: 'optimizer', phase: 'optimizer', label: optimizerLabel(cfg) }, GA - 1), [clip],
    [mem('start', step.temporaryBytes, 'optimizer_states'), mem('end', -step.temporaryBytes, 'optimizer_states'), mem('end', -gradBytes, 'gradients')]);

  return {
    persistent: {
      parameters: storedBytes(costs.total, pr) + up.params + referenceCopyBytes(ctx),
      optimizer_states: deviceOptimizerStateBytes(cfg, trainable, copies) + up.optimizerStates,
      communication_buffers: bucketBuffer,
    },
    persistentGradientBytes: gradBytes,
    pagedBytes: pagedOptimizerStateBytes(cfg, trainable, copies),
  };
}

/**
 * One backward segment's parameters stepped by their own optimizers (torchtune `register_optim_in_bwd_hooks`):
 * launched per parameter tensor, the segment's share of the model's tensors; the gradients are freed after.
 */
function stepInBackward(ctx: StrategyContext, rank: number, params: number, name: string, mb: number, after: number, extraGradBytes = 0): number {
  const { cfg, model, costs, builder: b } = ctx;
  const trainable = costs.total.trainableParams;
  const tensors = Math.max(1, Math.round((trainableTensorCount(model) * params) / trainable));
  const step = optimizerStep(cfg, { params, tensors, matrices: hiddenMatrices(model), matrixShare: params / trainable }, ctx.gpu);
  const gradBytes = params * bytesOf(cfg.precision.gradDtype) + extraGradBytes;
  return b.compute(rank, step.seconds, opTag({ kind: 'optimizer', phase: 'optimizer', label: `${optimizerLabel(cfg)} in backward: ${name}` }, mb), [after],
    [mem('start', step.temporaryBytes, 'optimizer_states'), mem('end', -step.temporaryBytes, 'optimizer_states'), mem('end', -gradBytes, 'gradients')]);
}

type RootDeltas = { params: number; gradHead: number; gradEmbedding: number; optimizerStates: number };

/**
 * Bytes of the root's trainable modules (embed_tokens, lm_head) beyond counting them in the trainable dtype:
 * Axolotl's fp32 embedding modules in a 16-bit full fine-tune, or PEFT modules_to_save copies kept in the base
 * dtype beside fp32 adapters (negative). Parameters are counted by `storedBytes` and optimizer states by
 * `deviceOptimizerStateBytes` with the copies split out; only the gradients are adjusted here.
 */
function rootDtypeDeltas(ctx: StrategyContext): RootDeltas {
  const up = fp32Embeddings(ctx);
  const { cfg, model, costs } = ctx;
  const copyEmbedding = costs.embedding.copyParams ?? 0;
  const copyHead = costs.head.copyParams ?? 0;
  if (!cfg.precision.copyDtype || copyEmbedding + copyHead === 0) return up;
  // With tied weights the embedding's gradient exists from the head's backward on (see lowerDdp).
  const tied = model.tiedEmbeddings && costs.embedding.trainableParams > 0;
  return {
    ...up,
    gradHead: up.gradHead + copyGradientDeltaBytes(copyHead + (tied ? copyEmbedding : 0), cfg.precision),
    gradEmbedding: up.gradEmbedding + copyGradientDeltaBytes(tied ? 0 : copyEmbedding, cfg.precision),
  };
}

/** Extra bytes of Axolotl's fp32 embedding modules over the 16-bit dtype (zero when they are not fp32). */
export function fp32Embeddings(ctx: StrategyContext): RootDeltas {
  const { cfg, model, costs } = ctx;
  const pr = cfg.precision;
  if (!pr.fp32EmbeddingModules) return { params: 0, gradHead: 0, gradEmbedding: 0, optimizerStates: 0 };
  const embedding = costs.embedding.trainableParams;
  const lmHead = model.tiedEmbeddings ? 0 : headWidth(model) * model.hiddenSize;
  // With tied weights the embedding's gradient exists from the head's backward on (see lowerDdp).
  const headGradParams = model.tiedEmbeddings ? embedding : lmHead;
  const embeddingGradParams = model.tiedEmbeddings ? 0 : embedding;
  const gradUp = 4 - bytesOf(pr.gradDtype);
  const stateUp = optimizerStateBytes(cfg.optimizer.spec, 'fp32') - pr.optimizerBytesPerParam;
  return {
    params: (embedding + lmHead) * (4 - bytesOf(pr.paramDtype)),
    gradHead: headGradParams * gradUp,
    gradEmbedding: embeddingGradParams * gradUp,
    optimizerStates: (embedding + lmHead) * stateUp,
  };
}
