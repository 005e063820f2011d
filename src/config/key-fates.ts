/**
 * The fate of every key of Axolotl's config schema that the simulator does not read through its own schema
 * (src/config/schema.ts): axolotl `src/axolotl/utils/schemas/*.py` (AxolotlInputConfig and its mixins, the
 * deprecated and remapped parameters) and the integration plugins' args (`src/axolotl/integrations/*\/args.py`)
 * at commit 067b021c.
 *
 * - no-effect: the key does not change the time or memory of a training step (data preparation, tokenizer,
 *   learning-rate schedule, logging, evaluation cadence, checkpointing, hub) — accepted silently.
 * - warn: it changes time or memory but is not modelled; the result carries a warning naming the key and what
 *   is assumed instead (only when the key is set to something other than its off value).
 * - refuse: it turns the run into something this simulator does not model (RL trainers with reference
 *   models or generation, distillation, custom trainers) — one line, exit 2.
 *
 * Keys Axolotl drops itself (fsdp_config keys its FSDPConfig does not carry) are handled where fsdp_config is
 * read (src/config/resolve.ts).
 */

export type KeyFate =
  | { fate: 'no-effect' }
  | { fate: 'warn'; assumed: string }
  | { fate: 'refuse'; reason: string };

const noEffect = (keys: string): [string, KeyFate][] => keys.trim().split(/\s+/).map((k) => [k, { fate: 'no-effect' }]);
const warn = (assumed: string, keys: string): [string, KeyFate][] => keys.trim().split(/\s+/).map((k) => [k, { fate: 'warn', assumed }]);
const refuse = (reason: string, keys: string): [string, KeyFate][] => keys.trim().split(/\s+/).map((k) => [k, { fate: 'refuse', reason }]);

