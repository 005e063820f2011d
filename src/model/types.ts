/** Decoder-only transformer families whose Hugging Face config.json we understand. */
export type ModelType = 'llama' | 'mistral' | 'qwen2' | 'mpt' | 'gpt2' | 'gpt_neox';

/**
 * A normalised description of a decoder-only transformer, independent of the HF family's key names.
 * Everything the cost and memory models need; all sizes are element counts, not bytes.
 */
export interface ModelSpec {
  /** Hugging Face id, folder path, or "inline". */
  id: string;
  modelType: ModelType;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  /** 'gated': SwiGLU (gate, up, down: 3 matrices). 'plain': up + down with GELU (2 matrices). */
  mlpKind: 'gated' | 'plain';
  vocabSize: number;
  tiedEmbeddings: boolean;
  /** Learned absolute position table (gpt2, and mpt when it is not ALiBi) of maxPositions × hidden. */
  learnedPositions: boolean;
  maxPositions: number;
  /** Biases on q/k/v, on the attention output projection, on MLP linears. */
  qkvBias: boolean;
  attnOutBias: boolean;
  mlpBias: boolean;
  /** 'layernorm' has weight+bias (2h params) unless normBias is false; 'rmsnorm' has weight only. */
  normKind: 'rmsnorm' | 'layernorm';
  normBias: boolean;
  /** gpt_neox: attention and MLP run in parallel from the same input (one residual). Affects nothing in params. */
  parallelResidual: boolean;
}

/** Parameter counts (elements) of one model, by module. */
export interface ParameterCounts {
  embedding: number;
  positional: number;
  perLayer: number;
  finalNorm: number;
  /** 0 when tied to the embedding. */
  lmHead: number;
  total: number;
}

/** One matrix multiply: C[m×n] = A[m×k] · B[k×n]; flops = 2·m·n·k. */
export interface Gemm {
  name: string;
  m: number;
  n: number;
  k: number;
}
