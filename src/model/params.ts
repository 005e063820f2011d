/**
 * Exact parameter counts from a ModelSpec, module by module, summing what each layer description carries:
 *
 *   embedding   V·h                           (embed_tokens / wte / embed_in)
 *   positional  P·h when a learned table exists (gpt2 wpe; mpt only without ALiBi/RoPE)
 *   per layer   every projection in·out (× experts) + its bias (out, × experts), every norm (h, or 2h with a
 *               LayerNorm bias), and the layer's other parameters (SSM A/D/dt, conv kernels, sinks …)
 *   final norm  one norm
 *   lm head     V·h unless tied
 *
 * Checked against the published counts (e.g. Llama-2-7b 6,738,415,616; Llama-3.1-8B 8,030,261,248;
 * gpt2 124,439,808; pythia-1b 1,011,781,632) in test/model/params.test.ts.
 */
import { loraParams } from './peft.ts';
import type { LayerSpec, LinearSpec, ModelSpec, NormSpec, ParameterCounts } from './types.ts';

/** Output width of the head: the vocabulary (lm_head), or a classification head's labels. */
export function headWidth(spec: Pick<ModelSpec, 'vocabSize' | 'headOutputs'>): number {
  return spec.headOutputs ?? spec.vocabSize;
}

/** Parameters of one norm module. */
export function normParams(norm: NormSpec): number {
  return norm.kind === 'layernorm' && norm.bias ? 2 * norm.width : norm.width;
}

/** Weight + bias of one projection, over all its experts. */
export function linearParams(l: LinearSpec): number {
  return (l.experts?.count ?? 1) * (l.in * l.out + (l.bias ? l.out : 0));
}

/** Weights of the layer's matrices (no biases, norms or other parameters): the GEMM operands, all experts. */
export function matmulParamsOfLayer(layer: LayerSpec): number {
  return layer.linears.reduce((a, l) => a + (l.experts?.count ?? 1) * l.in * l.out, 0);
}

/** Every parameter of one decoder layer. */
export function layerParams(layer: LayerSpec): number {
  return layer.linears.reduce((a, l) => a + linearParams(l), 0) + layer.norms.reduce((a, n) => a + normParams(n), 0) + layer.extraParams;
}

export function parameterCounts(spec: ModelSpec): ParameterCounts {
  const embedding = spec.vocabSize * spec.hiddenSize;
  const positional = spec.learnedPositions ? spec.maxPositions * spec.hiddenSize : 0;
  const perLayer = spec.layers.map(layerParams);
  const layers = perLayer.reduce((a, b) => a + b, 0);
  const finalNorm = normParams(spec.finalNorm);
  const lmHead = (spec.tiedEmbeddings ? 0 : headWidth(spec) * spec.hiddenSize) + (spec.lmHeadBias ? headWidth(spec) : 0);
  const total = embedding + positional + layers + finalNorm + lmHead;
  return { embedding, positional, layers, perLayer, finalNorm, lmHead, total };
}

/**
 * Parameters multiplied as GEMM weights by one token: every layer's matrices (for routed experts only the
 * top-k a token visits) plus the output projection V·h — counted even when tied, because the logits matmul
 * is still executed — but not the embedding/position lookups (gathers, no FLOPs), biases or norms.
 */
export function matmulParams(spec: ModelSpec): number {
  let n = headWidth(spec) * spec.hiddenSize;
  for (const layer of spec.layers) for (const l of layer.linears) n += (l.experts?.topK ?? 1) * l.in * l.out;
  return n;
}

/**
 * Parameters a token touches: every parameter except the routed experts it does not visit (for each routed
 * projection, count − topK experts' weights and biases). Equal to the total for dense models.
 */
export function activeParameters(spec: ModelSpec): number {
  let inactive = 0;
  for (const layer of spec.layers) {
    for (const l of layer.linears) if (l.experts) inactive += (l.experts.count - l.experts.topK) * (l.in * l.out + (l.bias ? l.out : 0));
  }
  return parameterCounts(spec).total - inactive;
}

