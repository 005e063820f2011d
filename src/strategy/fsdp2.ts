import { bytesOf } from '../util/dtype.ts';
import type { StrategyContext, StrategyResult } from './context.ts';
import { mem, type OpTag } from './plan.ts';
import { clipGradNormSeconds, optimizerStep } from './optimizer.ts';

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
 */
export function lowerFsdp2(ctx: StrategyContext, rank: number): StrategyResult {
  const { cfg, model, costs, builder: b } = ctx;
  const L = model.numLayers;
  const GA = cfg.batch.gradientAccumulationSteps;
  const shard = ctx.dataParallel.size;
  const pr = cfg.precision;
  const reshard = cfg.fsdp.reshardAfterForward;
  const ckpt = cfg.activationCheckpointing === 'full';

  const gatherB = bytesOf(pr.gatherDtype);
  const reduceB = bytesOf(pr.reduceDtype);
  const computeB = bytesOf(pr.computeDtype);
  const layerParams = costs.layer.params;
  const rootParams = costs.rootParams;
  const unshardedLayer = layerParams * gatherB;
  const unshardedRoot = rootParams * gatherB;
  // Autograd produces unsharded gradients in the compute dtype; a different reduce_dtype needs an upcast copy.
  const gradLayer = layerParams * (computeB + (reduceB !== computeB ? reduceB : 0));
  const gradRoot = rootParams * (computeB + (reduceB !== computeB ? reduceB : 0));
  const accumulatedLayer = layerParams * reduceB;
  const accumulatedRoot = rootParams * reduceB;
  const shardedGrad = (n: number) => Math.ceil(n / shard) * bytesOf(pr.gradDtype);
  const localParams = Math.ceil(layerParams / shard) * L + Math.ceil(rootParams / shard);

  const saved = ckpt ? costs.layer.checkpointBytes : costs.layer.activationBytes;
  const tag = (t: Omit<OpTag, 'microBatch'>, mb: number): OpTag => ({ ...t, microBatch: mb });
  const key = (what: string, mb: number) => `${what}:mb${mb}`;

  let lastOfPrev = -1;
  const finalRs: number[] = [];

  for (let mb = 0; mb < GA; mb++) {
    const sync = mb === GA - 1;
    const firstMb = mb === 0;
    // ---- forward ----
    const agRoot = b.collective(rank, 'all_gather', 'all_gather', unshardedRoot, ctx.dataParallel, key('ag-root', mb),
      { phase: 'forward', label: 'root (embedding, norm, lm_head)', microBatch: mb }, [lastOfPrev], [mem('start', unshardedRoot, 'parameters')]);
    let prevCompute = b.compute(rank, costs.embedding.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'embedding' }, mb), [agRoot]);
    const fwd: number[] = [];
    const agF: number[] = [];
    for (let i = 0; i < L; i++) {
      const throttle = i >= 2 ? fwd[i - 2]! : -1;
      agF[i] = b.collective(rank, 'all_gather', 'all_gather', unshardedLayer, ctx.dataParallel, key(`ag-f${i}`, mb),
        { phase: 'forward', label: `layer ${i}`, layer: i, microBatch: mb }, [throttle, lastOfPrev], [mem('start', unshardedLayer, 'parameters')]);
      const memory = [mem('start', saved, 'activations')];
      if (reshard) memory.push(mem('end', -unshardedLayer, 'parameters'));
      fwd[i] = b.compute(rank, costs.layer.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: `layer ${i}`, layer: i, flops: costs.layer.forwardFlops }, mb), [agF[i]!, prevCompute], memory);
      prevCompute = fwd[i]!;
    }
    const logits = costs.head.logitsBf16Bytes + costs.head.logitsFp32Bytes;
    const headF = b.compute(rank, costs.head.forwardSeconds, tag({ kind: 'compute', phase: 'forward', label: 'head (norm, lm_head, loss)', flops: costs.head.forwardFlops }, mb), [prevCompute],
      [mem('start', logits, 'activations')]);
    // ---- backward ----
    const headB = b.compute(rank, costs.head.backwardSeconds, tag({ kind: 'compute', phase: 'backward', label: 'head (norm, lm_head, loss)', flops: 2 * costs.head.forwardFlops }, mb), [headF],
      [mem('start', costs.head.logitsFp32Bytes + costs.head.logitsBf16Bytes, 'activations'), mem('end', -(2 * logits), 'activations')]);
    prevCompute = headB;
    const bwd: number[] = [];
    const rsLayers: number[] = [];
    for (let i = L - 1; i >= 0; i--) {
      let gathered = -1;
      if (reshard) {
        const prefetchGate = i + 2 <= L - 1 ? bwd[i + 2]! : headF;
        gathered = b.collective(rank, 'all_gather', 'all_gather', unshardedLayer, ctx.dataParallel, key(`ag-b${i}`, mb),
          { phase: 'backward', label: `layer ${i}`, layer: i, microBatch: mb }, [prefetchGate], [mem('start', unshardedLayer, 'parameters')]);
      }
      if (ckpt) {
        prevCompute = b.compute(rank, costs.layer.forwardSeconds, tag({ kind: 'compute', phase: 'recompute', label: `layer ${i}`, layer: i, flops: costs.layer.forwardFlops }, mb),
          [prevCompute, gathered], [mem('start', costs.layer.activationBytes, 'activations')]);
      }
      const memory = [mem('end', -saved, 'activations'), mem('end', -unshardedLayer, 'parameters')];
      if (ckpt) memory.push(mem('end', -costs.layer.activationBytes, 'activations'));
      // The first backward of the step allocates the unsharded gradient; under no_sync it stays allocated.
      if (firstMb || sync) memory.push(mem('start', firstMb ? gradLayer : gradLayer - accumulatedLayer, 'gradients'));
      bwd[i] = b.compute(rank, costs.layer.backwardSeconds, tag({ kind: 'compute', phase: 'backward', label: `layer ${i}`, layer: i, flops: costs.layer.backwardFlops }, mb), [prevCompute, gathered], memory);
      prevCompute = bwd[i]!;
      if (!sync && firstMb && gradLayer !== accumulatedLayer) {
        // Keep only the accumulated copy between micro-batches.
        b.tasks[bwd[i]!]!.memory = [...b.tasks[bwd[i]!]!.memory!, mem('end', -(gradLayer - accumulatedLayer), 'gradients')];
      }
      if (sync) {
        rsLayers.push(b.collective(rank, 'reduce_scatter', 'reduce_scatter', layerParams * reduceB, ctx.dataParallel, key(`rs${i}`, mb),
          { phase: 'backward', label: `layer ${i}`, layer: i, microBatch: mb }, [bwd[i]!], [mem('end', -gradLayer, 'gradients'), mem('end', shardedGrad(layerParams), 'gradients')]));
      }
    }
    const embedMem = [mem('end', -unshardedRoot, 'parameters')];
    if (firstMb || sync) embedMem.unshift(mem('start', firstMb ? gradRoot : gradRoot - accumulatedRoot, 'gradients'));
    if (!sync && firstMb && gradRoot !== accumulatedRoot) embedMem.push(mem('end', -(gradRoot - accumulatedRoot), 'gradients'));
    const embedB = b.compute(rank, costs.embedding.backwardSeconds, tag({ kind: 'compute', phase: 'backward', label: 'embedding' }, mb), [prevCompute], embedMem);
    lastOfPrev = embedB;
    if (sync) {
      const rsRoot = b.collective(rank, 'reduce_scatter', 'reduce_scatter', rootParams * reduceB, ctx.dataParallel, key('rs-root', mb),
        { phase: 'backward', label: 'root (embedding, norm, lm_head)', microBatch: mb }, [embedB], [mem('end', -gradRoot, 'gradients'), mem('end', shardedGrad(rootParams), 'gradients')]);
      finalRs.push(...rsLayers, rsRoot);
    }
  }

  // ---- optimizer: clip_grad_norm_ (an all-reduce of the local norms), then AdamW on the local shard ----
  const gradBytes = shardedGrad(layerParams) * L + shardedGrad(rootParams);
  const clip = b.compute(rank, clipGradNormSeconds(cfg, localParams, ctx.gpu), { kind: 'optimizer', phase: 'optimizer', label: 'clip_grad_norm', microBatch: GA - 1 }, [lastOfPrev, ...finalRs]);
  const norm = b.collective(rank, 'all_reduce', 'all_reduce', 4, ctx.dataParallel, 'grad-norm', { phase: 'optimizer', label: 'grad norm', microBatch: GA - 1 }, [clip]);
  const step = optimizerStep(cfg, localParams, ctx.gpu);
  b.compute(rank, step.seconds, { kind: 'optimizer', phase: 'optimizer', label: cfg.optimizer.fused ? 'AdamW (fused)' : 'AdamW (foreach)', microBatch: GA - 1 }, [norm],
    [mem('start', step.temporaryBytes, 'optimizer_states'), mem('end', -step.temporaryBytes, 'optimizer_states'), mem('end', -gradBytes, 'gradients')]);

  return {
    persistent: {
      parameters: localParams * bytesOf(pr.paramDtype),
      optimizer_states: localParams * pr.optimizerBytesPerParam,
      communication_buffers: 0,
    },
    persistentGradientBytes: gradBytes,
  };
}
