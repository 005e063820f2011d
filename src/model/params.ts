/**
 * Exact parameter counts from a ModelSpec, module by module, mirroring the transformers modules:
 *
 *   embedding   V·h                           (embed_tokens / wte / embed_in)
 *   positional  P·h when a learned table exists (gpt2 wpe; mpt only without ALiBi/RoPE)
 *   per layer   attention: q h·(a·d), k and v h·(a_kv·d) each, o (a·d)·h  [+ q/k/v biases a·d + 2·a_kv·d, + o bias h]
 *               MLP gated (SwiGLU): gate, up h·I, down I·h  [+ biases 2I + h]
 *               MLP plain (GELU):   up h·I, down I·h        [+ biases I + h]
 *               two norms: h each (RMSNorm weight, or LayerNorm without bias), 2h each (LayerNorm with bias)
 *   final norm  one norm
 *   lm head     V·h unless tied (no bias in any supported family)
 *
 * Checked against the published counts (e.g. Llama-2-7b 6,738,415,616; Llama-3.1-8B 8,030,261,248;
 * gpt2 124,439,808; pythia-1b 1,011,781,632) in test/model/params.test.ts.
 */
import type { ModelSpec, ParameterCounts } from './types.ts';

/** Parameters of one norm module of width h. */
export function normParams(spec: ModelSpec): number {
  return spec.normKind === 'layernorm' && spec.normBias ? 2 * spec.hiddenSize : spec.hiddenSize;
}

/** Weights of the attention and MLP matrices of one decoder layer (no biases, no norms): the GEMM operands. */
export function matmulParamsPerLayer(spec: ModelSpec): number {
  const h = spec.hiddenSize;
  const q = spec.numHeads * spec.headDim;
  const kv = spec.numKvHeads * spec.headDim;
  const attn = h * q + 2 * h * kv + q * h;
  const mlp = (spec.mlpKind === 'gated' ? 3 : 2) * h * spec.intermediateSize;
  return attn + mlp;
}

/** Bias parameters of one decoder layer. */
export function biasParamsPerLayer(spec: ModelSpec): number {
  const q = spec.numHeads * spec.headDim;
  const kv = spec.numKvHeads * spec.headDim;
  const I = spec.intermediateSize;
  let n = 0;
  if (spec.qkvBias) n += q + 2 * kv;
  if (spec.attnOutBias) n += spec.hiddenSize;
  if (spec.mlpBias) n += (spec.mlpKind === 'gated' ? 2 * I : I) + spec.hiddenSize;
  return n;
}

export function parameterCounts(spec: ModelSpec): ParameterCounts {
  const embedding = spec.vocabSize * spec.hiddenSize;
  const positional = spec.learnedPositions ? spec.maxPositions * spec.hiddenSize : 0;
  const perLayer = matmulParamsPerLayer(spec) + biasParamsPerLayer(spec) + 2 * normParams(spec);
  const finalNorm = normParams(spec);
  const lmHead = spec.tiedEmbeddings ? 0 : spec.vocabSize * spec.hiddenSize;
  const total = embedding + positional + spec.numLayers * perLayer + finalNorm + lmHead;
  return { embedding, positional, perLayer, finalNorm, lmHead, total };
}

/**
 * Parameters that are multiplied as GEMM weights per token: every layer's matrices plus the output
 * projection V·h — counted even when tied, because the logits matmul is still executed — but not the
 * embedding/position lookups (gathers, no FLOPs), biases or norms (elementwise).
 */
export function matmulParams(spec: ModelSpec): number {
  return spec.numLayers * matmulParamsPerLayer(spec) + spec.vocabSize * spec.hiddenSize;
}
