/**
 * Bytes of a parameter share (src/strategy/costs.ts ParamShare) under a precision: trainable parameters in
 * the persistent parameter dtype, frozen ones in the frozen dtype, quantised weights as stored.
 */
import type { Precision } from '../config/types.ts';
import { bytesOf } from '../util/dtype.ts';
import type { ParamShare } from './costs.ts';

/** The share split `ways` ways (FSDP / ZeRO-3 shards every tensor on dim 0, rounded up). */
export function shardOf(s: ParamShare, ways: number): ParamShare {
  if (ways <= 1) return s;
  return {
    params: Math.ceil(s.params / ways),
    trainableParams: Math.ceil(s.trainableParams / ways),
    frozenParams: Math.ceil(s.frozenParams / ways),
    quantizedBytes: Math.ceil(s.quantizedBytes / ways),
  };
}

/** What the share occupies between steps. */
export function storedBytes(s: ParamShare, pr: Precision): number {
  return s.trainableParams * bytesOf(pr.paramDtype) + s.frozenParams * bytesOf(pr.frozenDtype) + s.quantizedBytes;
}

/**
 * What gathering the share moves and occupies unsharded: FSDP casts every floating-point parameter of a group
 * to the policy's param_dtype for the all-gather (frozen ones too); quantised storage travels as stored
 * (FSDP + QLoRA packs NF4 into `bnb_4bit_quant_storage`).
 */
export function gatheredBytes(s: ParamShare, dtype: Precision['gatherDtype']): number {
  return (s.trainableParams + s.frozenParams) * bytesOf(dtype) + s.quantizedBytes;
}
