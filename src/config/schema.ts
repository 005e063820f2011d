import { z } from 'zod';

// zod 4 writes and compiles (`new Function`) a parser per object schema on its first parse. A run parses
// its scenario and a hardware profile a handful of times, the advisor's variants a dozen more: the
// compiles cost more than they save (measured: the 70B report, and `npm run bench:sweep`).
z.config({ jitless: true });

/**
 * The keys the simulator reads, with Axolotl's names and types. Every other Axolotl key has a fate in
 * key-fates.ts (no effect, warning, refusal); a key Axolotl does not know gets a "did you mean" warning.
 */
// Range before integrality: zod's int check also rejects numbers past 2^53, which are whole but uncountable.
const positiveInt = z.number().positive('must be positive').max(Number.MAX_SAFE_INTEGER, 'must be at most 2^53 − 1 = 9007199254740991').int('must be a whole number');

const straggler = z
  .object({
    rank: z.number().int('must be a whole number').nonnegative('must be ≥ 0'),
    compute_slowdown: z.number().min(1, 'must be ≥ 1 (1 = normal speed)').optional(),
    link_slowdown: z.number().min(1, 'must be ≥ 1 (1 = normal speed)').optional(),
  })
  .strict();

export const simulationSchema = z
  .object({
    hardware: z.string().min(1).optional(),
    num_nodes: positiveInt.optional(),
    gpus: positiveInt.optional(),
    seed: z.union([z.string(), z.number()]).optional(),
    steps: positiveInt.optional(),
    jitter: z.number().min(0, 'must be ≥ 0').max(0.5, 'must be ≤ 0.5 (a relative standard deviation)').optional(),
    stragglers: z.array(straggler).optional(),
    inter_node_bandwidth: z.union([z.string(), z.number()]).optional(),
    master_weights: z.enum(['fp32', 'bf16']).optional(),
    sequence_parallel: z.boolean().optional(),
    fsdp_gradient_sync: z.enum(['final_micro_batch', 'every_micro_batch']).optional(),
    // Expert parallelism: the slowest rank's routed rows over the mean (what-if; default: sampled, src/strategy/expert-parallel.ts).
    expert_load_imbalance: z.number().min(1, 'must be ≥ 1 (the slowest rank over the mean)').optional(),
    // Which trainer runs the config: Axolotl's own choices (its fused LoRA kernels, switched on by default)
    // apply only to `axolotl`; `other` is a run of the same keys elsewhere (torchtune, a PEFT script).
    framework: z.enum(['axolotl', 'other']).optional(),
    // The fused attention kernel behind the backend, when a run used an older one than FlashAttention-2
    // (src/config/attention.ts ATTENTION_KERNELS).
    attention_kernel: z.enum(['flash_attention_2', 'flash_attention_1', 'flash_attention_triton']).optional(),
    // With torch_compile outside Axolotl: whether the loss was compiled with the model (src/config/kernels.ts).
    compile_loss: z.boolean().optional(),
    // With tensor parallel outside Axolotl: the loss runs on vocab-sharded logits (torch loss_parallel).
    loss_parallel: z.boolean().optional(),
    document_length: z
      .object({
        mean_tokens: z.number().positive('must be positive').optional(),
        sigma: z.number().min(0, 'must be ≥ 0').max(3, 'must be ≤ 3').optional(),
        max_tokens: positiveInt.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const fsdpConfigSchema = z
  .object({
    reshard_after_forward: z.boolean().optional(),
    offload_params: z.boolean().optional(),
    cpu_offload_pin_memory: z.boolean().optional(),
    forward_prefetch: z.boolean().optional(),
    backward_prefetch: z.enum(['BACKWARD_PRE', 'BACKWARD_POST', 'NO_PREFETCH']).optional(),
    limit_all_gathers: z.boolean().optional(),
    sharding_strategy: z.enum(['FULL_SHARD', 'SHARD_GRAD_OP', 'NO_SHARD', 'HYBRID_SHARD', '_HYBRID_SHARD_ZERO2']).optional(),
    activation_checkpointing: z.boolean().optional(),
    auto_wrap_policy: z.string().optional(),
    transformer_layer_cls_to_wrap: z.union([z.string(), z.array(z.string())]).optional(),
    state_dict_type: z.string().optional(),
    final_state_dict_type: z.string().optional(),
    sync_module_states: z.boolean().optional(),
    use_orig_params: z.boolean().optional(),
    cpu_ram_efficient_loading: z.boolean().optional(),
    mixed_precision_policy: z.unknown().optional(),
  })
  .strict();

// Axolotl's EBFTConfig (utils/schemas/config.py), every field with its bounds; the modelled ones are read in
// src/config/ebft.ts.
const ebftSchema = z
  .object({
    feature_layers: z.array(z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1')).optional(),
    embed_method: z.enum(['last_token', 'mean_pooling', 'completion_mean', 'concat']).optional(),
    use_whitening: z.boolean().optional(),
    alignment_coef: z.number().optional(),
    diversity_coef: z.number().optional(),
    ce_coef: z.number().optional(),
    adaptive_max_tokens: z.boolean().optional(),
    gt_length_multiplier: z.number().min(0.1, 'must be ≥ 0.1').optional(),
    mode: z.enum(['structured', 'strided']).optional(),
    stride: positiveInt.optional(),
    context_length: positiveInt.optional(),
    generate_max_len: positiveInt.optional(),
    n_samples_per_prompt: positiveInt.optional(),
    temperature: z.number().min(0, 'must be ≥ 0').optional(),
    top_p: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').optional(),
    rl_coef: z.number().optional(),
    advantage_estimator: z.enum(['rloo', 'group_norm', 'reinforce']).optional(),
    min_completion_prefix: z.number().int('must be a whole number').min(0, 'must be ≥ 0').optional(),
  })
  .strict();

// The diffusion plugin's DiffusionConfig (integrations/diffusion/args.py); read in src/config/diffusion.ts.
const diffusionSchema = z
  .object({
    noise_schedule: z.enum(['linear', 'cosine']).optional(),
    min_mask_ratio: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').optional(),
    max_mask_ratio: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').optional(),
    num_diffusion_steps: positiveInt.optional(),
    eps: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').optional(),
    importance_weighting: z.boolean().optional(),
    mask_token_id: z.number().int('must be a whole number').nullable().optional(),
    mask_token_str: z.string().nullable().optional(),
    generate_samples: z.boolean().optional(),
    generation_interval: positiveInt.optional(),
    num_generation_samples: positiveInt.optional(),
    generation_steps: positiveInt.optional(),
    generation_temperature: z.number().min(0, 'must be ≥ 0').optional(),
    generation_max_length: positiveInt.optional(),
  })
  .strict()
  .refine((d) => (d.min_mask_ratio ?? 0.1) <= (d.max_mask_ratio ?? 0.9), { message: 'min_mask_ratio must be ≤ max_mask_ratio (Axolotl DiffusionConfig)', path: ['min_mask_ratio'] });

export const scenarioSchema = z.object({
  base_model: z.string().min(1).optional(),
  model_config: z.record(z.string(), z.unknown()).optional(),
  sequence_len: positiveInt.optional(),
  micro_batch_size: positiveInt.optional(),
  gradient_accumulation_steps: positiveInt.optional(),
  bf16: z.union([z.boolean(), z.literal('auto')]).nullable().optional(),
  fp16: z.boolean().nullable().optional(),
  bfloat16: z.boolean().nullable().optional(),
  float16: z.boolean().nullable().optional(),
  tf32: z.union([z.boolean(), z.literal('auto')]).nullable().optional(),
  flash_attention: z.boolean().nullable().optional(),
  attn_implementation: z.string().nullable().optional(),
  sdp_attention: z.boolean().nullable().optional(),
  flex_attention: z.boolean().nullable().optional(),
  xformers_attention: z.boolean().nullable().optional(),
  sage_attention: z.boolean().nullable().optional(),
  eager_attention: z.boolean().nullable().optional(),
  sample_packing: z.boolean().nullable().optional(),
  pad_to_sequence_len: z.boolean().nullable().optional(),
  pad_to_multiple_of: positiveInt.nullable().optional(),
  multipack_real_batches: z.boolean().nullable().optional(),
  // A config that trains on datasets has variable-length samples; a dataset with a profile
  // (src/config/datasets/) brings its measured lengths (config/dataset-profiles.ts).
  datasets: z.unknown().optional(),
  pretraining_dataset: z.unknown().optional(),
  min_sample_len: positiveInt.nullable().optional(),
  tiled_mlp: z.boolean().nullable().optional(),
  fp8: z.boolean().nullable().optional(),
  reward_model: z.boolean().nullable().optional(),
  rl: z.string().nullable().optional(),
  precompute_ref_log_probs: z.boolean().nullable().optional(),
  ebft: ebftSchema.nullable().optional(),
  diffusion: diffusionSchema.nullable().optional(),
  process_reward_model: z.boolean().nullable().optional(),
  num_labels: positiveInt.nullable().optional(),
  fp8_enable_fsdp_float8_all_gather: z.boolean().nullable().optional(),
  tiled_mlp_num_shards: positiveInt.nullable().optional(),
  torch_compile: z.union([z.boolean(), z.literal('auto')]).optional(),
  gradient_checkpointing: z.union([z.boolean(), z.enum(['selective', 'offload', 'offload_disk'])]).nullable().optional(),
  // Read for strided EBFT's use_reentrant rule only (src/config/resolve.ts).
  gradient_checkpointing_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  activation_offloading: z.union([z.boolean(), z.enum(['legacy', 'disk', 'hidden_states'])]).nullable().optional(),
  optimizer: z.string().min(1).optional(),
  // torchtune's optimizer_in_bwd (not an Axolotl key): the validation rows of torchtune runs carry it.
  optimizer_in_bwd: z.boolean().nullable().optional(),
  fsdp_version: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).optional(),
  fsdp_config: z.record(z.string(), z.unknown()).nullable().optional(),
  fsdp: z.union([z.array(z.string()), z.string()]).nullable().optional(),
  deepspeed: z.union([z.string(), z.record(z.string(), z.unknown())]).nullable().optional(),
  dp_shard_size: positiveInt.optional(),
  dp_replicate_size: positiveInt.optional(),
  tensor_parallel_size: positiveInt.optional(),
  context_parallel_size: positiveInt.optional(),
  // Axolotl's ExpertParallelPlugin (integrations/expert_parallel/args.py): EP degree and DeepEP's NVLink buffer.
  expert_parallel_size: positiveInt.optional(),
  expert_parallel_num_nvl_bytes: z.number().int('must be a whole number of bytes').nonnegative('must be ≥ 0').optional(),
  ddp_bucket_cap_mb: z.number().positive('must be positive').optional(),
  experts_implementation: z.string().nullable().optional(),
  // Fused kernels and losses (src/config/kernels.ts)
  liger_rms_norm: z.boolean().nullable().optional(),
  liger_layer_norm: z.boolean().nullable().optional(),
  liger_glu_activation: z.boolean().nullable().optional(),
  liger_rope: z.boolean().nullable().optional(),
  liger_cross_entropy: z.boolean().nullable().optional(),
  liger_fused_linear_cross_entropy: z.boolean().nullable().optional(),
  cut_cross_entropy: z.boolean().nullable().optional(),
  chunked_cross_entropy: z.boolean().nullable().optional(),
  chunked_cross_entropy_num_chunks: positiveInt.nullable().optional(),
  // PEFT (src/config/peft.ts)
  adapter: z.string().nullable().optional(),
  lora_r: positiveInt.nullable().optional(),
  lora_alpha: z.number().positive('must be positive').nullable().optional(),
  lora_dropout: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').nullable().optional(),
  lora_target_modules: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  lora_target_linear: z.boolean().nullable().optional(),
  lora_target_parameters: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  lora_modules_to_save: z.array(z.string()).nullable().optional(),
  unfrozen_parameters: z.union([z.string(), z.array(z.string())]).nullable().optional(),
  peft_use_dora: z.boolean().nullable().optional(),
  peft_use_rslora: z.boolean().nullable().optional(),
  peft_layers_to_transform: z.array(z.number().int().nonnegative()).nullable().optional(),
  peft_autocast_adapter_dtype: z.boolean().nullable().optional(),
  lora_mlp_kernel: z.boolean().nullable().optional(),
  lora_qkv_kernel: z.boolean().nullable().optional(),
  lora_o_kernel: z.boolean().nullable().optional(),
  lora_embedding_kernel: z.boolean().nullable().optional(),
  trust_remote_code: z.boolean().nullable().optional(),
  plugins: z.array(z.string()).nullable().optional(),
  llama4_linearized_experts: z.boolean().nullable().optional(),
  load_in_4bit: z.boolean().nullable().optional(),
  load_in_8bit: z.boolean().nullable().optional(),
  quantize_moe_experts: z.boolean().nullable().optional(),
  bnb_config_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  simulation: simulationSchema.optional(),
});

export type ScenarioInput = z.infer<typeof scenarioSchema>;
export type SimulationInput = z.infer<typeof simulationSchema>;
export type FsdpConfigInput = z.infer<typeof fsdpConfigSchema>;

/** Keys the schema understands, for "did you mean" on typos. */
export const MODELLED_KEYS: readonly string[] = Object.keys(scenarioSchema.shape);
