import type { Cluster } from '../hardware/cluster.ts';
import type { CollectiveKind } from '../network/index.ts';
import type { MemoryChange } from '../engine/index.ts';
import { memoryBoundSeconds } from '../compute/kernels.ts';
import { resolveZeroBuckets, usesDeepSpeedCpuAdam } from '../config/deepspeed.ts';
import { bytesOf } from '../util/dtype.ts';
import type { StrategyContext, StrategyResult } from './context.ts';
import { collTag, mem, type OpTag, opTag } from './plan.ts';
import { hostShare, zeroBuckets, zeroDtypes, zeroGpuStep, type GradSegment } from './zero-common.ts';
import { lowerZero3 } from './zero3.ts';
import { emitNoGradForwards, lossReleasedAtHeadForward, referenceCopyBytes } from './trainer-passes.ts';

/** engine.py `MEMORY_OPT_ALLREDUCE_SIZE`: elements per AllReduce of the engine's own gradient reduction (BF16_Optimizer). */
const ENGINE_ALLREDUCE_ELEMENTS = 500_000_000;

/** DeepSpeed ZeRO through Axolotl's `deepspeed:` key: stage 3 in zero3.ts, stages 1 and 2 here. */
export function lowerZero(ctx: StrategyContext, rank: number, cluster: Cluster): StrategyResult {
  const ds = ctx.cfg.deepspeed;
  if (!ds || ds.stage === 0) throw new Error(`lowerZero: strategy ${ctx.cfg.strategy} without a ZeRO config`);
  return ds.stage === 3 ? lowerZero3(ctx, rank, cluster) : lowerZero12(ctx, rank, cluster);
}

/**
 * ZeRO-1 and ZeRO-2 (deepspeed/runtime/zero/stage_1_and_2.py `DeepSpeedZeroOptimizer`) as HF Trainer drives
 * it through accelerate: full model-dtype parameters on every GPU, fp32 master weights + Adam states
 * partitioned 1/N.
 *
 * Gradient hooks (`create_gradient_handling_hooks`, registered with `contiguous_gradients` (default true),
 * `overlap_comm` or stage 2) hand each gradient to `process_gradients`, which reduces it only
 * `if self.partition_gradients or self.overlap_comm` and then only `if partition_gradients or
 * is_gradient_accumulation_boundary` (`reduce_ready_partitions_and_remove_grads`). So ZeRO-2 reduces every
 * micro-batch during backward (engine.py `allreduce_gradients`: "ZeRO stage >= 2 communicates during non
 * gradient accumulation boundaries as well"); ZeRO-1 with `overlap_comm` reduces during the final micro-batch's
 * backward; ZeRO-1 without it (the default: `overlap_comm` None → false below stage 3) reduces after that
 * backward (`reduce_gradients`, parameters in registration order) — earlier micro-batches only accumulate
 * full gradients in `param.grad`. (Older DeepSpeed releases forced `overlap_comm` and `contiguous_gradients`
 * off for stage 1 in `_configure_zero_optimizer`; current engine.py passes them through.)
 *
 * Buckets: with contiguous gradients each gradient is copied into the bucket buffer (`setup_buckets`: one
 * `reduce_bucket_size` buffer in the model dtype, two with `overlap_comm`) and `param.grad` re-pointed at it;
 * a bucket is reduced when the next gradient would overflow it. `average_tensor` with `reduce_scatter` and
 * `use_multi_rank_bucket_allreduce` (both default true) AllReduces the whole bucket and keeps this rank's
 * slice (`allreduce_and_scatter`); without the multi-rank option it reduces each rank's slice to its owner
 * (≈ a ReduceScatter); without `reduce_scatter`, or without contiguous gradients (`buffered_reduce_fallback`:
 * flatten, all_reduce, copy back), it AllReduces. With `overlap_comm` reductions run on their own stream and
 * launching one makes compute wait for the previous one (`current_stream().wait_stream(reduction_stream)`);
 * without it they block compute. This rank's slices land in `grads_in_partition` (model dtype), accumulated
 * across micro-batches by `independent_gradient_partition_epilogue`.
 *
 * With bf16 and `data_types.grad_accum_dtype: fp32`, stage 1 runs `BF16_Optimizer` instead (engine.py
 * `_do_optimizer_sanity_check`): a full fp32 gradient buffer, filled from the bf16 grads after each backward
 * (`immediate_grad_update` defaults to false, precision_config.py) and AllReduced after the final backward by
 * the engine (`buffered_allreduce_fallback`, 5e8-element buckets).
 *
 * Step: the flat master-dtype gradient of the partition, Adam on the partition, copy into the model-dtype
 * partition, then `all_gather_dp_groups` of the updated parameters in `allgather_bucket_size` shards.
 * `offload_optimizer`: gradient slices go to host memory as they are reduced (D2H; with accumulation the host
 * partition is accumulated through the GPU, `async_accumulate_grad_in_cpu_via_gpu`), Adam runs on the CPU
 * (DeepSpeedCPUAdam) and the updated model-dtype partition is copied back (H2D) before the AllGather.
 */
