/**
 * Activation offloading as TRL's OffloadActivations runs it (trl/models/activation_offloading.py, which
 * Axolotl wraps around every training step when `activation_offloading` is on; axolotl
 * core/trainers/mixins/activation_checkpointing.py): a saved-tensors hook copies every tensor autograd saves
 * (≥ 1 KiB) to pinned host memory on a side stream during forward — with checkpointing that is each layer's
 * checkpoint input, without it every saved activation — and the unpack hook brings it back during backward,
 * prefetching the next layer's tensors while the current one computes. The output head is left on the GPU.
 *
 * Here: after each layer's forward a device-to-host copy of what it saved frees that memory when the copy
 * ends; each layer's backward (or recompute) waits for a host-to-device copy that re-allocates it, issued when
 * the layer above starts its backward.
 */
import type { MemoryChange } from '../engine/index.ts';
import type { StrategyContext } from './context.ts';
import { mem } from './plan.ts';

export function offloadAfterForward(ctx: StrategyContext, rank: number, layer: number, microBatch: number, forward: number): void {
  if (!ctx.cfg.activationOffloading) return;
  const bytes = ctx.memory.layers[layer]!.savedBytes;
  if (bytes <= 0) return;
  ctx.builder.copy(rank, 'device_to_host', bytes, ctx.host.pinnedD2hBytesPerSecond, { phase: 'forward', label: `layer ${layer} activations → CPU`, layer, microBatch }, [forward],
    [mem('end', -bytes, 'activations')]);
}

/** The copy back before layer `layer`'s backward; returns the task its backward must wait for (or -1). */
export function reloadBeforeBackward(ctx: StrategyContext, rank: number, layer: number, microBatch: number, gate: number): number {
  if (!ctx.cfg.activationOffloading) return -1;
  const bytes = ctx.memory.layers[layer]!.savedBytes;
  if (bytes <= 0) return -1;
  const memory: MemoryChange[] = [mem('start', bytes, 'activations')];
  return ctx.builder.copy(rank, 'host_to_device', bytes, ctx.host.pinnedH2dBytesPerSecond, { phase: 'backward', label: `layer ${layer} activations → GPU`, layer, microBatch }, [gate], memory);
}
