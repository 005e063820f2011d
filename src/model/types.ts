/**
 * A normalised description of a decoder-only language model, independent of the Hugging Face family's key
 * names: the embedding, a list of decoder layers — each carrying the ops it runs (its projection matrices,
 * its token mixer: attention variant, SSM or convolution, and its feed-forward: dense MLP or experts) — and
 * the head. Layers may differ from one another (sliding-window and global attention, dense and MoE layers,
 * Mamba and attention blocks in hybrids); identical layers share a `signature`, so costs are computed once
 * per distinct layer. All sizes are element counts, not bytes.
 */

/** The HF `model_type` of the config (a family the loader knows; see src/model/families/). */
export type ModelType = string;

export interface NormSpec {
  /** 'layernorm' has weight + bias unless `bias` is false; 'rmsnorm' has a weight only. */
  kind: 'rmsnorm' | 'layernorm';
  bias: boolean;
  /** Elements normalised (the hidden size, or a head dim for q/k norms applied per head). */
  width: number;
}

/**
 * How tensor parallelism splits a matrix (transformers' `base_model_tp_plan`, Megatron): 'colwise' shards the
 * output features, 'rowwise' the input features (its partial outputs are all-reduced), 'replicated' keeps it
 * whole on every rank (small matrices such as a router or a low-rank projection).
 */
export type TpStyle = 'colwise' | 'rowwise' | 'replicated';

/** Routed experts: one matrix of this shape per expert; every token runs through `topK` of them. */
export interface ExpertSpec {
  count: number;
  topK: number;
  /** Rows each token is computed in (default topK); every expert when the block runs densely (MoeFfn.denseDispatch). */
  computed?: number;
  /**
   * One nn.Linear per expert instead of a 3-D parameter (Axolotl `llama4_linearized_experts`): looped one
   * expert at a time, and quantised by bitsandbytes like any nn.Linear.
   */
  linear?: boolean;
}

/** One projection y = x·W (+ b), W in × out, named by its Hugging Face module (q_proj, Wqkv, c_fc, …). */
export interface LinearSpec {
  name: string;
  in: number;
  out: number;
  bias: boolean;
  /** Which half of the layer it belongs to: the token mixer ('attention') or the feed-forward ('mlp'). */
  part: 'attention' | 'mlp';
  tp: TpStyle;
  /**
   * The output features are this many equal attention heads: tensor parallelism splits them whole, and
   * when tp exceeds them each rank keeps whole (replicated) heads — ceil(heads/tp) of them (Megatron,
   * vLLM's KV-head replication).
   */
  heads?: number;
  experts?: ExpertSpec;
  /**
   * The MoE router: transformers holds it as a plain parameter in a TopKRouter module (not an nn.Linear), so
   * Axolotl's `lora_target_linear` does not adapt it and bitsandbytes does not quantise it.
   */
  router?: boolean;
  /**
   * The module under the decoder layer that holds this projection when it is not the family's token-mixer or
   * feed-forward module ('' = the layer itself): Gemma 4 keeps its router and experts beside `mlp`
   * (`layers.<i>.router.proj`, `layers.<i>.experts.gate_up_proj`). Used for adapter-target paths only.
   */
  module?: string;
  /** Belongs to the layer's parallel mixer (Falcon-H1's Mamba-2 beside its attention), not the main one. */
  branch?: 'parallel';
  /** The weight (and bias) is frozen (PEFT): no weight gradient is computed, no optimizer state is kept. */
  frozen?: boolean;
  /** How the frozen weight is stored when it is quantised (bitsandbytes NF4/FP4, LLM.int8, GPTQ …). */
  quantized?: WeightQuantization;
  /** A LoRA adapter beside this projection (PEFT `lora.Linear`): y = W·x + B·A·dropout(x)·scale. */
  lora?: LoraAdapter;
}

export interface WeightQuantization {
  /** 'nf4' / 'fp4' (bitsandbytes 4-bit), 'int8' (LLM.int8), 'gptq' (packed int4 with group scales). */
  kind: string;
  /** Bytes per weight element in memory, including the quantisation state (absmax, scales). */
  bytesPerParam: number;
}

