import { writeFileSync } from 'node:fs';
import { DEPRECATED_ALIASES, KEY_FATES } from './key-fates.ts';
import { MODELLED_KEYS } from './schema.ts';

/**
 * What the simulator does with each Axolotl key it reads (src/config/schema.ts), where the rule lives and what
 * it follows. docs/AXOLOTL-KEYS.md is generated from this table and from key-fates.ts (`npm run docs:keys`);
 * a test fails when a key of the schema has no entry here or the file is stale.
 */
export interface KeyDoc {
  group: string;
  /** What is modelled (one or two sentences). */
  modelled: string;
  /** The code that models it and the behaviour it follows. */
  source: string;
}

const MODEL = 'Model';
const BATCH = 'Batch, sequence and data';
const PRECISION = 'Precision';
const ATTENTION = 'Attention';
const MEMORY = 'Activations and memory';
const OPTIM = 'Optimizer';
const PARALLEL = 'Parallelism and sharding';
const KERNELS = 'Loss and fused kernels';
const PEFT = 'Adapters (LoRA / QLoRA) and quantised bases';

export const KEY_DOCS: Readonly<Record<string, KeyDoc>> = {
  base_model: { group: MODEL, modelled: 'The architecture: a catalog id (`shardsim list models`: config.json facts with their source) or a folder holding a Hugging Face `config.json`; multimodal wrappers simulate the language model and warn about the towers left out.', source: 'src/model/catalog.ts, hf-config.ts (keys read as transformers reads them)' },
  model_config: { group: MODEL, modelled: 'Inline `config.json` keys merged over the base model (Axolotl `overrides_of_model_config`, its deprecated spelling, maps here).', source: 'src/model/hf-config.ts' },
  trust_remote_code: { group: MODEL, modelled: "No effect on the architecture (the catalog holds the config); switches off Axolotl's automatic LoRA kernels, as Axolotl does.", source: 'src/config/peft.ts (axolotl check_auto_enable_lora_kernels)' },
  llama4_linearized_experts: { group: MODEL, modelled: "Llama 4's experts as per-expert nn.Linear (quantisable, eager dispatch) instead of the fused dense dispatch.", source: 'src/model/linearized-experts.ts (axolotl monkeypatch llama4 linearized)' },
  experts_implementation: { group: MODEL, modelled: 'How MoE experts run: grouped GEMM or a loop of per-expert GEMMs (transformers `experts_implementation`).', source: 'src/config/resolve.ts, src/strategy/costs.ts' },
  rl: { group: MODEL, modelled: "Preference trainers as TRL 1.8.0 runs them: dpo / ipo (chosen + rejected rows with gradients, per-row 16-bit log-softmax over the logits, then the reference forward under no_grad: adapters disabled, or a frozen weight copy for a full fine-tune), orpo / simpo (the same rows, log-probs plus the chosen half's cross-entropy, no reference), kto (one row with gradients; the policy's KL forward before it and two reference forwards after, under no_grad). Model FLOPs count the no-grad forwards; Axolotl's automatic LoRA kernels stay off. Under FSDP the reference forward runs through FSDP units (src/strategy/fsdp2.ts referenceForwards): with an adapter the policy's own, each resharded unit gathered again; a full fine-tune's reference model as TRL's prepare_fsdp wraps it (FSDP1: per-layer units gathered each pass; FSDP2: one root unit, left unsharded on every GPU after its first forward). KTO's policy KL pass runs through the policy's units before the trained forward. Under FSDP a KL pass with units kept unsharded after forward or an offloaded reference, and the no-grad forwards under ZeRO-3, TP or CP are refused; trainers with generation (GRPO, online DPO …) are refused; `ebft` is modelled in strided mode (see `ebft`).", source: 'src/config/trainer.ts, src/strategy/trainer-passes.ts, src/memory/step-memory.ts headForTrainer (trl dpo_trainer.py, kto_trainer.py, trainer/utils.py selective_log_softmax, experimental/orpo, experimental/cpo)' },
  ebft: { group: MODEL, modelled: "With `rl: ebft` and `mode: strided`, on one GPU (the default world for it): `generate_max_len` no-grad forwards of the n_samples_per_prompt rollout rows over S + g·NB tokens with eager attention and a dense mask built by host-side Python loops; the trained forward row by row over L = S + NB·G tokens with flex_attention's block-sparse strided mask and the chunked fp32 log-softmax head (all of ce_coef > 0's L − 1 positions, else the NB·G generated ones), every row's graph kept until one backward; a no-grad feature forward of all rows with `output_hidden_states` (the base weights with adapters disabled and SDPA over the dense mask under PEFT, else a bf16 copy of the model with flex_attention); per-block SVD whitening (`use_whitening`). Prompt/completion data is simulated with the most blocks (prompt length 0). Structured modes (vLLM server generation) are refused, as are more GPUs, FSDP / DeepSpeed, sample_packing, activation offloading and torch_compile with checkpointing (Axolotl refuses it).", source: 'src/config/ebft.ts, src/strategy/ebft-strided.ts, src/model/attention-work.ts stridedMaskPairs (axolotl core/trainers/ebft/strided.py, args.py, rewards.py; utils/schemas/validation.py EBFTValidationMixin)' },
  diffusion: { group: MODEL, modelled: "Read when plugins lists the DiffusionPlugin (which alone switches the diffusion trainer on; without it the block is dropped, as Axolotl drops plugin keys): one forward with a bidirectional 4-D mask (SDPA / eager compute every score of the row), full 16-bit logits, their shifted copy, and the loss over the masked ((1 + eps) / 2 of the real tokens) positions. The noise-schedule keys are not read by the trainer; the generation keys run a sampling callback every generation_interval steps outside the step. Flash / flex attention and context parallelism are refused.", source: 'src/config/diffusion.ts, src/strategy/head-costs.ts, src/memory/step-memory.ts headForTrainer (axolotl integrations/diffusion/trainer.py, utils.py, args.py, README.md)' },
  precompute_ref_log_probs: { group: MODEL, modelled: "Moves the reference forward out of the step. A full fine-tune's DPO / IPO reference copy stays in memory (Axolotl loads it and TRL's DPOTrainer keeps a given ref_model); KTO's, which TRL creates itself, is not made.", source: 'src/config/trainer.ts (axolotl train.py setup_reference_model; TRL 1.8.0 dpo_trainer.py / kto_trainer.py __init__)' },
  reward_model: { group: MODEL, modelled: "Axolotl's reward trainer (TRL RewardTrainer): AutoModelForSequenceClassification (a score head h → num_labels instead of lm_head, no vocabulary logits); chosen and rejected rows in one forward, so a micro-batch holds 2 × micro_batch_size rows.", source: 'src/config/trainer.ts (trl/trainer/reward_trainer.py compute_loss)' },
  process_reward_model: { group: MODEL, modelled: "TRL's PRMTrainer: AutoModelForTokenClassification (the score head on every token), one row per sample.", source: 'src/config/trainer.ts' },
  num_labels: { group: MODEL, modelled: 'Width of the score head (default 1 for a reward model, 2 for token classification); alone, without a reward trainer, refused.', source: 'src/config/trainer.ts' },
  sequence_len: { group: BATCH, modelled: 'Tokens per row; with packing, rows are filled to it. YAML 1.1 `500_000` reads as PyYAML reads it.', source: 'src/config/attention.ts, src/config/yaml.ts' },
  micro_batch_size: { group: BATCH, modelled: "Rows per micro-batch; with sample packing Axolotl's multipack collator makes one row of micro_batch_size × sequence_len tokens.", source: 'src/config/attention.ts (axolotl utils/collators batching)' },
  gradient_accumulation_steps: { group: BATCH, modelled: "Micro-batches per step; DDP/FSDP skip gradient sync on all but the last (HF Trainer's `no_sync`).", source: 'src/strategy/*.ts' },
  sample_packing: { group: BATCH, modelled: 'Packed rows of several documents (`simulation.document_length`, default in README); attention per document with a varlen kernel, per row otherwise (a warning says which).', source: 'src/config/attention.ts (axolotl core/builders/causal.py, monkeypatch/utils.py)' },
  pad_to_sequence_len: { group: BATCH, modelled: 'Rows padded to sequence_len (padding tokens counted in time, not in real tokens/s); otherwise rows padded to the longest in the batch.', source: 'src/config/attention.ts' },
  pad_to_multiple_of: { group: BATCH, modelled: 'Unpacked rows padded to the longest sample are rounded up to this multiple (default 64 when pad_to_sequence_len is unset, none when it is false).', source: 'src/config/attention.ts (axolotl core/builders/causal.py data_collator_kwargs)' },
  multipack_real_batches: { group: BATCH, modelled: 'Packed micro-batches keep separate rows (Axolotl sets it when the attention cannot take packed varlen rows).', source: 'src/config/attention.ts (core/builders/causal.py)' },
  datasets: { group: BATCH, modelled: 'Whether documents exist (padding and packing need them); a dataset with a profile in src/config/datasets/ (tatsu-lab/alpaca, yahma/alpaca-cleaned, mhenrichsen/alpaca_2k_test) brings its measured sample lengths, others the default distribution. Unpacked rows are padded to the longest sample of the slowest rank\'s micro-batch (time), each rank counts its own padding (tokens/s), and the memory peak is the longest sample up to sequence_len.', source: 'src/config/attention.ts, src/config/dataset-profiles.ts' },
  min_sample_len: { group: BATCH, modelled: 'Samples shorter are dropped: the document-length distribution is conditioned on it (long-context runs: the attention work of long documents).', source: 'src/model/attention-work.ts keptDocumentMoments (axolotl utils/data/utils.py _filter_short_sequences)' },
  pretraining_dataset: { group: BATCH, modelled: 'As `datasets`: a streamed pretraining corpus makes documents.', source: 'src/config/attention.ts' },
  bf16: { group: PRECISION, modelled: "bf16 weights loaded (Axolotl), autocast compute; `auto` reads as the GPU supports bf16. Master weights per strategy: bf16 under DDP and Axolotl's FSDP2, fp32 under FSDP1 and DeepSpeed.", source: 'src/config/precision.ts (axolotl resolve_dtype, monkeypatch/accelerate/fsdp2.py)' },
  fp16: { group: PRECISION, modelled: 'fp16 compute (same tensor-core rate as bf16); a full fine-tune warns that GradScaler and fp32 masters are assumed.', source: 'src/config/precision.ts' },
  bfloat16: { group: PRECISION, modelled: 'Axolotl loads the weights in bf16 (pure bf16 training).', source: 'src/config/precision.ts (resolve_dtype)' },
  float16: { group: PRECISION, modelled: 'Axolotl loads the weights in fp16.', source: 'src/config/precision.ts (resolve_dtype)' },
  tf32: { group: PRECISION, modelled: 'fp32 matmuls at the TF32 tensor-core rate (`torch.backends.cuda.matmul.allow_tf32`).', source: 'src/compute/kernels.ts' },
  attn_implementation: { group: ATTENTION, modelled: 'eager, sdpa (the default when unset, as transformers), flash_attention_2/3, flex_attention, and hub kernels: compute rate, what is saved for backward (eager keeps the s×s probabilities), packed-row masking.', source: 'src/config/attention.ts, src/compute/flash-attention.ts, src/model/activations.ts' },
  flash_attention: { group: ATTENTION, modelled: "Deprecated flag mapped as Axolotl maps it: attn_implementation flash_attention_2.", source: 'src/config/attention.ts (axolotl schemas/config.py)' },
  sdp_attention: { group: ATTENTION, modelled: 'Deprecated flag → sdpa.', source: 'src/config/attention.ts' },
  flex_attention: { group: ATTENTION, modelled: 'Deprecated flag → flex_attention (block-mask packing).', source: 'src/config/attention.ts' },
  xformers_attention: { group: ATTENTION, modelled: 'Deprecated flag → xformers memory-efficient attention (modelled at the sdpa rate).', source: 'src/config/attention.ts' },
  sage_attention: { group: ATTENTION, modelled: 'Deprecated flag → SageAttention (modelled at the flash rate).', source: 'src/config/attention.ts' },
  eager_attention: { group: ATTENTION, modelled: 'Deprecated flag → eager.', source: 'src/config/attention.ts' },
  gradient_checkpointing: { group: MEMORY, modelled: 'true: recompute each decoder layer in backward (saves only its input); `selective`: attention recomputed; `offload`: checkpointed inputs copied to the host on their own stream.', source: 'src/strategy/costs.ts, src/memory/step-memory.ts' },
  activation_offloading: { group: MEMORY, modelled: "Saved activations copied to pinned host memory in forward and back in backward on a copy stream (Axolotl's OffloadActivations).", source: 'src/strategy/activation-offload.ts (axolotl utils/gradient_checkpointing/offload_*.py)' },
  tiled_mlp: { group: MEMORY, modelled: "Axolotl's tiled MLP: the MLP saves only its input; backward re-runs each ~32K-token shard's forward with autograd (one shard's intermediates at a time, the MLP forward paid again).", source: 'src/memory/step-memory.ts, src/strategy/costs.ts (axolotl monkeypatch/tiled_mlp)' },
  tiled_mlp_num_shards: { group: MEMORY, modelled: 'Shards of the tiled MLP (default ceil(local sequence / 32768)).', source: 'src/config/resolve.ts tiledMlpShards' },
  fp8: { group: KERNELS, modelled: "torchao float8 training (tensorwise, as Axolotl configures it): trainable projections with 16-aligned dims run scaled fp8 GEMMs at the GPU's measured fp8 rate, plus the amax and cast passes per operand; refused on GPUs without an fp8 rate; with an adapter a warning.", source: 'src/strategy/projection-costs.ts float8LinearSeconds (torchao float8_linear.py, accelerate utils/ao.py)' },
  fp8_enable_fsdp_float8_all_gather: { group: KERNELS, modelled: 'Accepted; FSDP gathers stay 16-bit in the model (a warning says so).', source: 'src/config/resolve.ts resolveFloat8' },
  torch_compile: { group: KERNELS, modelled: 'Fused elementwise kernels (norms, activations, residuals) and fewer saved intermediates; `auto` compiles as Axolotl decides.', source: 'src/config/kernels.ts, src/compute/elementwise.ts' },
  optimizer: { group: OPTIM, modelled: 'State bytes per parameter and step cost of each optimizer Axolotl accepts: torch AdamW (fused/foreach/per-tensor), bitsandbytes 8-bit and paged variants (paged states in unified memory, reported apart from the peak), torchao 8/4-bit and fp8, Lion, SGD, Adafactor, Muon; combinations Axolotl refuses are refused.', source: 'src/config/optimizers.ts (transformers get_optimizer_cls_and_kwargs, bitsandbytes Optimizer2State, torchao optim)' },
  optimizer_in_bwd: { group: OPTIM, modelled: "torchtune's key (not Axolotl's; read with `simulation.framework: other`): each parameter stepped in its gradient hook during backward and its gradient freed (one GPU, no accumulation).", source: 'src/strategy/ddp.ts stepInBackward (torchtune training/memory.py register_optim_in_bwd_hooks)' },
  fsdp_version: { group: PARALLEL, modelled: '1 or 2; `fsdp_config.fsdp_version` / `version` set it too. With fsdp_config and no version Axolotl runs FSDP1 (a warning says so).', source: 'src/config/resolve.ts' },
  fsdp_config: { group: PARALLEL, modelled: "reshard_after_forward, offload_params, cpu_offload_pin_memory, activation_checkpointing, mixed_precision_policy; Axolotl's FSDPConfig drops backward_prefetch, forward_prefetch, limit_all_gathers and sharding_strategy (warning; accelerate's defaults apply). `fsdp_`-prefixed spellings accepted.", source: 'src/config/resolve.ts, src/strategy/fsdp2.ts (FSDP1 too; axolotl schemas/fsdp.py, accelerate 1.13)' },
  fsdp: { group: PARALLEL, modelled: 'The legacy list form (full_shard, auto_wrap, offload) read as FSDP1 options.', source: 'src/config/resolve.ts' },
  deepspeed: { group: PARALLEL, modelled: 'A DeepSpeed JSON (working directory first, then beside the config, as Axolotl resolves it) or an inline object: ZeRO 1–3, offload_optimizer / offload_param, bucket sizes, `auto` filled as HF Trainer fills it.', source: 'src/config/deepspeed.ts, src/strategy/zero*.ts' },
  dp_shard_size: { group: PARALLEL, modelled: 'The FSDP shard dimension of the device mesh (dp_replicate, dp_shard, cp, tp; tp innermost).', source: 'src/strategy/layout.ts (accelerate ParallelismConfig)' },
  dp_replicate_size: { group: PARALLEL, modelled: 'Replicas: HSDP with FSDP (reduce-scatter in the shard group, all-reduce across replicas), DDP otherwise.', source: 'src/strategy/layout.ts' },
  tensor_parallel_size: { group: PARALLEL, modelled: "transformers' tp plan: colwise q/k/v/gate/up, rowwise o/down, two all-reduces per layer each way.", source: 'src/strategy/tensor-parallel.ts' },
  context_parallel_size: { group: PARALLEL, modelled: 'Ring attention over contiguous chunks (no head–tail balancing), K/V blocks passed beside the attention compute.', source: 'src/strategy/tensor-parallel.ts, layout.ts (axolotl ring-flash-attn)' },
  expert_parallel_size: { group: PARALLEL, modelled: "Axolotl's ExpertParallelPlugin: each rank of an EP group holds numExperts / ep routed experts (sharded by FSDP over dp_shard only); DeepEP dispatch and combine as all-to-alls on their own stream around the local expert GEMMs, forward, recompute and backward; the slowest rank's routed load (seeded, or simulation.expert_load_imbalance).", source: 'src/strategy/expert-parallel.ts, ep-schedule.ts, src/network/alltoall.ts (axolotl integrations/expert_parallel/)' },
  expert_parallel_num_nvl_bytes: { group: PARALLEL, modelled: "DeepEP's NVLink buffer, allocated once per rank (communication_buffers in the memory peak).", source: 'src/strategy/expert-parallel.ts (axolotl integrations/expert_parallel/args.py)' },
  ddp_bucket_cap_mb: { group: PARALLEL, modelled: 'DDP bucket size (first bucket 1 MiB, then this; default 25).', source: 'src/strategy/ddp.ts (c10d reducer)' },
  liger_rms_norm: { group: KERNELS, modelled: 'Liger RMSNorm (one fused kernel, saves input and rstd); only with the LigerPlugin listed, as Axolotl applies it.', source: 'src/config/kernels.ts, src/compute/elementwise.ts' },
  liger_layer_norm: { group: KERNELS, modelled: 'Liger LayerNorm, as liger_rms_norm.', source: 'src/config/kernels.ts' },
  liger_glu_activation: { group: KERNELS, modelled: 'Liger SwiGLU/GeGLU (fused activation, recomputed in backward).', source: 'src/config/kernels.ts' },
  liger_rope: { group: KERNELS, modelled: 'Liger rotary (in-place, one kernel).', source: 'src/config/kernels.ts' },
  liger_cross_entropy: { group: KERNELS, modelled: 'Liger cross-entropy (no fp32 logits copy).', source: 'src/config/kernels.ts, src/memory/step-memory.ts' },
  liger_fused_linear_cross_entropy: { group: KERNELS, modelled: 'Liger FLCE: lm_head and loss fused in chunks, logits never materialised.', source: 'src/config/kernels.ts, src/memory/step-memory.ts' },
  cut_cross_entropy: { group: KERNELS, modelled: 'Cut Cross-Entropy (logits never materialised); switched on by the CutCrossEntropyPlugin.', source: 'src/config/kernels.ts (axolotl integrations/cut_cross_entropy)' },
  chunked_cross_entropy: { group: KERNELS, modelled: "Axolotl's chunked loss: fp32 logits one chunk at a time, split from one logits tensor; with simulation.framework: other, torchtune's chunked output (one logits tensor and backward per chunk).", source: 'src/config/kernels.ts, src/memory/step-memory.ts' },
  chunked_cross_entropy_num_chunks: { group: KERNELS, modelled: 'Chunks of the chunked loss (default 8).', source: 'src/config/kernels.ts' },
  plugins: { group: KERNELS, modelled: "Gate the plugin keys: liger_* apply only with LigerPlugin, cut_cross_entropy with CutCrossEntropyPlugin (which switches it on), as Axolotl's plugin manager does.", source: 'src/config/kernels.ts (applyPlugins)' },
  adapter: { group: PEFT, modelled: 'lora / qlora: frozen base (no weight-gradient GEMMs, no optimizer state), adapter GEMMs, adapter-only gradients and states; DDP/FSDP/ZeRO move only what trains.', source: 'src/model/peft.ts, src/config/peft.ts (PEFT LoraLayer)' },
  lora_r: { group: PEFT, modelled: 'Adapter rank: r·(in + out) parameters per adapted projection.', source: 'src/model/peft.ts' },
  lora_alpha: { group: PEFT, modelled: 'Reported (scaling does not change work).', source: 'src/metrics/result.ts' },
  lora_dropout: { group: PEFT, modelled: 'A dropout copy of the input per adapted projection (saved mask) when > 0.', source: 'src/model/activations.ts' },
  lora_target_modules: { group: PEFT, modelled: "Names or a regex full-matched against transformers' module paths (family-specific, `model.language_model.…` inside multimodal wrappers), as PEFT matches them.", source: 'src/model/peft.ts (peft tuners_utils check_target_module_exists)' },
  lora_target_linear: { group: PEFT, modelled: 'Every linear layer except lm_head (PEFT all-linear).', source: 'src/model/peft.ts' },
  lora_target_parameters: { group: PEFT, modelled: "LoRA on 3-D expert parameters (PEFT ParamWrapper): r·(in + out) per expert.", source: 'src/model/peft.ts' },
  lora_modules_to_save: { group: PEFT, modelled: 'A full trainable copy of embed_tokens / lm_head beside the frozen original (ModulesToSaveWrapper), with its weights, gradients and optimizer states in the base dtype (PEFT upcasts only adapter layers to fp32).', source: 'src/model/peft.ts, src/config/precision.ts' },
  unfrozen_parameters: { group: PEFT, modelled: "Full fine-tune: only parameters whose transformers name matches a pattern train (gradients, optimizer states, weight-gradient GEMMs for those only); with an adapter a warning (Axolotl matches PEFT's wrapped names).", source: 'src/model/freeze.ts (axolotl utils/freeze.py freeze_layers_except)' },
  peft_use_dora: { group: PEFT, modelled: 'DoRA: a magnitude vector per output feature and the weight-norm pass each step.', source: 'src/model/peft.ts, src/strategy/costs.ts' },
  peft_use_rslora: { group: PEFT, modelled: 'Reported (rsLoRA changes the scale only).', source: 'src/config/peft.ts' },
  peft_layers_to_transform: { group: PEFT, modelled: 'Adapters only on the listed layers.', source: 'src/model/peft.ts' },
  peft_autocast_adapter_dtype: { group: PEFT, modelled: 'fp32 adapters by default (PEFT autocast): each adapted nn.Linear casts its input; false keeps them 16-bit.', source: 'src/config/peft.ts' },
  lora_mlp_kernel: { group: PEFT, modelled: "Axolotl's fused LoRA MLP kernel (saves X, gate, up); switched on automatically when Axolotl would.", source: 'src/config/peft.ts, src/model/peft.ts (axolotl kernels/lora.py)' },
  lora_qkv_kernel: { group: PEFT, modelled: 'Fused LoRA QKV kernel.', source: 'src/model/peft.ts' },
  lora_o_kernel: { group: PEFT, modelled: 'Fused LoRA O kernel.', source: 'src/model/peft.ts' },
  lora_embedding_kernel: { group: PEFT, modelled: 'Read only for the auto-enable rule (any kernel key set turns the automatic choice off).', source: 'src/config/peft.ts' },
  load_in_4bit: { group: PEFT, modelled: 'bitsandbytes NF4 storage (0.5 B/param + absmax, double quantisation), dequantised before each GEMM in forward, backward and recompute.', source: 'src/model/quantization.ts (bitsandbytes Linear4bit)' },
  load_in_8bit: { group: PEFT, modelled: 'bitsandbytes LLM.int8 storage and its matmul cost; for a full fine-tune, Axolotl loads in fp16.', source: 'src/model/quantization.ts, src/config/precision.ts' },
  quantize_moe_experts: { group: PEFT, modelled: "Routed experts (3-D parameters bitsandbytes does not touch) quantised on load like the linears (NF4 / int8), dequantised before each expert GEMM.", source: 'src/model/peft.ts (axolotl monkeypatch/moe_quant.py patch_moe_quantization_on_load)' },
  bnb_config_kwargs: { group: PEFT, modelled: 'Quant type (nf4/fp4), double quantisation and quant storage dtype.', source: 'src/config/peft.ts' },
  gradient_checkpointing_kwargs: { group: MEMORY, modelled: "No effect on the step, except that strided EBFT with non-reentrant checkpointing (Axolotl's default use_reentrant: false, switched to true for EBFT only with attn_implementation: flex_attention) warns: its flex_attention forward is reported to fail with a CheckpointError.", source: 'src/config/resolve.ts checkEbftStrided (axolotl core/builders/base.py _configure_gradient_checkpointing, validation.py check_ebft_gradient_checkpointing_reentrant, docs/ebft.qmd)' },
  simulation: { group: 'Simulation (not an Axolotl key)', modelled: 'Hardware, nodes, seed/steps/jitter, stragglers, what-if bandwidth, document lengths, framework (axolotl or other) — see README.', source: 'src/config/schema.ts simulationSchema' },
};