function lowerZero12(ctx: StrategyContext, rank: number, cluster: Cluster): StrategyResult {
  const { cfg, model, costs, memory: Mem, builder: b } = ctx;
  const ds = cfg.deepspeed!;
  const stage = ds.stage as 1 | 2;
  const L = model.numLayers;
  const GA = cfg.batch.gradientAccumulationSteps;
  const N = ctx.dataParallel.size;
  const d = zeroDtypes(cfg);
  const P = bytesOf(d.model);
  const commB = bytesOf(d.comm);
  // ZeRO-1/2 partition what trains (gradients, master weights, optimizer states); every GPU keeps all the
  // (model-dtype) parameters, frozen ones included (PEFT under DeepSpeed).
  const psi = costs.total.trainableParams;
  const local = Math.ceil(psi / N);
  const offload = ds.offloadOptimizer !== undefined;
  const host = hostShare(cluster, ds.offloadOptimizer?.pinMemory ?? false, ds);
  const bf16Optimizer = stage === 1 && d.grad === 'fp32' && d.model !== 'fp32';
  // CPU offload requires contiguous gradients (`self.contiguous_gradients = contiguous_gradients or self.cpu_offload`).
  const contiguous = !bf16Optimizer && (ds.contiguousGradients || offload);
  const overlap = !bf16Optimizer && ds.overlapComm;
  const hookReduces = (mb: number) => !bf16Optimizer && (stage === 2 || (overlap && mb === GA - 1));
  const bucketElements = resolveZeroBuckets(ds, model.hiddenSize).reduceBucketElements;
  const reduceKind: CollectiveKind = contiguous && ds.reduceScatter && !ds.useMultiRankBucketAllreduce ? 'reduce_scatter' : 'all_reduce';
  const ckpt = cfg.activationCheckpointing !== 'none';
  const H = Mem.head;
  const cacheLayers = Mem.autocastCache.layerBytes;
  const cacheRoot = Mem.autocastCache.rootBytes;
  const tag = opTag;
  const key = (what: string, mb: number) => (b.multiRank ? `${what}:mb${mb}` : '');

  // Backward segments in execution order (head, layers L-1..0, embedding), one per weight tensor.
  type Seg = GradSegment & { name: string; seconds: number; layer?: number };
  const segments: Seg[] = [{ name: 'head (norm, lm_head, loss)', seconds: costs.head.backwardSeconds, params: costs.head.trainableParams }];
  for (let i = L - 1; i >= 0; i--) {
    for (const s of costs.layers[i]!.backwardSegments) segments.push({ name: `layer ${i} ${s.name}`, seconds: s.seconds, params: s.params, layer: i });
  }
  segments.push({ name: 'embedding', seconds: costs.embedding.backwardSeconds, params: costs.embedding.trainableParams });
  const Vh = model.vocabSize * model.hiddenSize;
  const tied = model.tiedEmbeddings && costs.embedding.trainableParams > 0 ? Vh : 0;
  // With tied embeddings the lm_head matmul produces the embedding's gradient at the head's backward.
  const gradParamsOf = (si: number) => (si === 0 ? segments[0]!.params + tied : si === segments.length - 1 ? segments[si]!.params - tied : segments[si]!.params);
  const gradSegments = segments.map((_, i) => ({ params: gradParamsOf(i) }));

  const hookBuckets = zeroBuckets(gradSegments, bucketElements);
  const postBuckets = zeroBuckets([...gradSegments].reverse(), bf16Optimizer ? ENGINE_ALLREDUCE_ELEMENTS : bucketElements);
  const bucketBufferBytes = contiguous ? (overlap ? 2 : 1) * bucketElements * P : 0;

  // Persistent GPU state. CPU offload keeps a model-dtype staging buffer of the largest tensor on the GPU
  // (`temp_grad_buffer_for_gpu_offload`); BF16_Optimizer allocates its full fp32 gradient buffer at init.
  const largestTensor = Math.max(Vh, ...costs.layers.flatMap((l) => l.backwardSegments.map((s) => s.params)));
  const persistentBuffers = offload ? largestTensor * P : 0;
  const fp32GradBuffer = bf16Optimizer ? psi * 4 : 0;
  const fullGradBytes = psi * P;
  const partitionGradBytes = offload ? 0 : local * P;

  let lastOfPrev = -1;
  let lastReduce = -1;

  for (const mb of ctx.microBatches) {
    const boundary = mb === GA - 1;
    const hooks = hookReduces(mb);
    // ---- forward (as DDP: a full replica) ----
    const firstMem = mb === 0 && fp32GradBuffer > 0 ? [mem('start', fp32GradBuffer, 'gradients')] : [];
    let prev = b.compute(rank, costs.embedding.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'embedding' }, mb), emitNoGradForwards(ctx, rank, mb, 'before', [lastOfPrev, lastReduce]), firstMem);
    for (let i = 0; i < L; i++) {
      prev = b.compute(rank, costs.layers[i]!.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: `layer ${i}`, layer: i, flops: costs.layers[i]!.forwardFlops }, mb), [prev],
        [mem('start', cacheLayers[i]!, 'parameters'), mem('start', Mem.layers[i]!.savedBytes, 'activations')]);
    }
    const headFMem = [mem('start', cacheRoot, 'parameters'), mem('start', H.savedBytes, 'activations'), mem('start', H.lossForwardBytes, 'activations'),
      mem('end', -lossReleasedAtHeadForward(ctx), 'activations')];
    if (ckpt) headFMem.push(mem('end', -cacheLayers.reduce((a, x) => a + x, 0), 'parameters'));
    prev = b.compute(rank, costs.head.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'head (norm, lm_head, loss)', flops: costs.head.forwardFlops }, mb), [prev], headFMem);
    // Preference trainers: the reference forwards under no_grad before backward (trainer-passes.ts).
    prev = emitNoGradForwards(ctx, rank, mb, 'after', [prev])[0]!;

    // ---- backward ----
    const reduces: number[] = [];
    let bucketIdx = 0;
    let waitFor = -1;
    segments.forEach((seg, si) => {
      const memory: MemoryChange[] = [];
      const g = gradParamsOf(si) * P;
      if (si === 0 && hooks) memory.push(mem('start', bucketBufferBytes, 'communication_buffers'));
      if (g > 0) {
        memory.push(mem('start', g, 'gradients'));
        if (hooks) {
          // The hook copies the (accumulated) gradient into the bucket buffer and re-points param.grad at it:
          // the new gradient and, under ZeRO-1 accumulation, the accumulated one are freed.
          memory.push(mem('end', -g * (stage === 1 && mb > 0 ? 2 : 1), 'gradients'));
        } else if (mb > 0 && !bf16Optimizer) {
          // Accumulated into param.grad (allocated by the first micro-batch): the new gradient is transient.
          memory.push(mem('end', -g, 'gradients'));
        }
      }
      if (si === segments.length - 1 && tied > 0) memory.push(mem('start', tied * P, 'gradients'), mem('end', -tied * P, 'gradients'));
      if (si === 0) {
        memory.push(mem('start', H.lossBackwardBytes, 'activations'), mem('end', -(H.lossHeldBytes + H.lossBackwardBytes + H.savedBytes), 'activations'), mem('end', -cacheRoot, 'parameters'));
      }
      const firstOfLayer = seg.layer !== undefined && (si === 0 || segments[si - 1]!.layer !== seg.layer);
      const lastOfLayer = seg.layer !== undefined && segments[si + 1]?.layer !== seg.layer;
      const lc = seg.layer !== undefined ? costs.layers[seg.layer]! : undefined;
      const act = seg.layer !== undefined ? Mem.layers[seg.layer]! : undefined;
      const cacheLayer = seg.layer !== undefined ? cacheLayers[seg.layer]! : 0;
      if (ckpt && firstOfLayer) {
        // Selective AC re-runs only what its policy did not save (costs.ts `recomputeSeconds`).
        prev = b.compute(rank, lc!.recomputeSeconds, tag({ kind: 'compute', phase: 'recompute', label: `layer ${seg.layer}`, layer: seg.layer!, flops: lc!.forwardFlops }, mb), [prev],
          [mem('start', cacheLayer, 'parameters'), mem('start', act!.recomputeBytes, 'activations')]);
      }
      if (firstOfLayer) memory.push(mem('start', act!.backwardWorkingBytes, 'activations'));
      if (lastOfLayer) memory.push(mem('end', -(act!.backwardWorkingBytes + act!.savedBytes + act!.recomputeBytes), 'activations'), mem('end', -cacheLayer, 'parameters'));
      const flops = lc ? (lc.backwardFlops * seg.seconds) / lc.backwardSeconds : si === 0 ? 2 * costs.head.forwardFlops : 0;
      // The hook's copy into the bucket buffer runs on the compute stream.
      const copySeconds = hooks && contiguous && g > 0 ? memoryBoundSeconds(2 * g, ctx.gpu, 1) : 0;
      prev = b.compute(rank, seg.seconds + copySeconds, tag({ kind: 'compute', phase: 'backward', label: seg.name, ...(seg.layer !== undefined ? { layer: seg.layer } : {}), flops }, mb), [prev, waitFor], memory);
      waitFor = -1;
      if (!hooks) return;
      while (bucketIdx < hookBuckets.length && hookBuckets[bucketIdx]!.launchAfter === si) {
        const bk = hookBuckets[bucketIdx]!;
        const last = bucketIdx === hookBuckets.length - 1;
        // This rank's reduced slices land in grads_in_partition, allocated by the first copy of each backward.
        const rMem: MemoryChange[] = [];
        if (bucketIdx === 0) rMem.push(mem('end', partitionGradBytes, 'gradients'));
        if (last) rMem.push(mem('end', -bucketBufferBytes, 'communication_buffers'));
        const r = b.collective(rank, 'all_reduce', reduceKind, bk.elements * commB, ctx.dataParallel, key(`z-b${bucketIdx}`, mb),
          collTag('backward', `bucket ${bucketIdx} (${((bk.elements * commB) / 2 ** 20).toFixed(1)} MiB)`, mb), [prev, reduces[reduces.length - 1] ?? -1], rMem);
        const done = offload ? offloadGradCopy(r, bk.elements, mb, boundary) : r;
        // overlap_comm: launching this bucket makes compute wait for the previous one; otherwise for this one.
        waitFor = overlap ? (reduces[reduces.length - 1] ?? -1) : done;
        reduces.push(done);
        bucketIdx++;
      }
    });
    // Epilogue: the last reduction is waited for before the next micro-batch (and the step).
    if (reduces.length > 0) lastReduce = reduces[reduces.length - 1]!;
    if (hooks && stage === 2 && mb > 0 && partitionGradBytes > 0) {
      // This micro-batch's partition gradient is added into the one kept from micro-batch 0, then released.
      prev = b.compute(rank, memoryBoundSeconds(3 * partitionGradBytes, ctx.gpu, 1), tag({ kind: 'compute', phase: 'backward', label: 'accumulate gradient partition' }, mb), [prev, lastReduce],
        [mem('end', -partitionGradBytes, 'gradients')]);
    }
    if (bf16Optimizer) {
      // BF16_Optimizer.update_hp_grads: every bf16 gradient is added into the fp32 buffer, then the bf16 ones are freed.
      prev = b.compute(rank, memoryBoundSeconds(psi * (P + 8), ctx.gpu, 2), tag({ kind: 'compute', phase: 'backward', label: 'accumulate fp32 gradients' }, mb), [prev],
        [mem('end', -fullGradBytes, 'gradients')]);
    }
    lastOfPrev = prev;
  }

  // ---- ZeRO-1 without overlap_comm (and BF16_Optimizer): reduce after the final backward, blocking compute ----
  let prev = lastOfPrev;
  if (stage === 1 && !hookReduces(GA - 1)) {
    const srcB = bf16Optimizer ? 4 : P;
    const mbLast = GA - 1;
    postBuckets.forEach((bk, k) => {
      const e = bk.elements;
      const bytes = e * srcB;
      const castBytes = commB !== srcB ? e * commB : 0;
      let r: number;
      if (contiguous) {
        // Copy into the bucket buffer, re-pointing (and so freeing) the accumulated param.grad.
        const copyIn = b.compute(rank, memoryBoundSeconds(2 * bytes, ctx.gpu, 1), tag({ kind: 'compute', phase: 'backward', label: `bucket ${k} copy-in` }, mbLast), [prev],
          [...(k === 0 ? [mem('start', bucketBufferBytes, 'communication_buffers')] : []), mem('end', -bytes, 'gradients')]);
        r = b.collective(rank, 'all_reduce', reduceKind, e * commB, ctx.dataParallel, key(`z1-b${k}`, mbLast),
          collTag('backward', `bucket ${k} (${((e * commB) / 2 ** 20).toFixed(1)} MiB)`, mbLast), [copyIn],
          k === 0 ? [mem('end', partitionGradBytes, 'gradients')] : []);
        prev = offload ? offloadGradCopy(r, e, mbLast, true) : r;
      } else {
        // buffered_reduce_fallback → allreduce_and_copy: flatten (and cast), all_reduce, copy back.
        const flat = b.compute(rank, memoryBoundSeconds(2 * bytes + 2 * castBytes, ctx.gpu, 2), tag({ kind: 'compute', phase: 'backward', label: `bucket ${k} flatten` }, mbLast), [prev],
          [mem('start', bytes + castBytes, 'communication_buffers')]);
        r = b.collective(rank, 'all_reduce', 'all_reduce', e * commB, ctx.dataParallel, key(`z1-b${k}`, mbLast),
          collTag('backward', `bucket ${k} (${((e * commB) / 2 ** 20).toFixed(1)} MiB)`, mbLast), [flat]);
        prev = b.compute(rank, memoryBoundSeconds(2 * bytes + 2 * castBytes, ctx.gpu, 2), tag({ kind: 'compute', phase: 'backward', label: `bucket ${k} copy back` }, mbLast), [r],
          [mem('end', -(bytes + castBytes), 'communication_buffers')]);
      }
    });
    // Epilogue: the bucket buffer goes; without contiguous gradients, gradients outside this rank's partition are dropped.
    const epilogue: MemoryChange[] = [];
    if (contiguous) epilogue.push(mem('end', -bucketBufferBytes, 'communication_buffers'));
    else if (!bf16Optimizer) epilogue.push(mem('end', -(fullGradBytes - local * P), 'gradients'));
    if (epilogue.length > 0) prev = b.compute(rank, 0, tag({ kind: 'compute', phase: 'backward', label: 'reduce epilogue' }, mbLast), [prev], epilogue);
  }

  // ---- optimizer step ----
  const mbLast = GA - 1;
  const stepTag = (label: string): OpTag => opTag({ kind: 'optimizer', phase: 'optimizer', label }, mbLast);
  let updated: number;
  if (!offload) {
    const gpuStep = zeroGpuStep(cfg, ds, d, local, ctx.gpu, { gradIsMasterView: bf16Optimizer });
    const norm = b.compute(rank, gpuStep.normSeconds, stepTag('gradient norm'), [prev, lastReduce]);
    const normAr = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, 'zero-grad-norm', collTag('optimizer', 'grad norm', mbLast), [norm]);
    // The flat master-dtype gradient replaces the partition gradient (freed), lives through Adam, then goes.
    const gradHeld = bf16Optimizer ? 0 : local * P;
    updated = b.compute(rank, gpuStep.stepSeconds, stepTag(`Adam on the 1/${N} partition`), [normAr],
      [mem('start', gpuStep.temporaryBytes, 'optimizer_states'), mem('start', -gradHeld, 'gradients'), mem('end', -gpuStep.temporaryBytes, 'optimizer_states')]);
  } else {
    // The gradients already went to host memory bucket by bucket.
    const normAr = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, 'zero-grad-norm', collTag('optimizer', 'grad norm', mbLast), [prev, lastReduce]);
    const cpu = b.host(rank, local / host.cpuAdamParamsPerSecond, stepTag(`${usesDeepSpeedCpuAdam(ds) ? 'DeepSpeedCPUAdam' : 'torch AdamW'} on the 1/${N} partition (host)`), [normAr]);
    updated = b.copy(rank, 'host_to_device', local * P, host.h2dBytesPerSecond, { phase: 'optimizer', label: 'updated parameter partition → GPU', microBatch: mbLast }, [cpu]);
  }
  // all_gather_dp_groups (runtime/utils.py): the flat model-dtype buffer gathered in place, in shards of ≤ allgather_bucket_size.
  const shards = Math.max(1, Math.floor((local * N) / ds.allgatherBucketSize));
  let ag = updated;
  for (let s = 0; s < shards; s++) {
    ag = b.collective(rank, 'all_gather', 'all_gather', Math.ceil(local / shards) * N * P, ctx.dataParallel, `zero-ag${s}`,
      collTag('optimizer', `updated parameters${shards > 1 ? ` ${s + 1}/${shards}` : ''}`, mbLast), [ag]);
  }

  return {
    persistent: {
      parameters: psi * P + costs.total.frozenParams * bytesOf(cfg.precision.frozenDtype) + costs.total.quantizedBytes + referenceCopyBytes(ctx),
      optimizer_states: offload ? 0 : local * (bytesOf(d.master) + 2 * bytesOf(d.state)),
      communication_buffers: persistentBuffers,
    },
    // Model states as the ZeRO paper counts them: ZeRO-1 keeps full gradients through backward, ZeRO-2 a partition.
    persistentGradientBytes: bf16Optimizer ? fp32GradBuffer : stage === 1 ? fullGradBytes : partitionGradBytes,
  };

  /**
   * After a bucket is reduced, this rank's slice goes to host memory (copy_grads_in_partition, CPU offload):
   * with accumulation the host partition is brought back, added on the GPU and copied out each micro-batch
   * (`async_accumulate_grad_in_cpu_via_gpu`); at the boundary the slice is upcast to fp32 and copied into
   * the fp32 gradient of the CPU optimizer. DeepSpeed issues them on the reduction stream: the next
   * reduction waits for them.
   */
  function offloadGradCopy(after: number, elements: number, mb: number, atBoundary: boolean): number {
    const slice = Math.ceil(elements / N);
    let bytesD2H = atBoundary ? slice * 4 : 0;
    let bytesH2D = 0;
    if (GA > 1) {
      bytesD2H += slice * P;
      if (mb > 0) bytesH2D += slice * P;
    }
    let last = after;
    if (bytesH2D > 0) last = b.copy(rank, 'host_to_device', bytesH2D, host.h2dBytesPerSecond, { phase: 'backward', label: 'accumulated gradient slice → GPU', microBatch: mb }, [last]);
    if (bytesD2H > 0) last = b.copy(rank, 'device_to_host', bytesD2H, host.d2hBytesPerSecond, { phase: 'backward', label: 'gradient slice → CPU', microBatch: mb }, [last]);
    return last;
  }
}
