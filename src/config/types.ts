import type { Dtype } from '../util/dtype.ts';
import type { DeepSpeedConfig } from './deepspeed.ts';
import type { PeftConfig } from './peft.ts';
import type { OptimizerSpec } from './optimizers.ts';
import type { Trainer } from './trainer.ts';
import type { AttentionConfig, DataShape } from './attention.ts';
import type { KernelChoices } from './kernels.ts';

/** zero1 / zero2 / zero3: DeepSpeed ZeRO through Axolotl's `deepspeed:` key (src/config/deepspeed.ts). */
export type StrategyName = 'single' | 'ddp' | 'fsdp2' | 'fsdp1' | 'zero1' | 'zero2' | 'zero3';

/**
 * The device mesh in PyTorch's order (dp_replicate, dp_shard, cp, tp), tp innermost. With expert parallelism
 * Axolotl puts `ep` outermost (monkeypatch/accelerate/parallelism_config.py: order ep, dp_replicate, dp_shard,
 * cp, sp, tp) and counts it as data parallel (each EP rank pulls its own batch): `dpShard` (FSDP) or
 * `dpReplicate` (DDP) here include the `ep` factor — the flattened `dp_shard_cp` axis FSDP shards non-expert
 * parameters over — and the routed experts are split `ep` ways and FSDP-sharded over `dpShard / ep`.
 */
export interface Mesh {
  dpReplicate: number;
  dpShard: number;
  /** Expert-parallel degree (`expert_parallel_size`): each rank holds numExperts / ep routed experts. */
  ep: number;
  cp: number;
  tp: number;
  /** Megatron sequence parallelism: TP's AllReduces become AllGather + ReduceScatter, norms see s/tp tokens. */
  sequenceParallel: boolean;
}

export interface Straggler {
  rank: number;
  /** Compute kernels on this rank take this many times longer (≥ 1). */
  computeSlowdown: number;
  /** This rank's network links run this many times slower (≥ 1). */
  linkSlowdown: number;
}

export interface Precision {
  /** Dtype of the matmuls (autocast / param_dtype). */
  computeDtype: Dtype;
  /** fp32 matmuls run in TF32 on the tensor cores (`tf32: true`). */
  tf32Matmul?: boolean;
  /** Dtype in which trainable parameters persist on the GPU (sharded under FSDP). */
  paramDtype: Dtype;
  /** Dtype of the persistent gradients (sharded under FSDP). */
  gradDtype: Dtype;
  /**
   * Dtype frozen parameters are kept in (PEFT's base weights, norms and embeddings; unquantised ones): the
   * loaded dtype, or fp32 when the strategy upcasts every parameter (FSDP1 through accelerate).
   */
  frozenDtype: Dtype;
  /** Bytes per trainable parameter of optimizer state (AdamW: m and v, plus an fp32 master copy when kept). */
  optimizerBytesPerParam: number;
  /** Dtype FSDP all-gathers parameters in. */
  gatherDtype: Dtype;
  /** Dtype gradients are reduced (all-reduce / reduce-scatter) in. */
  reduceDtype: Dtype;
  /** Why: which Axolotl / accelerate / PyTorch behaviour produced these choices. */
  rationale: string;
  /**
   * Axolotl keeps embed_tokens and lm_head in fp32 in a 16-bit full fine-tune without FSDP or DeepSpeed when
   * the attention needs no dtype cast (sdpa, eager or unset) and CCE is off (loaders/model.py
   * `_configure_embedding_dtypes`): their weights, gradients and optimizer states are fp32, and the residual
   * stream they feed stays fp32 (fp32 embeddings + 16-bit autocast outputs promote to fp32).
   */
  fp32EmbeddingModules?: boolean;
  /**
   * Dtype of PEFT's `modules_to_save` copies (ModulesToSaveWrapper deep-copies the loaded module) with their
   * gradients and optimizer states, when it differs from the adapters' `paramDtype`: PEFT's fp32 upcast
   * (`cast_adapter_dtype`, peft/tuners/tuners_utils.py) only visits BaseTunerLayer modules, so the copies
   * stay in the dtype the base was loaded in (and FSDP1 keeps them).
   */
  copyDtype?: Dtype;
}

