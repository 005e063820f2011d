/**
 * Bytes of a parameter share (src/strategy/costs.ts ParamShare) under a precision: trainable parameters in
 * the persistent parameter dtype, frozen ones in the frozen dtype, quantised weights as stored.
 */
import type { Precision } from '../config/types.ts';
import { bytesOf } from '../util/dtype.ts';
import type { ParamShare } from './costs.ts';

/** The share split `ways` ways (FSDP / ZeRO-3 shards every tensor on dim 0, rounded up). */
export function shardOf(s: ParamShare, ways: number): ParamShare {
  // Always a new object of one shape (not the input itself, which may be a layer's whole costs): a plan's
  // shares are then read monomorphically, and an unsharded one no longer deoptimises code built on sharded ones.
  if (ways <= 1) return { params: s.params, trainableParams: s.trainableParams, frozenParams: s.frozenParams, quantizedBytes: s.quantizedBytes, copyParams: s.copyParams };
  return {
    params: Math.ceil(s.params / ways),
    trainableParams: Math.ceil(s.trainableParams / ways),
    frozenParams: Math.ceil(s.frozenParams / ways),
    quantizedBytes: Math.ceil(s.quantizedBytes / ways),
    copyParams: s.copyParams ? Math.ceil(s.copyParams / ways) : undefined,
  };
}

/**
 * Trainable elements of the share in the adapters' / parameters' dtype, and PEFT modules_to_save copies that
 * keep the base dtype (`Precision.copyDtype`: PEFT's fp32 upcast, peft/tuners/tuners_utils.py
 * `cast_adapter_dtype`, only visits adapter layers).
 */
export function trainableSplit(s: ParamShare, pr: Precision): { main: number; copies: number } {
  const copies = pr.copyDtype ? Math.min(s.copyParams ?? 0, s.trainableParams) : 0;
  return { main: s.trainableParams - copies, copies };
}

/** What the share occupies between steps. */
export function storedBytes(s: ParamShare, pr: Precision): number {
  const t = trainableSplit(s, pr);
  return t.main * bytesOf(pr.paramDtype) + (t.copies > 0 ? t.copies * bytesOf(pr.copyDtype!) : 0) + s.frozenParams * bytesOf(pr.frozenDtype) + s.quantizedBytes;
}

/** Bytes of the share's gradients: trainable parameters in the gradient dtype, modules_to_save copies in theirs. */
export function gradientBytes(s: ParamShare, pr: Precision): number {
  const t = trainableSplit(s, pr);
  return t.main * bytesOf(pr.gradDtype) + (t.copies > 0 ? t.copies * bytesOf(pr.copyDtype!) : 0);
}

/**
 * Gradient bytes of `copies` modules_to_save elements beyond what counting them in the gradient dtype gives
 * (negative when the copies are narrower than the fp32 adapters).
 */
export function copyGradientDeltaBytes(copies: number, pr: Precision): number {
  return pr.copyDtype ? copies * (bytesOf(pr.copyDtype) - bytesOf(pr.gradDtype)) : 0;
}

/**
 * What gathering the share moves and occupies unsharded: FSDP casts every floating-point parameter of a group
 * to the policy's param_dtype for the all-gather (frozen ones too); quantised storage travels as stored
 * (FSDP + QLoRA packs NF4 into `bnb_4bit_quant_storage`).
 */
export function gatheredBytes(s: ParamShare, dtype: Precision['gatherDtype']): number {
  return (s.trainableParams + s.frozenParams) * bytesOf(dtype) + s.quantizedBytes;
}
