import type { Cluster } from '../hardware/cluster.ts';
import type { MemoryChange } from '../engine/index.ts';
import { resolveZeroBuckets, usesDeepSpeedCpuAdam } from '../config/deepspeed.ts';
import { parameterCounts } from '../model/params.ts';
import type { ParamShare } from './costs.ts';
import { bytesOf } from '../util/dtype.ts';
import type { StrategyContext, StrategyResult } from './context.ts';
import { collTag, mem, type OpTag, opTag } from './plan.ts';
import { hostShare, persistentParamsOfLayer, zero3LayerHostOps, zeroBuckets, zeroDtypes, zeroGpuStep } from './zero-common.ts';
import { launchBoundSeconds } from '../compute/host-overhead.ts';
import { lossReleasedAtHeadForward } from './trainer-passes.ts';

/**
 * ZeRO-3 (deepspeed/runtime/zero/stage3.py `DeepSpeedZeroOptimizer_Stage3`, parameter fetching in
 * partitioned_param_coordinator.py) at decoder-layer resolution: the embedding, each decoder layer and the head
 * (final norm + lm_head, or the tied embedding) are the fetch units.
 *
 * Parameters: each rank holds 1/N of every tensor in the model dtype, except tensors with at most
 * `stage3_param_persistence_threshold` elements (norms, biases), which stay whole (`ds_persist`).
 * `fetch_sub_module` all-gathers a module's parameters on the all-gather stream into one flat buffer the
 * parameters view (`all_gather_coalesced`), then prefetches the next parameters of the recorded trace up to
 * min(`stage3_prefetch_bucket_size`, `stage3_max_live_parameters` − live) elements, and makes the compute
 * stream wait for the whole all-gather stream (`current_stream().wait_stream(allgather_stream)`), so a module's
 * compute also waits for the prefetches issued one module earlier. Without prefetch (Axolotl's bundled configs
 * set `max_live_parameters: 0`) the CPU running ahead still issues the next unit's gather while the current one
 * computes: the lookahead is at least one unit.
 *
 * Release: after a module's forward (and backward) its gathered parameters are freed unless they are used again
 * within `stage3_max_reuse_distance` elements of the trace (`__params_to_release`): the last layers (and the head)
 * can stay gathered from forward to backward, and are not gathered again.
 *
 * Gradients: every micro-batch, each gradient's hook copies it into the contiguous IPG bucket (on the
 * reduce-and-partition stream, `__add_grad_to_ipg_bucket`); a bucket that would overflow `reduce_bucket_size` is
 * reduce-scattered (`__avg_scatter_grads` → `reduce_scatter_coalesced`, with an interleaved copy of the bucket as
 * input) and this rank's slice is added into `grad_partitions_flat_buffer` (`partition_grads`, in
 * `data_types.grad_accum_dtype`). The end of each backward waits for the last one (epilogue). The optimizer then
 * runs per `sub_group_size` sub-group: an fp32 gradient is built (`_prepare_fp32_grad_for_sub_group`), Adam
 * updates the master partition, and the model-dtype partition is overwritten — no AllGather after the step; the
 * next forward gathers the new values.
 *
 * Offload: with `offload_optimizer` the gradient partition, master weights and Adam states live in host memory:
 * each reduced slice is copied out (and, after the first micro-batch, brought back to add into on the GPU), the
 * boundary copies an fp32 slice for the CPU optimizer, DeepSpeedCPUAdam runs on the host and the updated
 * partition is copied back in the model dtype.
 * With `offload_param` the model-dtype partitions live in host memory too: each gather first copies the unit's
 * partition to the GPU, and the step's copy back stays on the host.
 *
 * Host: the hooks run in Python on the CPU, tensor by tensor (zero-common.ts `zero3LayerHostOps`), besides the
 * layer's own kernel launches. A layer's forward, recompute and backward cannot be shorter than the host calls
 * they make (src/compute/host-overhead.ts): with little GPU work per rank (short sequences, micro-batch 1, many
 * small tensors — `stage3_param_persistence_threshold: 0` partitions every bias and norm) the step is host-bound.
 */
