/**
 * Kernel time and parameter shares of one projection of a decoder layer on one GPU: the base GEMM, the
 * dequantisation a quantised weight needs before each use, and a LoRA adapter beside it.
 *
 * - Backward of y = x·W: the input gradient dX = dY·Wᵀ always runs (the gradient flows on to earlier layers);
 *   the weight gradient dW = Xᵀ·dY only when W trains (autograd skips it for a frozen weight,
 *   derivatives.yaml `mm`).
 * - A quantised frozen weight (bitsandbytes Linear4bit, `MatMul4Bit`; LLM.int8) is dequantised to the compute
 *   dtype by its own kernel before the forward matmul and again before the backward's input-gradient matmul:
 *   a memory-bound pass reading the packed weight and its quantisation state and writing the 16-bit weight.
 * - Axolotl's fused LoRA kernels (kernels/lora.py), when they run: the adapter matmuls added in place into the
 *   base output, no separate scaling or add passes (see the branch below).
 * - LoRA (peft/tuners/lora/layer.py `Linear.forward`): `result + lora_B(lora_A(dropout(x))) * scaling` —
 *   a dropout pass over x when lora_dropout > 0, the skinny A (in → r) and B (r → out) matmuls, a scaling
 *   multiply and the add into the base output; backward runs both adapter matmuls' input and weight
 *   gradients, the scaling and dropout backward, and accumulates A's input gradient into x's.
 */
