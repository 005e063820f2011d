/**
 * Storage of quantised weights, bytes per weight element including the quantisation state — format facts of
 * the libraries, not hardware constants:
 *
 * - bitsandbytes 4-bit (NF4 / FP4; bitsandbytes/functional.py `quantize_4bit`, Params4bit blocksize 64):
 *   two 4-bit codes per byte (0.5 B) plus one absmax per 64-element block. Plain: an fp32 absmax, 4/64 B.
 *   With double quantisation (`compress_statistics`, Axolotl's default) the absmaxes are themselves
 *   quantised blockwise to 8 bits in blocks of 256 (`quantize_blockwise`): 1/64 B plus one fp32 absmax per
 *   256 blocks, 4/(64·256) B (and one fp32 offset per tensor, negligible).
 * - LLM.int8 (bitsandbytes Linear8bitLt, `int8_vectorwise_quant`): one int8 per weight plus an fp32 scale per
 *   output row (SCB), 4/in B per element.
 * - GPTQ (auto-gptq / gptqmodel QuantLinear, `bits` 4, `group_size` 128): packed int32 qweight (bits/8 B) plus
 *   per-group fp16 scales and packed zero points (2/g + bits/(8·g) B).
 */
import type { WeightQuantization } from './types.ts';

export type QuantizationRequest =
  | { kind: 'nf4' | 'fp4'; doubleQuant: boolean; blockSize?: number }
  | { kind: 'int8'; inFeatures?: number }
  | { kind: 'gptq'; bits: number; groupSize: number };

const BNB4_BLOCK = 64;
const DQ_BLOCK = 256;

export function quantizationOf(q: QuantizationRequest): WeightQuantization {
  switch (q.kind) {
    case 'nf4':
    case 'fp4': {
      const block = q.blockSize ?? BNB4_BLOCK;
      const state = q.doubleQuant ? 1 / block + 4 / (block * DQ_BLOCK) : 4 / block;
      return { kind: q.kind, bytesPerParam: 0.5 + state };
    }
    case 'int8':
      // The per-row fp32 scale is small against any real row width; 4096 is the typical in_features.
      return { kind: 'int8', bytesPerParam: 1 + 4 / (q.inFeatures ?? 4096) };
    case 'gptq':
      return { kind: 'gptq', bytesPerParam: q.bits / 8 + 2 / q.groupSize + q.bits / (8 * q.groupSize) };
  }
}