export function lowerZero3(ctx: StrategyContext, rank: number, cluster: Cluster): StrategyResult {
  const { cfg, model, costs, memory: Mem, builder: b } = ctx;
  const ds = cfg.deepspeed!;
  const L = model.numLayers;
  const GA = cfg.batch.gradientAccumulationSteps;
  const N = ctx.dataParallel.size;
  const d = zeroDtypes(cfg);
  const P = bytesOf(d.model);
  const G = bytesOf(d.grad);
  const M = bytesOf(d.master);
  const commB = bytesOf(d.comm);
  // ZeRO-3 partitions every parameter (frozen PEFT bases too; quantised storage as its model-dtype-byte
  // equivalent) and gathers it for use; gradients and optimizer state concern what trains.
  const P0 = bytesOf(zeroDtypes(cfg).model);
  const stored = (x: ParamShare) => x.trainableParams + x.frozenParams + x.quantizedBytes / P0;
  const psiAll = stored(costs.total);
  const localAll = Math.ceil(psiAll / N);
  const psi = costs.total.trainableParams;
  const local = Math.ceil(psi / N);
  const sizes = resolveZeroBuckets(ds, model.hiddenSize);
  const offloadOpt = ds.offloadOptimizer !== undefined;
  const offloadParam = ds.offloadParam !== undefined;
  const gradHost = hostShare(cluster, ds.offloadOptimizer?.pinMemory ?? false, ds);
  const paramHost = hostShare(cluster, ds.offloadParam?.pinMemory ?? false, ds);
  const ckpt = cfg.activationCheckpointing !== 'none';
  const H = Mem.head;
  const tag = opTag;
  const key = (what: string, mb: number) => (b.multiRank ? `${what}:mb${mb}` : '');

  // ---- what is gathered, what persists ----
  const counts = parameterCounts(model);
  const thr = sizes.paramPersistenceThreshold;
  const Vh = model.vocabSize * model.hiddenSize;
  const tied = model.tiedEmbeddings;
  const Lp = costs.layers.map(stored);
  const layerPersistent = model.layers.map((layer) => persistentParamsOfLayer(layer, thr));
  const layerGathered = Lp.map((n, i) => n - layerPersistent[i]!);
  const allLayers = Lp.reduce((a, n) => a + n, 0);
  const embParts = [counts.embedding, counts.positional].filter((n) => n > 0);
  const embGathered = embParts.filter((n) => n > thr).reduce((a, n) => a + n, 0);
  const normTensor = model.finalNorm.width;
  const finalNormPersistent = normTensor <= thr ? counts.finalNorm : 0;
  const headWeight = tied ? Vh : counts.lmHead;
  const headGathered = (headWeight > thr ? headWeight : 0) + (counts.finalNorm - finalNormPersistent);
  const persistentParams = layerPersistent.reduce((a, n) => a + n, 0) + embParts.filter((n) => n <= thr).reduce((a, n) => a + n, 0) + finalNormPersistent;

  // ---- release decisions (elements of the trace between a module's use and its next use) ----
  const maxReuse = ds.maxReuseDistance;
  const headTraversed = stored(costs.head) + (tied ? Vh : 0);
  const bwdFactor = ckpt ? 2 : 1; // checkpointed layers run their forward again in backward
  // Elements of the layers after layer i (between its forward use and its backward use).
  const after = Lp.map((_, i) => Lp.slice(i + 1).reduce((a, n) => a + n, 0));
  const keepLayer = Lp.map((_, i) => after[i]! + 2 * headTraversed + after[i]! * bwdFactor < maxReuse);
  const keepHead = maxReuse > 0;
  const keepEmbedding = tied ? allLayers + counts.finalNorm < maxReuse : allLayers * (1 + bwdFactor) + 2 * headTraversed < maxReuse;
  const keepHeadForEmbedding = tied && allLayers * bwdFactor < maxReuse;

  // ---- host-side floor: kernel launches plus ZeRO-3's per-tensor calls ----
  const framework = ctx.gpu.framework;
  const hostOps = model.layers.map((layer) => zero3LayerHostOps(layer, thr, N));
  const hostFloor = (seconds: number, ops: number) => (framework && seconds > 0 ? launchBoundSeconds(seconds, ops, framework) : seconds);
  const layerForwardSeconds = costs.layers.map((lc, i) => hostFloor(lc.forwardSeconds, (lc.hostKernels?.forward ?? 0) + hostOps[i]!.fetch + (keepLayer[i] ? 0 : hostOps[i]!.release)));
  const layerRecomputeSeconds = costs.layers.map((lc, i) => hostFloor(lc.recomputeSeconds, (lc.hostKernels?.recompute ?? 0) + (keepLayer[i] ? 0 : hostOps[i]!.fetch)));
  const layerBackwardStretch = costs.layers.map((lc, i) => {
    const ops = (lc.hostKernels?.backward ?? 0) + hostOps[i]!.reduce + hostOps[i]!.release + (!ckpt && !keepLayer[i] ? hostOps[i]!.fetch : 0);
    return lc.backwardSeconds > 0 ? hostFloor(lc.backwardSeconds, ops) / lc.backwardSeconds : 1;
  });

  // ---- prefetch lookahead, in fetch units (layers of the average gathered size) ----
  const meanGathered = layerGathered.reduce((a, n) => a + n, 0) / Math.max(1, L);
  const prefetchBudget = Math.min(sizes.prefetchBucketElements, ds.maxLiveParameters - meanGathered);
  const lookahead = Math.min(L + 1, prefetchBudget > 0 && meanGathered > 0 ? Math.max(1, Math.ceil(prefetchBudget / meanGathered)) : 1);

  // ---- gradient buckets over backward segments (head, layers L-1..0, embedding) ----
  type Seg = { name: string; seconds: number; params: number; layer?: number };
  const segments: Seg[] = [{ name: 'head (norm, lm_head, loss)', seconds: costs.head.backwardSeconds, params: costs.head.trainableParams + (tied && costs.embedding.trainableParams > 0 ? Vh : 0) }];
  for (let i = L - 1; i >= 0; i--) {
    for (const s of costs.layers[i]!.backwardSegments) segments.push({ name: `layer ${i} ${s.name}`, seconds: s.seconds * layerBackwardStretch[i]!, params: s.params, layer: i });
  }
  segments.push({ name: 'embedding', seconds: costs.embedding.backwardSeconds, params: costs.embedding.trainableParams - (tied && costs.embedding.trainableParams > 0 ? Vh : 0) });
  const buckets = zeroBuckets(segments, sizes.reduceBucketElements);
  const ipgBytes = ds.contiguousGradients ? sizes.reduceBucketElements * commB : 0;
  const gradPartitionBytes = offloadOpt ? 0 : local * G;

  // ---- the fetch units of one micro-batch in execution order, with what each gathers ----
  // Forward: embedding, layers 0..L-1, head; backward: head, layers L-1..0, embedding. With tied embeddings
  // the head's weight is the embedding's: a gathered embedding kept from forward serves the head, and a head
  // kept after its backward serves the embedding's backward.
  const headUsesEmbedding = tied && keepEmbedding;
  const headFwdGather = headUsesEmbedding ? 0 : headGathered;
  const headLiveAfterForward = headFwdGather > 0 && keepHead;
  const headBwdGather = headUsesEmbedding || headLiveAfterForward ? 0 : headGathered;
  const headServesEmbedding = !headUsesEmbedding && keepHeadForEmbedding;
  const embBwdGather = keepEmbedding || headServesEmbedding ? 0 : embGathered;
  type Unit = { label: string; phase: 'forward' | 'backward'; layer?: number; gather: number };
  const units: Unit[] = [{ label: 'embedding', phase: 'forward', gather: embGathered }];
  for (let i = 0; i < L; i++) units.push({ label: `layer ${i}`, phase: 'forward', layer: i, gather: layerGathered[i]! });
  units.push({ label: 'head', phase: 'forward', gather: headFwdGather });
  units.push({ label: 'head', phase: 'backward', gather: headBwdGather });
  for (let i = L - 1; i >= 0; i--) units.push({ label: `layer ${i}`, phase: 'backward', layer: i, gather: keepLayer[i] ? 0 : layerGathered[i]! });
  units.push({ label: 'embedding', phase: 'backward', gather: embBwdGather });

  let lastOfPrev = -1;
  let lastOfPrevRs = -1;

  for (const mb of ctx.microBatches) {
    const boundary = mb === GA - 1;
    const unitEnd: number[] = [];
    const gatherTask: number[] = [];
    let issued = 0;
    /**
     * fetch_sub_module for unit `p`: issue every gather up to `p + lookahead - 1` not issued yet (each gated on
     * the compute `lookahead + 1` units earlier, as far as the CPU runs ahead), and return the gathers the
     * compute stream then waits for (all issued so far: wait_stream).
     */
    const fetch = (p: number): number[] => {
      for (; issued < units.length && issued <= p + lookahead - 1; issued++) {
        const u = units[issued]!;
        if (u.gather <= 0) continue;
        let after = issued - lookahead - 1 >= 0 ? unitEnd[issued - lookahead - 1]! : lastOfPrev;
        let freeAfterGather = 0;
        const layer = u.layer !== undefined ? { layer: u.layer } : {};
        if (offloadParam) {
          const bytes = Math.ceil(u.gather / N) * P;
          after = b.copy(rank, 'host_to_device', bytes, paramHost.h2dBytesPerSecond, { phase: u.phase, label: `${u.label} partition → GPU`, ...layer, microBatch: mb }, [after, gatherTask[issued - 1] ?? -1],
            [mem('start', bytes, 'parameters', 'all_gather')]);
          freeAfterGather = bytes;
        }
        gatherTask[issued] = b.collective(rank, 'all_gather', 'all_gather', u.gather * P, ctx.dataParallel, key(`z3-ag${issued}`, mb),
          collTag(u.phase, u.label, mb, u.layer), [after], [mem('start', u.gather * P, 'parameters', 'all_gather'), ...(freeAfterGather > 0 ? [mem('end', -freeAfterGather, 'parameters', 'all_gather')] : [])]);
      }
      return gatherTask.filter((t) => t !== undefined);
    };
    const release = (elements: number): MemoryChange[] => (elements > 0 ? [mem('end', -elements * P, 'parameters', 'all_gather')] : []);

    // ---- forward ----
    let pos = 0;
    const firstMem: MemoryChange[] = mb === 0 && gradPartitionBytes > 0 ? [mem('start', gradPartitionBytes, 'gradients')] : [];
    let prev = b.compute(rank, costs.embedding.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'embedding' }, mb), [lastOfPrev, lastOfPrevRs, ...fetch(pos)],
      [...firstMem, ...(keepEmbedding ? [] : release(embGathered))]);
    unitEnd[pos++] = prev;
    for (let i = 0; i < L; i++) {
      prev = b.compute(rank, layerForwardSeconds[i]!, tag({ kind: 'compute', phase: 'forward', label: `layer ${i}`, layer: i, flops: costs.layers[i]!.forwardFlops }, mb), [prev, ...fetch(pos)],
        [mem('start', Mem.layers[i]!.savedBytes, 'activations'), ...(keepLayer[i] ? [] : release(layerGathered[i]!))]);
      unitEnd[pos++] = prev;
    }
    const headFMem = [mem('start', H.savedBytes, 'activations'), mem('start', H.lossForwardBytes, 'activations'), mem('end', -lossReleasedAtHeadForward(ctx), 'activations')];
    if (headFwdGather > 0 && !keepHead) headFMem.push(...release(headFwdGather));
    prev = b.compute(rank, costs.head.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'head (norm, lm_head, loss)', flops: costs.head.forwardFlops }, mb), [prev, ...fetch(pos)], headFMem);
    unitEnd[pos++] = prev;

    // ---- backward ----
    const rsTasks: number[] = [];
    let bucketIdx = 0;
    // Without overlap_comm the reduce-and-partition stream is the default stream: reductions block compute.
    let blockedBy = -1;
    segments.forEach((seg, si) => {
      const memory: MemoryChange[] = [];
      const firstOfLayer = seg.layer !== undefined && (si === 0 || segments[si - 1]!.layer !== seg.layer);
      const lastOfLayer = seg.layer !== undefined && segments[si + 1]?.layer !== seg.layer;
      const last = si === segments.length - 1;
      const lc = seg.layer !== undefined ? costs.layers[seg.layer]! : undefined;
      const act = seg.layer !== undefined ? Mem.layers[seg.layer]! : undefined;
      let deps: number[] = [prev, blockedBy];
      if (si === 0) {
        deps.push(...fetch(pos));
        memory.push(mem('start', H.lossBackwardBytes, 'activations'), mem('end', -(H.lossHeldBytes + H.lossBackwardBytes + H.savedBytes), 'activations'));
        if (!headUsesEmbedding && !headServesEmbedding) memory.push(...release(headGathered));
      }
      if (firstOfLayer) {
        const i = seg.layer!;
        deps.push(...fetch(pos));
        if (ckpt) {
          // Selective AC re-runs only what its policy did not save (costs.ts `recomputeSeconds`).
          prev = b.compute(rank, layerRecomputeSeconds[i]!, tag({ kind: 'compute', phase: 'recompute', label: `layer ${i}`, layer: i, flops: lc!.forwardFlops }, mb), deps,
            [mem('start', act!.recomputeBytes, 'activations')]);
          deps = [prev];
        }
        memory.push(mem('start', act!.backwardWorkingBytes, 'activations'));
      }
      if (last) {
        deps.push(...fetch(pos));
        if (keepEmbedding || embBwdGather > 0) memory.push(...release(embGathered));
        if (headServesEmbedding) memory.push(...release(headGathered));
      }
      // The gradient lives until the reduce-and-partition stream has copied it into the IPG bucket.
      const g = seg.params * P;
      memory.push(mem('start', g, 'gradients'), mem('end', -g, 'gradients'));
      if (lastOfLayer) memory.push(mem('end', -(act!.backwardWorkingBytes + act!.savedBytes + act!.recomputeBytes), 'activations'), ...release(layerGathered[seg.layer!]!));
      const flops = lc ? (lc.backwardFlops * seg.seconds) / (lc.backwardSeconds * layerBackwardStretch[seg.layer!]!) : si === 0 ? 2 * costs.head.forwardFlops : 0;
      prev = b.compute(rank, seg.seconds, tag({ kind: 'compute', phase: 'backward', label: seg.name, ...(seg.layer !== undefined ? { layer: seg.layer } : {}), flops }, mb), deps, memory);
      if (si === 0 || lastOfLayer || last) unitEnd[pos++] = prev;
      while (bucketIdx < buckets.length && buckets[bucketIdx]!.launchAfter === si) {
        const e = buckets[bucketIdx]!.elements;
        // reduce_scatter_coalesced's interleaved input copy and this rank's output slice, on the reduce-scatter stream.
        const scratch = e * commB + Math.ceil(e / N) * commB;
        let t = b.collective(rank, 'reduce_scatter', 'reduce_scatter', e * commB, ctx.dataParallel, key(`z3-rs${bucketIdx}`, mb),
          collTag('backward', `bucket ${bucketIdx} (${((e * commB) / 2 ** 20).toFixed(1)} MiB)`, mb), [prev, rsTasks[rsTasks.length - 1] ?? -1],
          [mem('start', scratch, 'communication_buffers', 'reduce_scatter'), mem('end', -scratch, 'communication_buffers', 'reduce_scatter')]);
        if (offloadOpt) t = offloadGradCopy(t, e, mb, boundary);
        rsTasks.push(t);
        if (!ds.overlapComm) blockedBy = t;
        bucketIdx++;
      }
    });
    // Epilogue: the compute stream waits for the reduce-and-partition stream before the next micro-batch.
    lastOfPrev = prev;
    lastOfPrevRs = rsTasks[rsTasks.length - 1] ?? -1;
  }

  // ---- optimizer step on the partition (per sub-group) ----
  const mbLast = GA - 1;
  const stepTag = (label: string): OpTag => opTag({ kind: 'optimizer', phase: 'optimizer', label }, mbLast);
  const largestTensorPartition = Math.ceil(Math.max(Vh, ...costs.layers.flatMap((l) => l.backwardSegments.map((s) => s.params))) / N);
  // sub_group_size 0 (Axolotl's bundled configs) makes every tensor its own sub-group (stage3.py `_create_fp16_sub_groups`).
  const subGroup = Math.min(local, Math.max(ds.subGroupSize, largestTensorPartition));
  if (!offloadOpt) {
    const gpuStep = zeroGpuStep(cfg, ds, d, local, ctx.gpu, { gradIsMasterView: false });
    const norm = b.compute(rank, gpuStep.normSeconds, stepTag('gradient norm'), [lastOfPrev, lastOfPrevRs]);
    const normAr = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, 'zero3-grad-norm', collTag('optimizer', 'grad norm', mbLast), [norm]);
    const temporary = subGroup * M + (gpuStep.temporaryBytes - local * M) * (subGroup / local);
    b.compute(rank, gpuStep.stepSeconds, stepTag(`Adam on the 1/${N} partition`), [normAr],
      [mem('start', temporary, 'optimizer_states'), mem('end', -temporary, 'optimizer_states')]);
  } else {
    const normAr = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, 'zero3-grad-norm', collTag('optimizer', 'grad norm', mbLast), [lastOfPrev, lastOfPrevRs]);
    const cpu = b.host(rank, local / gradHost.cpuAdamParamsPerSecond, stepTag(`${usesDeepSpeedCpuAdam(ds) ? 'DeepSpeedCPUAdam' : 'torch AdamW'} on the 1/${N} partition (host)`), [normAr]);
    if (!offloadParam) {
      // `fp16_partitioned_groups_flat[i].data.copy_(fp32_partitioned_groups_flat[i].data)`: a blocking
      // cross-device copy with a dtype change converts on the CPU, then copies the model dtype
      // (aten/src/ATen/native/cuda/Copy.cu `copy_kernel_cuda`: "For blocking transfers conversions are
      // performed on CPU to avoid allocating extra GPU memory").
      b.copy(rank, 'host_to_device', local * P, gradHost.h2dBytesPerSecond, { phase: 'optimizer', label: 'updated parameter partition → GPU', microBatch: mbLast }, [cpu]);
    }
  }

  return {
    persistent: {
      parameters: (offloadParam ? 0 : localAll * P) + persistentParams * P,
      optimizer_states: offloadOpt ? 0 : local * (M + 2 * bytesOf(d.state)),
      communication_buffers: ipgBytes,
    },
    persistentGradientBytes: gradPartitionBytes,
  };

  /**
   * `partition_grads` with the gradient buffer in host memory: the first micro-batch copies the reduced
   * slice out and back (`grad_buffer.to(device)`), later ones bring the host copy in, add and copy out; the
   * boundary also copies an fp32 slice for the CPU optimizer. DeepSpeed issues them on the reduce-and-partition
   * stream: the next reduction waits for them.
   */
  function offloadGradCopy(after: number, elements: number, mb: number, atBoundary: boolean): number {
    const slice = Math.ceil(elements / N);
    const out = b.copy(rank, 'device_to_host', slice * G + (atBoundary ? slice * 4 : 0), gradHost.d2hBytesPerSecond, { phase: 'backward', label: 'gradient slice → CPU', microBatch: mb }, [after]);
    return b.copy(rank, 'host_to_device', slice * G, gradHost.h2dBytesPerSecond, { phase: 'backward', label: 'gradient slice back to the GPU (accumulate)', microBatch: mb }, [out]);
  }
}
