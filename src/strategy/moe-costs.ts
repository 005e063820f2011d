/**
 * The memory-bound work around routed experts, per MoE layer on one GPU (transformers MoE blocks: router
 * softmax and top-k, then the experts function gathers each token's rows into expert order and scatters
 * the weighted expert outputs back; transformers/integrations/moe.py):
 *
 *   forward  router softmax in fp32 (read T·E logits, write T·E fp32), top-k and its normalisation,
 *            the sort/histogram that groups rows by expert, the gather of T·k rows of h, and the weighted
 *            combine of T·k expert rows back into T rows;
 *   backward the combine's backward (d expert rows, and the top-k weights' gradient as a dot product with
 *            each saved expert row), the gather's backward (index_add of T·k rows into T), softmax backward.
 */
import { memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import type { MoeFfn } from '../model/types.ts';

export function moeRoutingSeconds(ffn: MoeFfn, tokens: number, hidden: number, bytesPerElement: number, gpu: GpuSpec): { forward: number; backward: number } {
  const T = tokens;
  const E = ffn.numExperts;
  // Dense dispatch (Llama 4) repeats and scales every token for every expert and sums all their outputs.
  const k = ffn.denseDispatch ? E : ffn.topK;
  const p = bytesPerElement;
  const rows = T * k * hidden * p;
  const routerF = T * E * (p + 4) + T * E * 4 + T * k * 12 + T * k * 8;
  const routerB = T * E * 4 * 3 + T * k * 12;
  const forward = memoryBoundSeconds(routerF + 2 * rows + (rows + T * k * 4 + T * hidden * p), gpu, 8);
  const backward = memoryBoundSeconds(routerB + (T * hidden * p + 2 * rows) + (rows + T * hidden * p), gpu, 8);
  return { forward, backward };
}