export interface LoraAdapter {
  r: number;
  /** lora_dropout > 0: dropout(x) is a new tensor (and mask) saved for A's gradient. */
  dropout: boolean;
  /** DoRA: a magnitude vector of `out` and the weight-norm computation each forward. */
  dora: boolean;
  /**
   * Axolotl's fused LoRA kernel this projection runs in (axolotl `kernels/lora.py` LoRA_QKV / LoRA_O / LoRA_MLP,
   * patched by `monkeypatch/lora_kernels.py`); absent: PEFT's `lora.Linear.forward`. `lead` marks the group's
   * first member, which carries what the group shares (the dropout of its common input).
   */
  kernel?: { group: 'qkv' | 'o' | 'mlp'; lead: boolean };
  /**
   * PEFT path only: the adapter is fp32 while the matmuls run in 16 bits and the base is an unquantised
   * nn.Linear, so `_cast_input_dtype` makes an fp32 copy of x and autocast a new 16-bit one that A saves
   * (peft/tuners/lora/layer.py `Linear.forward`; bnb layers skip the cast under autocast).
   */
  castsInput?: boolean;
}

/** Softmax attention (MHA / GQA / MQA), optionally windowed, as most decoder layers run it. */
export interface AttentionMixer {
  kind: 'attention';
  numHeads: number;
  numKvHeads: number;
  /** Query/key head dim (MLA: nope + rope dims). */
  headDim: number;
  /** Value head dim (equal to headDim except in MLA-style attention). */
  vHeadDim: number;
  /** Sliding-window size in tokens for local layers; undefined for global causal attention. */
  window?: number;
  /** Dims of each q/k head that get rotary embeddings (0: ALiBi or learned positions). */
  rotaryDims: number;
  /** RMSNorm on q and k per head (Qwen3, Gemma 3, OLMo 2/3 …). */
  qkNorm: boolean;
}

/**
 * Recurrent / convolutional token mixers of hybrid models, the parts that are not projections (those are in
 * the layer's `linears`):
 * - 'mamba2': Mamba-2's SSD (state-space duality) chunked scan over `nHeads` heads of `headDim` with a
 *   `dState` state per head (`nGroups` shared B/C groups), after a depthwise causal conv1d of `convKernel`
 *   over the x/B/C channels (mamba_ssm ops/triton/ssd_combined.py `mamba_chunk_scan_combined`).
 * - 'mamba1': Mamba's selective scan over `dInner` channels with a `dState` state each (Jamba).
 * - 'linear_attention': gated delta-rule linear attention (Gated DeltaNet in Qwen3-Next / Qwen3.5, Kimi Delta
 *   Attention): chunked (`chunk` tokens) with a dk × dv state per value head, after short convolutions on q/k/v.
 * - 'short_conv': a gated depthwise causal convolution over `channels` (LFM2).
 */
export interface Mamba2Mixer {
  kind: 'mamba2';
  nHeads: number;
  headDim: number;
  dState: number;
  nGroups: number;
  convKernel: number;
  chunk: number;
}

export interface Mamba1Mixer {
  kind: 'mamba1';
  dInner: number;
  dState: number;
  convKernel: number;
}

export interface LinearAttentionMixer {
  kind: 'linear_attention';
  numKeyHeads: number;
  numValueHeads: number;
  keyDim: number;
  valueDim: number;
  convKernel: number;
  chunk: number;
}

export interface ShortConvMixer {
  kind: 'short_conv';
  channels: number;
  convKernel: number;
}

export type RecurrentMixer = Mamba2Mixer | Mamba1Mixer | LinearAttentionMixer | ShortConvMixer;

export type Mixer = AttentionMixer | RecurrentMixer;

/** A dense MLP: gated (SwiGLU / GeGLU: gate, up, down) or plain (up, down). */
export interface DenseFfn {
  kind: 'dense';
  intermediate: number;
  gated: boolean;
}

/**
 * Routed experts (Mixtral, Qwen2/3-MoE, DeepSeek, gpt-oss …): a router scores every expert per token, each
 * token goes through its top-k experts (each a gated or plain MLP of `expertIntermediate`), and optional
 * shared experts run on every token.
 */