export interface ResolvedConfig {
  name: string;
  /** Folder the scenario file lives in (relative model folders resolve from here). */
  baseDir: string;
  model: { baseModel?: string; modelConfig?: Record<string, unknown> };
  strategy: StrategyName;
  worldSize: number;
  mesh: Mesh;
  batch: {
    microBatchSize: number;
    gradientAccumulationSteps: number;
    sequenceLength: number;
    /** micro × accumulation × dp_shard × dp_replicate (TP and CP do not multiply it). */
    globalBatchSize: number;
    /** Tokens the kernels process per step, padding included (rows × row tokens × accumulation × data parallel). */
    tokensPerStep: number;
    /** Non-padding tokens per step. */
    realTokensPerStep: number;
  };
  precision: Precision;
  optimizer: { name: string; fused: boolean; spec: OptimizerSpec };
  /**
   * torchtune's `optimizer_in_bwd`: one optimizer per parameter stepped from its post-accumulate-grad hook
   * during backward, and the gradient freed at once (no clip, no accumulation, one device).
   */
  optimizerInBackward: boolean;
  /**
   * What the step trains (src/config/trainer.ts): a causal LM (`sft`), a reward model (sequence
   * classification over chosen + rejected rows) or a process reward model (token classification).
   */
  trainer: Trainer;
  /** torchao float8 training (Axolotl `fp8`): eligible trainable projections run scaled fp8 GEMMs (src/strategy/projection-costs.ts). */
  float8?: boolean;
  /**
   * Axolotl's tiled MLP (monkeypatch/tiled_mlp): each MLP runs over `shards` sequence shards, forward without
   * autograd (saving only its input), backward re-running each shard's forward with autograd.
   */
  tiledMlp?: { shards: number };
  /** Axolotl `unfrozen_parameters` on a full fine-tune: only matching parameters train (src/model/freeze.ts). */
  unfrozenParameters?: string[];
  /** Fused-kernel replacements (torch.compile, Liger) and the loss implementation (src/config/kernels.ts). */
  kernels: KernelChoices;
  /** The attention kernel never materialises the score matrix (every backend but eager). */
  flashAttention: boolean;
  /** Attention backend and how it masks a row (src/config/attention.ts). */
  attention: AttentionConfig;
  /** What one micro-batch looks like to the kernels: rows × tokens per row (packing, padding). */
  shape: DataShape;
  /** How routed experts' matmuls run (`experts_implementation`; src/strategy/projection-costs.ts). */
  expertsImplementation: 'eager' | 'grouped_mm';
  /** Axolotl `llama4_linearized_experts`: Llama 4's experts as one nn.Linear each (monkeypatch/models/llama4/modeling.py). */
  linearizedExperts: boolean;
  /** torch.compile fuses the elementwise chains (norms, rotary, activations) into single kernels. */
  torchCompile: boolean;
  /**
   * Tensor parallel's loss runs on vocab-sharded logits (`simulation.loss_parallel`; torch
   * `torch.distributed.tensor.parallel.loss_parallel`, torchtitan's default with TP): lm_head's output stays
   * Shard(-1), cross-entropy reduces its max and sum-exp across the TP group (b·s floats, negligible beside
   * the logits), and no rank holds the full-vocabulary logits. Otherwise they are gathered for the loss
   * (transformers' tp_plan `lm_head: colwise_rep`).
   */
  lossParallel: boolean;
  /**
   * 'full': every decoder layer keeps only its input and recomputes its forward in backward (HF
   * gradient_checkpointing). 'selective': torchtitan's op-level selective AC (save matmul outputs except every
   * second one, and the attention kernel's outputs; recompute the rest), see src/memory/step-memory.ts.
   */
  activationCheckpointing: 'none' | 'full' | 'selective';
  /**
   * Activation offloading (Axolotl `activation_offloading`, or the deprecated `gradient_checkpointing:
   * offload`): TRL's OffloadActivations moves every saved tensor of the decoder layers to pinned host memory
   * on a side stream during forward and brings it back ahead of backward (src/strategy/activation-offload.ts).
   */
  activationOffloading: boolean;
  /** LoRA / QLoRA (src/config/peft.ts); absent for a full fine-tune. */
  peft?: PeftConfig;
  /** The DeepSpeed config when `deepspeed:` selects ZeRO (strategy zero1/zero2/zero3). */
  deepspeed?: DeepSpeedConfig;
  fsdp: {
    reshardAfterForward: boolean;
    offloadParams: boolean;
    /** CPUOffloadPolicy(pin_memory=…): pinned host buffers copy at full PCIe speed, pageable ones do not. */
    offloadPinMemory: boolean;
    /** FSDP1 knobs (defaults are PyTorch's). */
    forwardPrefetch: boolean;
    backwardPrefetch: 'BACKWARD_PRE' | 'BACKWARD_POST' | 'NONE';
    limitAllGathers: boolean;
  };
  ddp: { bucketCapBytes: number; firstBucketBytes: number; gradientAsBucketView: boolean };
  /** DeepEP's intranode (NVLink) buffer per rank under expert parallelism (`expert_parallel_num_nvl_bytes`), 0 without EP. */
  expertParallelBufferBytes: number;
  simulation: {
    hardware: string;
    numNodes: number;
    gpus?: number;
    seed: string;
    steps: number;
    jitter: number;
    stragglers: Straggler[];
    /** FSDP under gradient accumulation: reduce on the final micro-batch only (HF Trainer no_sync) or every one. */
    fsdpGradientSync: 'final_micro_batch' | 'every_micro_batch';
    /** Expert parallelism: the slowest rank's routed rows over the mean, when given (else sampled from the routing statistics). */
    expertLoadImbalance?: number;
    interNodeBandwidthBytesPerSecond?: number;
  };
  warnings: string[];
}