export const KEY_FATES: ReadonlyMap<string, KeyFate> = new Map<string, KeyFate>([
  // Data preparation, tokenizer, prompt formatting.
  ...noEffect(`test_datasets dataset_prepared_path dataset_processes dataset_num_proc dataset_keep_in_memory dataset_exact_deduplication
    dataset_shard_num dataset_shard_idx shuffle_merged_datasets shuffle_before_merging_datasets skip_prepare_dataset is_preprocess preprocess_iterable
    push_dataset_to_hub num_dataset_shards_to_save val_set_size chat_template chat_template_jinja chat_template_kwargs default_system_message
    special_tokens tokens added_tokens_overrides eot_tokens tokenizer_type tokenizer_config tokenizer_use_fast tokenizer_legacy tokenizer_save_jinja_files
    tokenizer_use_mistral_common train_on_inputs role_boundaries excess_length_strategy max_prompt_len streaming
    streaming_multipack_buffer_size pretrain_multipack_buffer_size pretraining_sample_concatenation curriculum_sampling sample_packing_bin_size
    sample_packing_group_size sample_packing_mp_start_method sample_packing_sequentially total_num_tokens total_supervised_tokens
    processor_kwargs image_resize_algorithm image_size eval_sample_packing remove_unused_columns dataloader_num_workers dataloader_pin_memory
    dataloader_prefetch_factor dataloader_drop_last`),
  // Model identity and loading (no effect on a step's work; the architecture comes from base_model).
  ...noEffect(`model_type type_of_model tokenizer base_model_config cls_model_config model_revision revision_of_model
    is_llama_derived_model is_falcon_derived_model is_mistral_derived_model is_qwen_derived_model low_cpu_mem_usage device device_map max_memory
    gpu_memory_limit experimental_skip_move_to_device hf_use_auth_token lora_model_dir torchdistx_path model_kwargs overrides_of_model_kwargs
    axolotl_config_path resize_token_embeddings_to_32x mean_resizing_embeddings shrink_embeddings reinit_weights fix_untrained_tokens
    peft_init_lora_weights peft_ensure_weight_tying lora_fan_in_fan_out qlora_sharded_model_loading lora_on_cpu merge_lora merge_method
    processor_type rope_scaling strict debug local_rank world_size seed train_on_eos liger_kernel float32 pretrain_multipack_attn`),
  // Optimizer hyper-parameters and schedules (the optimizer itself is modelled through `optimizer`).
  ...noEffect(`learning_rate lr_scheduler lr_scheduler_kwargs lr_quadratic_warmup lr_div_factor lr_groups cosine_min_lr_ratio cosine_constant_lr_ratio
    warmup_steps warmup_ratio weight_decay adam_beta1 adam_beta2 adam_beta3 adam_epsilon adam_epsilon2 max_grad_norm optim_args
    embedding_lr embedding_lr_scale loraplus_lr_ratio loraplus_lr_embedding dion_lr dion_momentum dion_rank_fraction dion_rank_multiple_of
    num_epochs max_steps batch_size auto_find_batch_size jagged_restart_steps jagged_restart_warmup_steps jagged_restart_anneal_steps`),
  // Logging, evaluation, checkpoints, hubs, tracking (outside the training step).
  ...noEffect(`output_dir logging_steps eval_steps evals_per_epoch eval_strategy evaluation_strategy eval_batch_size eval_table_size eval_max_new_tokens
    eval_causal_lm_metrics do_causal_lm_eval do_bench_eval bench_dataset bench_split eval_sequence_len save_steps saves_per_epoch save_strategy save_total_limit
    save_first_step save_safetensors save_only_model load_best_model_at_end metric_for_best_model greater_is_better early_stopping_patience
    resume_from_checkpoint auto_resume_from_checkpoints hub_model_id hub_revision hub_strategy fsdp_final_state_dict_type
    wandb_project wandb_entity wandb_name wandb_run_id wandb_watch wandb_log_model wandb_mode use_wandb mlflow_tracking_uri mlflow_experiment_name
    mlflow_run_name hf_mlflow_log_artifacts use_mlflow comet_api_key comet_workspace comet_project_name comet_experiment_key comet_mode comet_online
    comet_experiment_config use_comet trackio_project_name trackio_run_name trackio_space_id use_trackio use_tensorboard use_otel_metrics
    otel_metrics_host otel_metrics_port include_tokens_per_second include_tkps profiler_steps profiler_steps_start loss_watchdog_threshold
    loss_watchdog_patience gc_steps gc_collect_steps torch_empty_cache_steps generate_samples num_generation_samples generation_max_new_tokens
    generation_temperature generation_top_k generation_top_p generation_do_sample generation_prompt_ratio gradio_title gradio_share
    gradio_server_name gradio_server_port gradio_max_new_tokens gradio_temperature ddp_timeout ddp_broadcast_buffers ddp_find_unused_parameters ddp
    use_ray ray_run_name ray_num_workers resources_per_worker accelerator_config flex_attn_compile_kwargs
    torch_compile_backend torch_compile_options lm_eval_tasks lm_eval_batch_size lm_eval_post_train lm_eval_model save_compressed`),
  // Accepted but not modelled: warnings with the assumption.
  ...warn('fp32 LayerNorm/RMSNorm weights are not modelled: norms stay in the model dtype', 'fp32_norms fp32_norm_classes embeddings_skip_upcast'),
  ...warn('quantisation-aware training (fake-quantised forward) is not modelled', 'qat quantization'),
  // tiled_mlp / tiled_mlp_num_shards are modelled (schema.ts); which MLP forward runs inside the tiles does not change the work.
  ...noEffect('tiled_mlp_use_original_mlp'),
  ...warn('per-module LoRA ranks are not modelled: lora_r everywhere', 'lora_rank_pattern lora_alpha_pattern'),
  ...warn('layer replication / trainable token indices are not modelled', 'peft_layer_replication peft_trainable_token_indices peft_layers_pattern peft'),
  ...warn('GPTQ bases are modelled only through a pre-quantised checkpoint (quantization_config)', 'gptq'),
  // quantize_moe_experts is modelled (config/peft.ts); these tune how the quantised experts are stored or run.
  ...warn('MoE quantisation variants are not modelled: bitsandbytes NF4/int8 experts (quantize_moe_experts) as configured, the rest of the model as load_in_* says', 'moe_bnb_fast moe_dequant_chunk_size nonexpert_quantization gemma4_nf4_nonexpert gemma4_fp8_nonexpert'),
  ...warn('the load-time quantisation override is not modelled: weights in the model dtype', 'model_quantization_config model_quantization_config_kwargs'),
  ...warn('layer offloading to the CPU is not modelled', 'layer_offloading relora_cpu_offload'),
  ...warn('dynamic / selective checkpoint policies are modelled as full checkpointing', 'dynamic_checkpoint selective_checkpointing'),
  ...warn('group_by_length is not modelled: micro-batches are drawn at random (padding from the document-length assumption)', 'group_by_length'),
  ...warn('the packing efficiency estimate is not modelled: packed rows are assumed full', 'sample_packing_eff_est max_packed_sequence_len batch_flattening'),
  ...warn('the torch.compile mode is not modelled: default compile', 'torch_compile_mode'),
  ...warn('attention kernel options beyond attn_implementation are not modelled', 'sdpa_varlen large_head_attention gemma4_hybrid_attn_impl fused_attn_kernel flash_attn_d512 use_kernels scaling_softmax scaling_softmax_factor scaling_softmax_bias s2_attention flash_attn_cross_entropy flash_attn_fuse_qkv flash_attn_fuse_mlp flash_attn_rms_norm flash_optimum'),
  ...warn("Axolotl's context-parallel ring options are not modelled: contiguous ring attention", 'ring_attn_func heads_k_stride'),
  ...warn('ReLoRA / LISA / PoSE / EAFT / NEFTune training tweaks are not modelled: a plain step', 'relora relora_prune_method relora_prune_ratio lisa_n_layers lisa_step_interval lisa_layers_attribute use_pose pose_split_on_token_ids pose_max_context_len pose_num_chunks use_eaft eaft_alpha eaft_k neftune_noise_alpha noisy_embedding_alpha'),
  ...warn('Q-GaLore / optimizer target modules are not modelled: the optimizer updates every trainable parameter', 'optim_target_modules qgalore_rank qgalore_update_proj_gap qgalore_scale qgalore_proj_type qgalore_proj_quant qgalore_proj_bits qgalore_proj_group_size qgalore_cos_threshold qgalore_gamma_proj qgalore_queue_size'),
  ...warn("DeepSpeed's compiler is not modelled", 'deepcompile'),
  ...warn('freezing multimodal towers is not modelled: the towers are not simulated at all', 'freeze_mm_modules'),
  ...warn('Liger variants beyond the modelled kernels are not modelled', 'liger_rms_norm_gated liger_swiglu liger_use_token_scaling'),
  // expert_parallel_size and expert_parallel_num_nvl_bytes are modelled (src/config/schema.ts, src/strategy/expert-parallel.ts).
  ...noEffect('expert_parallel_backend expert_parallel_fallback_on_unsupported'),
  ...warn("DeepEP's RDMA (internode low-latency) buffer is not modelled: inter-node dispatch runs as NCCL all-to-all", 'expert_parallel_num_rdma_bytes'),
  ...warn('the per-expert token capacity is not modelled: no (token, expert) assignments are dropped', 'expert_parallel_token_capacity'),
  ...warn('MoE kernel backends are not modelled: experts run as grouped_mm / eager per experts_implementation', 'expert_backend moe_grouped_backend dense_mixer use_scattermoe use_sonicmoe'),
  ...warn('model-specific kernel plugins are not modelled: eager transformers modules', 'use_dsv4_kernels dsv4_bf16_all dsv4_fp4_grouped_mode dsv4_fp8_lora_kernel dsv4_fp8_nonexpert_mode dsv4_shared_mlp_lora_kernel use_glm_dsa_kernels nvfp4_merge_aware nvfp4_merge_aware_start_step use_onebitllms'),
  ...warn('Spectrum / MoRA / Grokfast / LLM Compressor plugins are not modelled', 'spectrum_top_fraction spectrum_model_name mora grokfast_alpha grokfast_lamb llmcompressor recipe'),
  // SwanLab tracking (integrations/swanlab/args.py).
  ...noEffect('use_swanlab swanlab_api_host swanlab_api_key swanlab_completion_log_interval swanlab_completion_max_buffer swanlab_description swanlab_experiment_name swanlab_lark_secret swanlab_lark_webhook_url swanlab_log_completions swanlab_log_model swanlab_mode swanlab_project swanlab_web_host swanlab_workspace'),
  // The reward trainer's loss option (a mean of squared rewards: nothing measurable in a step).
  ...noEffect('center_rewards_coefficient'),
  // Options of the refused trainers below: their gate key (kd_trainer, nemo_gym_enabled) carries the refusal.
  ...noEffect(`kd_beta kd_normalize_topk kd_online_server_base_url kd_online_timeout kd_online_topk kd_temperature_min nemo_gym_auto_clone
    nemo_gym_auto_start nemo_gym_config_paths nemo_gym_datasets nemo_gym_dir nemo_gym_head_port nemo_gym_max_turns nemo_gym_model_name
    nemo_gym_multi_turn nemo_gym_run_timeout nemo_gym_server_timeout nemo_gym_verify_timeout`),
  // Out of scope: the step these run is not a supervised language-model step.
  // `rl: dpo | ipo | orpo | simpo | kto` are modelled (config/trainer.ts); their loss options change no work.
  ...noEffect('rl_beta dpo_beta dpo_loss_type dpo_label_smoothing dpo_use_weighting dpo_norm_loss dpo_loss_weights kto_desirable_weight kto_undesirable_weight orpo_alpha cpo_alpha simpo_gamma rpo_alpha dpo_generate_during_eval'),
  ...warn('the DPO variant options are not modelled: full logits, padded rows, the standard loss', 'dpo_use_logits_to_keep dpo_padding_free dpo_use_liger_kernel'),
  ...refuse('RL trainers with generation (GRPO, online DPO, NeMo Gym) run a generation engine that is not simulated', 'trl vllm nemo_gym_enabled'),
  ...refuse('knowledge distillation runs a teacher model that is not simulated', 'kd_trainer kd_alpha kd_ce_alpha kd_temperature kd_online_server'),
  // `diffusion` (the diffusion plugin) and `ebft` (strided mode) are modelled: src/config/diffusion.ts, ebft.ts.
  ...refuse('custom trainer classes are not simulated', 'trainer_cls hatchery'),
]);

/** Whether a value means "off" (then a warn/refuse key has nothing to say). */
export function isOff(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

/**
 * Deprecated spellings Axolotl still accepts and maps (utils/schemas/deprecated.py, validation.py):
 * the simulator reads the new key.
 */
export const DEPRECATED_ALIASES: Readonly<Record<string, string>> = {
  sequence_parallel_degree: 'context_parallel_size',
  // deprecated.py: `overrides_of_model_config: dict = Field(alias="model_config")` — merged over the base config.
  overrides_of_model_config: 'model_config',
};