export interface MoeFfn {
  kind: 'moe';
  numExperts: number;
  topK: number;
  expertIntermediate: number;
  gated: boolean;
  /** Total intermediate width of the always-on shared experts (0 when there are none). */
  sharedIntermediate: number;
  /**
   * Every expert runs on every token, the unselected ones on rows scaled to zero (transformers Llama4TextMoe:
   * `routed_in = hidden_states.repeat(num_experts, 1) * router_scores`, then one bmm over all experts).
   */
  denseDispatch?: boolean;
}

export type Ffn = DenseFfn | MoeFfn;

export interface LayerSpec {
  /** Identical layers have the same signature (costs and memory are computed once per signature). */
  signature: string;
  hiddenSize: number;
  mixer: Mixer | null;
  /**
   * A second token mixer reading the same normalised input, its output added to the main mixer's (Falcon-H1:
   * Mamba-2 beside attention in every layer). Its projections are in `linears` with `branch: 'parallel'`.
   */
  parallelMixer?: RecurrentMixer;
  ffn: Ffn | null;
  /** Every projection of the layer in forward order: the mixer's, then the feed-forward's. */
  linears: LinearSpec[];
  /** Every norm of the layer (the two pre-norms of a Llama layer; four in Gemma 2/3; q/k norms …). */
  norms: NormSpec[];
  /** Parameters that are neither projections nor norms (SSM A/D/dt, conv kernels, attention sinks …). */
  extraParams: number;
  /** The mixer and the feed-forward read the same normalised input (gpt_neox, phi): one residual. */
  parallelResidual: boolean;
  /**
   * Elements per token of the layer's inputs when they are more than one h-wide hidden state (Gemma 3n: AltUp's
   * four residual streams plus the per-layer input): what full activation checkpointing keeps. Default h.
   */
  checkpointedInputWidth?: number;
  /**
   * Tensors (elements per token, 16-bit) saved by ops outside the attention / SSM / MLP blocks (Gemma 3n's AltUp
   * predict / correct, LAUREL, per-layer input gate), h-wide ones replicated under tensor parallelism.
   */
  extraSaved?: { name: string; elementsPerToken: number }[];
}

export interface ModelSpec {
  /** Hugging Face id, folder path, or "inline". */
  id: string;
  modelType: ModelType;
  hiddenSize: number;
  vocabSize: number;
  /**
   * Width of the output head when it is not the vocabulary: a classification `score` head (num_labels) of a
   * reward / token-classification model (src/config/trainer.ts). Read through params.ts headWidth.
   */
  headOutputs?: number;
  tiedEmbeddings: boolean;
  /** Learned absolute position table (gpt2, and mpt when it is not ALiBi) of maxPositions × hidden. */
  learnedPositions: boolean;
  maxPositions: number;
  numLayers: number;
  layers: LayerSpec[];
  finalNorm: NormSpec;
  /** The output layer has a bias (phi, GPT-J). */
  lmHeadBias?: boolean;
  /** Parameter-efficient training: what outside the adapters stays frozen. Absent: everything trains. */
  peft?: PeftState;
  /** Module path of the decoder inside a multimodal wrapper (transformers 5: `model.language_model`). */
  languageModelPrefix?: string;
  /**
   * Parts of the checkpoint the simulation leaves out (vision / audio towers of multimodal models), with an
   * estimate of their parameters; the result's warnings name them.
   */
  omitted?: { name: string; params: number }[];
}

export interface PeftState {
  /** Norms, the embedding and lm_head are frozen unless saved (modules_to_save). */
  frozenBase: true;
  /**
   * PEFT's `modules_to_save` wraps a module in ModulesToSaveWrapper: the original stays (frozen) and a
   * trainable copy is made beside it.
   */
  trainableCopies: { embedding: boolean; lmHead: boolean };
  /**
   * Axolotl's `unfrozen_parameters` (utils/freeze.py freeze_layers_except) on a full fine-tune: the matched
   * original modules train in place (no copies); projections carry their own `frozen` flag.
   */
  trainsInPlace?: { embedding: boolean; lmHead: boolean; norms: boolean };
}

/** Parameter counts (elements) of one model, by module. */
export interface ParameterCounts {
  embedding: number;
  positional: number;
  /** The decoder layers together. */
  layers: number;
  /** Parameters of each decoder layer, in order. */
  perLayer: number[];
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
  /** Independent products of this shape run by one kernel (batched / grouped GEMM); 1 when absent. */
  batch?: number;
}