/**
 * What PEFT's `print_trainable_parameters` reports as trainable: without PEFT every parameter; with it the
 * LoRA adapters (r·(in + out) per adapted projection, DoRA's magnitude vectors) and the trainable copies
 * `modules_to_save` makes (ModulesToSaveWrapper), nothing of the frozen base.
 */
export function trainableParameters(spec: ModelSpec): number {
  if (!spec.peft) return parameterCounts(spec).total;
  let n = 0;
  for (const layer of spec.layers) for (const l of layer.linears) n += loraParams(l) + (l.frozen ? 0 : linearParams(l));
  const vh = spec.vocabSize * spec.hiddenSize;
  if (spec.peft.trainableCopies.embedding) n += vh;
  if (spec.peft.trainableCopies.lmHead) n += headWidth(spec) * spec.hiddenSize;
  const inPlace = spec.peft.trainsInPlace;
  if (inPlace) {
    const counts = parameterCounts(spec);
    if (inPlace.embedding) n += counts.embedding + counts.positional;
    if (inPlace.lmHead) n += counts.lmHead;
    if (inPlace.norms) n += counts.finalNorm + spec.layers.reduce((a, layer) => a + layer.norms.reduce((b, x) => b + normParams(x), 0) + layer.extraParams, 0);
  }
  return n;
}

/** Trainable tensors that are PEFT modules_to_save copies (ModulesToSaveWrapper: embed_tokens, lm_head). */
export function copyTensorCount(spec: ModelSpec): number {
  return spec.peft ? (spec.peft.trainableCopies.embedding ? 1 : 0) + (spec.peft.trainableCopies.lmHead ? 1 : 0) : 0;
}

/**
 * Trainable parameter tensors (each a separate optimizer state and, for per-tensor optimizers, a separate
 * kernel): under PEFT two per adapter (A, B; DoRA's magnitude a third) and the trainable copies; otherwise
 * every weight, bias and norm (transformers holds each routed projection's experts as one 3-D tensor).
 */
export function trainableTensorCount(spec: ModelSpec): number {
  let n = 0;
  if (spec.peft) {
    for (const layer of spec.layers) for (const l of layer.linears) n += (l.lora ? (l.lora.dora ? 3 : 2) : 0) + (l.frozen ? 0 : l.bias ? 2 : 1);
    const inPlace = spec.peft.trainsInPlace;
    const norms = inPlace?.norms ? spec.layers.reduce((a, layer) => a + layer.norms.length, 1) : 0;
    return n + (spec.peft.trainableCopies.embedding || inPlace?.embedding ? 1 : 0) + (spec.peft.trainableCopies.lmHead || (inPlace?.lmHead && !spec.tiedEmbeddings) ? 1 : 0) + norms;
  }
  for (const layer of spec.layers) {
    for (const l of layer.linears) n += l.bias ? 2 : 1;
    n += layer.norms.reduce((a, x) => a + (x.kind === 'layernorm' && x.bias ? 2 : 1), 0) + (layer.extraParams > 0 ? 1 : 0);
  }
  return n + 1 + (spec.learnedPositions ? 1 : 0) + (spec.tiedEmbeddings ? 0 : 1) + (spec.finalNorm.kind === 'layernorm' && spec.finalNorm.bias ? 2 : 1);
}

/**
 * The hidden 2-D matrices Muon orthogonalises: every trainable projection weight of the decoder layers
 * (experts: one matrix per expert); embeddings, the head, norms and biases step with AdamW.
 */
export function hiddenMatrices(spec: ModelSpec): { rows: number; cols: number; count: number }[] {
  const out: { rows: number; cols: number; count: number }[] = [];
  for (const layer of spec.layers) {
    for (const l of layer.linears) {
      if (spec.peft) {
        if (l.lora) out.push({ rows: l.lora.r, cols: l.in, count: 1 }, { rows: l.out, cols: l.lora.r, count: 1 });
      } else out.push({ rows: l.out, cols: l.in, count: l.experts?.count ?? 1 });
    }
  }
  return out;
}