import { float8GemmSeconds, gemmBackwardSeconds, gemmSeconds, memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import { gemmFlops } from '../model/flops.ts';
import type { Gemm, LinearSpec } from '../model/types.ts';
import type { Dtype } from '../util/dtype.ts';
import { bytesOf } from '../util/dtype.ts';

export interface ProjectionCosts {
  forwardSeconds: number;
  backwardSeconds: number;
  forwardFlops: number;
  backwardFlops: number;
  /** Local parameter elements that get gradients: the weight and bias when they train, else the adapter's. */
  trainableParams: number;
  /** Local frozen elements kept in the model dtype (a frozen, unquantised weight and bias). */
  frozenParams: number;
  /** Local bytes of quantised frozen storage (weight + quantisation state). */
  quantizedBytes: number;
  /** Kernels this projection launches forward and backward (for the host launch floor). */
  kernels: { forward: number; backward: number };
}

/**
 * How routed experts' matmuls run (transformers `experts_implementation`, default "grouped_mm" with a fallback
 * to "eager"; modeling_utils.py `get_correct_experts_implementation`): 'eager' loops over the experts with
 * one GEMM each; 'grouped_mm' (torch._grouped_mm, and Axolotl's ScatterMoE / SonicMoE kernels) runs every
 * expert's rows in one kernel.
 */
export type ExpertsImplementation = 'eager' | 'grouped_mm';

/**
 * The experts' GEMM `g` (m = all routed rows, k × n one expert's matrix) spread evenly over `count` experts.
 * Grouped: one kernel of `count` independent products (each expert's rows are its own tiles, so small
 * per-expert row counts waste tile work), never faster than streaming every expert's weights; eager: one
 * GEMM launch per expert.
 */
function expertGemmSeconds(g: Gemm, count: number, impl: ExpertsImplementation, gpu: GpuSpec, dtype: Dtype): number {
  const rows = Math.max(1, Math.round(g.m / count));
  if (impl === 'eager') return count * gemmSeconds({ ...g, m: rows }, gpu, dtype);
  return gemmSeconds({ ...g, m: rows, batch: count }, gpu, dtype);
}

/** dX = dY·Wᵀ per expert (rows × k from rows × n) and dW = Xᵀ·dY per expert (k × n, inner dimension = its rows). */
function expertBackwardSeconds(g: Gemm, count: number, impl: ExpertsImplementation, gpu: GpuSpec, dtype: Dtype, weightGrad: boolean): number {
  const dgrad = expertGemmSeconds({ name: `${g.name}.dgrad`, m: g.m, n: g.k, k: g.n }, count, impl, gpu, dtype);
  if (!weightGrad) return dgrad;
  const rows = Math.max(1, Math.round(g.m / count));
  const wgrad: Gemm = { name: `${g.name}.wgrad`, m: g.k, n: g.n, k: rows };
  return dgrad + (impl === 'eager' ? count * gemmSeconds(wgrad, gpu, dtype) : gemmSeconds({ ...wgrad, batch: count }, gpu, dtype));
}

/** `g` is the projection's local GEMM (src/model/flops.ts layerGemms: TP-sharded, experts' rows included). */
export function projectionCosts(l: LinearSpec, g: Gemm & { experts?: number }, gpu: GpuSpec, dtype: Dtype, implementation: ExpertsImplementation = 'grouped_mm', compiled = false, float8 = false): ProjectionCosts {
  // Linearized experts are a Python loop over nn.Linear modules.
  const expertsImpl: ExpertsImplementation = l.experts?.linear ? 'eager' : implementation;
  const p = bytesOf(dtype);
  const experts = g.experts ?? 1;
  const weight = g.k * g.n * experts;
  const bias = l.bias ? l.out * experts : 0;
  const fwdFlops = gemmFlops(g);
  let forwardSeconds: number;
  let backwardSeconds: number;
  let backwardFlops: number;
  if (g.experts) {
    forwardSeconds = expertGemmSeconds(g, experts, expertsImpl, gpu, dtype);
    backwardSeconds = expertBackwardSeconds(g, experts, expertsImpl, gpu, dtype, !l.frozen);
    backwardFlops = (l.frozen ? 1 : 2) * fwdFlops;
  } else if (l.frozen) {
    forwardSeconds = gemmSeconds(g, gpu, dtype);
    backwardSeconds = gemmSeconds({ name: `${g.name}.dgrad`, m: g.m, n: g.k, k: g.n }, gpu, dtype);
    backwardFlops = fwdFlops;
  } else if (float8 && float8Eligible(l, g)) {
    const f = float8LinearSeconds(g, gpu);
    forwardSeconds = f.forward;
    backwardSeconds = f.backward;
    backwardFlops = 2 * fwdFlops;
  } else {
    forwardSeconds = gemmSeconds(g, gpu, dtype);
    backwardSeconds = gemmBackwardSeconds(g, gpu, dtype);
    backwardFlops = 2 * fwdFlops;
  }
  let quantizedBytes = 0;
  let frozenParams = 0;
  if (l.frozen && l.quantized) {
    quantizedBytes = weight * l.quantized.bytesPerParam;
    frozenParams = bias;
    const dequant = memoryBoundSeconds(quantizedBytes + weight * p, gpu, experts);
    forwardSeconds += dequant;
    backwardSeconds += dequant;
  } else if (l.frozen) {
    frozenParams = weight + bias;
  }
  let trainableParams = l.frozen ? 0 : weight + bias;
  const launches = g.experts && expertsImpl === 'eager' ? experts : 1;
  const kernels = { forward: launches + (l.frozen && l.quantized ? 1 : 0), backward: launches * (l.frozen ? 1 : 2) + (l.frozen && l.quantized ? 1 : 0) };
  // Float8Linear's casts: an amax reduction and a scaled cast per operand (2 operands forward, 4 casts backward).
  if (float8 && !g.experts && !l.frozen && float8Eligible(l, g)) {
    kernels.forward += 4;
    kernels.backward += 8;
  }

  if (l.lora?.kernel) {
    // Axolotl's fused kernels (kernels/lora.py `matmul_lora`): X·A and an in-place `out.addmm_(XA, B, alpha=s)`
    // into the base output, one dropout of the group's input. Backward: `grad @ B` once for both dA and dX,
    // X·A recomputed (`A @ X_lora_t`) for dB, and dX accumulated in place (addmm_).
    const r = l.lora.r;
    const rows = g.m;
    const a: Gemm = { name: `${g.name}.lora_A`, m: rows, k: g.k, n: r };
    const bm: Gemm = { name: `${g.name}.lora_B`, m: rows, k: r, n: g.n };
    const dropout = l.lora.dropout && l.lora.kernel.lead ? memoryBoundSeconds(rows * g.k * (2 * p + 1), gpu, 1) : 0;
    forwardSeconds += dropout + gemmSeconds(a, gpu, dtype) + gemmSeconds(bm, gpu, dtype);
    backwardSeconds +=
      gemmSeconds({ name: `${g.name}.lora_gradB`, m: rows, k: g.n, n: r }, gpu, dtype) +
      gemmSeconds({ name: `${g.name}.lora_dA`, m: g.k, k: rows, n: r }, gpu, dtype) +
      gemmSeconds({ name: `${g.name}.lora_XA`, m: r, k: g.k, n: rows }, gpu, dtype) +
      gemmSeconds({ name: `${g.name}.lora_dB`, m: r, k: rows, n: g.n }, gpu, dtype) +
      gemmSeconds({ name: `${g.name}.lora_dX`, m: rows, k: r, n: g.k }, gpu, dtype);
    const adapterFlops = gemmFlops(a) + gemmFlops(bm);
    backwardFlops += 2 * adapterFlops;
    trainableParams += experts * (r * (g.k + g.n) + (l.lora.dora ? g.n : 0));
    kernels.forward += 2 + (dropout > 0 ? 1 : 0);
    kernels.backward += 5;
    return { forwardSeconds, backwardSeconds, forwardFlops: fwdFlops + adapterFlops, backwardFlops, trainableParams, frozenParams, quantizedBytes, kernels };
  }
  if (l.lora) {
    const r = l.lora.r;
    const rows = g.m;
    const a: Gemm = { name: `${g.name}.lora_A`, m: rows, k: g.k, n: r };
    const bm: Gemm = { name: `${g.name}.lora_B`, m: rows, k: r, n: g.n };
    const x = rows * g.k;
    const y = rows * g.n;
    // An fp32 adapter beside an unquantised 16-bit base: x → fp32 (`_cast_input_dtype`) and autocast's cast
    // back to 16 bits in forward; the gradient takes the same round trip in backward. Inductor fuses the round
    // trip into one copy (the 16-bit tensor A's matmul reads must still be written).
    const casts = !l.lora.castsInput ? 0 : compiled ? memoryBoundSeconds(x * 2 * p, gpu, 1) : memoryBoundSeconds(x * (p + 4) + x * (4 + p), gpu, 2);
    const dropoutF = l.lora.dropout ? memoryBoundSeconds(x * (2 * p + 1), gpu, 1) : 0;
    const dropoutB = l.lora.dropout ? memoryBoundSeconds(x * (2 * p + 1), gpu, 1) : 0;
    // scaling multiply (r p, w p) and the add into the base output (r 2p, w p) — one fused kernel under
    // torch.compile (r 2p, w p); backward: the scaled gradient.
    const scaleAdd = compiled ? memoryBoundSeconds(y * 3 * p, gpu, 1) : memoryBoundSeconds(y * 5 * p, gpu, 2);
    forwardSeconds += casts + dropoutF + gemmSeconds(a, gpu, dtype) + gemmSeconds(bm, gpu, dtype) + scaleAdd;
    // A's input gradient is added into x's gradient (r 2p, w p).
    backwardSeconds += casts + memoryBoundSeconds(y * 2 * p, gpu, 1) + gemmBackwardSeconds(bm, gpu, dtype) + gemmBackwardSeconds(a, gpu, dtype) + dropoutB + memoryBoundSeconds(x * 3 * p, gpu, 1);
    const adapterFlops = gemmFlops(a) + gemmFlops(bm);
    backwardFlops += 2 * adapterFlops;
    trainableParams += experts * (r * (g.k + g.n) + (l.lora.dora ? g.n : 0));
    // dropout, A, B, scale, add; backward: B and A (dgrad + wgrad each), scale, dropout, accumulate.
    kernels.forward += (l.lora.dropout ? 1 : 0) + 4 + (l.lora.castsInput ? 2 : 0);
    kernels.backward += 4 + 2 + (l.lora.dropout ? 1 : 0) + (l.lora.castsInput ? 2 : 0);
    return { forwardSeconds, backwardSeconds, forwardFlops: fwdFlops + adapterFlops, backwardFlops, trainableParams, frozenParams, quantizedBytes, kernels };
  }
  return { forwardSeconds, backwardSeconds, forwardFlops: fwdFlops, backwardFlops, trainableParams, frozenParams, quantizedBytes, kernels };
}

/**
 * accelerate's filter for torchao float8 (utils/ao.py filter_linear_layers): nn.Linear layers whose in and out
 * features are multiples of 16 (torch._scaled_mm's alignment) are converted; routed experts (3-D parameters)
 * are not nn.Linear. The local (TP-sharded) GEMM must keep the alignment too.
 */
function float8Eligible(l: LinearSpec, g: Gemm): boolean {
  return !l.experts && l.in % 16 === 0 && l.out % 16 === 0 && g.k % 16 === 0 && g.n % 16 === 0;
}

/**
 * torchao Float8Linear with the tensorwise recipe Axolotl configures (core/trainers/base.py
 * additional_accelerator_args; torchao/float8/float8_linear.py matmul_with_hp_or_float8_args): forward casts
 * the input and the weight to float8 and runs one scaled GEMM; it saves the 16-bit input and weight, so
 * backward casts again — the output gradient and the weight for dX, the output gradient and the input (in the
 * transposed layout) for dW — and runs two scaled GEMMs. Each dynamic cast is an amax reduction over the 16-bit
 * tensor and a scaled cast (read 2 B, read 2 B, write 1 B per element), memory-bound.
 */
function float8LinearSeconds(g: Gemm, gpu: GpuSpec): { forward: number; backward: number } {
  const cast = (elements: number) => memoryBoundSeconds(elements * 5, gpu, 2);
  const input = g.m * g.k;
  const weight = g.k * g.n;
  const output = g.m * g.n;
  const forward = cast(input) + cast(weight) + float8GemmSeconds(g, gpu);
  const dgrad = float8GemmSeconds({ name: `${g.name}.dgrad`, m: g.m, n: g.k, k: g.n }, gpu);
  const wgrad = float8GemmSeconds({ name: `${g.name}.wgrad`, m: g.k, n: g.n, k: g.m }, gpu);
  const backward = cast(output) + cast(weight) + cast(output) + cast(input) + dgrad + wgrad;
  return { forward, backward };
}
