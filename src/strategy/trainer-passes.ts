import { bytesOf } from '../util/dtype.ts';
import { noGradForwardsAround } from '../config/trainer.ts';
import type { StrategyContext } from './context.ts';
import { mem, opTag } from './plan.ts';

/**
 * The preference trainers' whole-model forwards without gradients (src/config/trainer.ts), lowered the same
 * way by every strategy that replicates the weights (DDP, DeepSpeed ZeRO-1/2; resolve.ts refuses them where
 * each layer would be gathered or synchronised again): one task per pass on the compute stream — the
 * embedding, every layer's forward, the head's logits and TRL's per-row log-probs — with nothing saved, no
 * recompute, no gradient hooks and no collectives, allocating only its transient peak
 * (src/memory/step-memory.ts `noGradForward`).
 *
 * `before` runs ahead of the trained forward (KTO's policy KL forward: TRL 1.8.0 kto_trainer.py
 * `_compute_loss` calls `_compute_kl_logps` under no_grad first); `after` between the head's forward and its
 * backward (the reference forwards: dpo_trainer.py / kto_trainer.py `_compute_loss` under `torch.no_grad()`),
 * while the trained forward's saved activations and logits are held. The last `after` pass ends with
 * compute_loss's return, which drops the trained logits (`heldUntilLossReturnsBytes`).
 * Returns the task ids the next task waits for.
 */
export function emitNoGradForwards(ctx: StrategyContext, rank: number, mb: number, where: 'before' | 'after', deps: number[]): number[] {
  const { cfg, costs, memory: M, builder: b } = ctx;
  const n = noGradForwardsAround(cfg.trainer)[where];
  const seconds = costs.embedding.forwardSeconds + costs.layers.reduce((a, l) => a + l.forwardSeconds, 0) + costs.head.noGradForwardSeconds;
  const flops = costs.layers.reduce((a, l) => a + l.forwardFlops, 0) + costs.head.forwardFlops;
  let waitFor = deps;
  for (let i = 0; i < n; i++) {
    const label = where === 'before' ? 'policy KL forward (no grad)' : 'reference forward (no grad)';
    const memory = [mem('start', M.noGradForward.peakBytes, 'activations'), mem('end', -M.noGradForward.peakBytes, 'activations')];
    if (where === 'after' && i === n - 1) memory.push(mem('end', -M.head.heldUntilLossReturnsBytes, 'activations'));
    waitFor = [b.compute(rank, seconds, opTag({ kind: 'compute', phase: 'forward', label, flops }, mb), waitFor, memory)];
  }
  return waitFor;
}

/**
 * What the head's forward frees when it ends: the loss's transient tensors, less those compute_loss keeps
 * referenced through the reference forwards that follow (released by the last of them).
 */
export function lossReleasedAtHeadForward(ctx: StrategyContext): number {
  const H = ctx.memory.head;
  const deferred = noGradForwardsAround(ctx.cfg.trainer).after > 0 ? H.heldUntilLossReturnsBytes : 0;
  return H.lossForwardBytes - H.lossHeldBytes - deferred;
}

/**
 * A full fine-tune's reference model: a whole frozen copy of the weights on every GPU in the model dtype —
 * DDP: `accelerator.prepare_model(ref_model, evaluation_mode=True)`; DeepSpeed ZeRO-1/2: TRL's
 * `prepare_deepspeed` initialises it at stage 0 ("we assume the reference model fits in memory and is
 * initialized on each device with ZeRO disabled").
 */
export function referenceCopyBytes(ctx: StrategyContext): number {
  const t = ctx.cfg.trainer;
  if (t.kind !== 'preference' || !t.referenceCopy) return 0;
  return ctx.costs.total.params * bytesOf(ctx.cfg.precision.computeDtype);
}