/** docs/AXOLOTL-KEYS.md: modelled keys by group, then every other Axolotl key's fate. */
export function keyDocsMarkdown(): string {
  const out: string[] = [
    '# Axolotl keys: what shardsim does with each',
    '',
    '<!-- generated by `npm run docs:keys` from src/config/key-docs.ts and src/config/key-fates.ts; do not edit -->',
    '',
    "Every key of Axolotl's config schema (commit 067b021c) has one fate: **modelled** (below, with the code and the behaviour it follows),",
    '**no effect** on the time or memory of a step (accepted silently), **warned** (accepted; the result carries a `warnings` entry',
    'naming the key and what is assumed), or **refused** with one line. An unknown key gets a warning with the closest known key.',
    '',
  ];
  const groups = new Map<string, string[]>();
  for (const key of MODELLED_KEYS) {
    const d = KEY_DOCS[key];
    if (!d) continue;
    const rows = groups.get(d.group) ?? [];
    rows.push(`| \`${key}\` | ${d.modelled} | ${d.source} |`);
    groups.set(d.group, rows);
  }
  out.push('## Modelled', '');
  for (const [group, rows] of groups) out.push(`### ${group}`, '', '| key | modelled | where / follows |', '|---|---|---|', ...rows, '');
  const warned = new Map<string, string[]>();
  const refused = new Map<string, string[]>();
  const none: string[] = [];
  for (const [key, fate] of KEY_FATES) {
    if (fate.fate === 'no-effect') none.push(key);
    else if (fate.fate === 'warn') warned.set(fate.assumed, [...(warned.get(fate.assumed) ?? []), key]);
    else refused.set(fate.reason, [...(refused.get(fate.reason) ?? []), key]);
  }
  const keys = (ks: string[]) => ks.map((k) => `\`${k}\``).join(', ');
  out.push('## Warned: accepted, not modelled', '', '| keys | what is assumed |', '|---|---|');
  for (const [assumed, ks] of warned) out.push(`| ${keys(ks)} | ${assumed} |`);
  out.push('', '## Refused (out of scope)', '', '| keys | why |', '|---|---|');
  for (const [reason, ks] of refused) out.push(`| ${keys(ks)} | ${reason} |`);
  out.push('', '## Deprecated spellings, mapped as Axolotl maps them', '');
  for (const [from, to] of Object.entries(DEPRECATED_ALIASES)) out.push(`- \`${from}\` → \`${to}\``);
  out.push('', '## No effect on a step', '', `${none.length} keys (data preparation, tokenizer, schedules, logging, evaluation, checkpoints, hubs): ${keys([...none].sort())}.`, '');
  return out.join('\n');
}

// `npm run docs:keys`
if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(process.argv[2] ?? 'docs/AXOLOTL-KEYS.md', keyDocsMarkdown());
}
