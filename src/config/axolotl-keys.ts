/**
 * Axolotl config keys the simulator does not model but accepts silently, so a real training YAML loads
 * as it is (from axolotl `src/axolotl/utils/schemas/config.py` and its sub-schemas). A key in neither
 * this list nor the schema gets a "did you mean" warning.
 */
export const IGNORED_AXOLOTL_KEYS: readonly string[] = [
  'test_datasets', 'dataset_prepared_path', 'val_set_size', 'output_dir', 'shuffle_merged_datasets',
  'dataset_processes', 'chat_template', 'default_system_message', 'special_tokens', 'tokens', 'tokenizer_type',
  'tokenizer_config', 'model_type', 'tokenizer_use_fast', 'trust_remote_code', 'revision_of_model', 'is_llama_derived_model',
  'learning_rate', 'lr_scheduler', 'lr_scheduler_kwargs', 'warmup_steps', 'warmup_ratio', 'cosine_min_lr_ratio',
  'weight_decay', 'adam_beta1', 'adam_beta2', 'adam_epsilon', 'max_grad_norm', 'num_epochs', 'max_steps',
  'logging_steps', 'eval_steps', 'evals_per_epoch', 'save_steps', 'saves_per_epoch', 'save_total_limit',
  'save_strategy', 'eval_strategy', 'seed', 'resume_from_checkpoint', 'auto_resume_from_checkpoints',
  'wandb_project', 'wandb_entity', 'wandb_name', 'wandb_log_model', 'wandb_watch', 'wandb_run_id', 'mlflow_tracking_uri',
  'hub_model_id', 'push_dataset_to_hub', 'hf_use_auth_token', 'strict', 'debug', 'train_on_inputs', 'group_by_length',
  'eval_sample_packing', 'sample_packing_eff_est',

  'lora_model_dir', 's2_attention',
  'flash_attn_cross_entropy', 'flash_attn_rms_norm', 'flash_attn_fuse_qkv', 'flash_attn_fuse_mlp', 'liger_kernel',
  'plugins', 
  'gradient_checkpointing_kwargs', 'early_stopping_patience', 'local_rank', 'torch_compile_backend',
  'ddp_timeout', 'ddp_broadcast_buffers', 'ddp_find_unused_parameters', 'dataloader_num_workers',
  'dataloader_pin_memory', 'dataloader_prefetch_factor', 'tf32', 'fp16', 'float16', 'bfloat16', 'eval_batch_size',
  'loss_watchdog_threshold', 'loss_watchdog_patience', 'gc_steps', 'unfrozen_parameters', 'neftune_noise_alpha',
  'rl', 'trl', 'dpo_beta', 'remove_unused_columns', 'train_on_eos', 'sequence_parallel_degree', 'heads_k_stride',
  'ring_attn_func', 'save_safetensors', 'save_only_model', 'use_tensorboard', 'profiler_steps', 'include_tokens_per_second',
  'base_model_config', 'tokenizer_legacy', 'resize_token_embeddings_to_32x', 'embeddings_skip_upcast', 
  'low_cpu_mem_usage', 'fsdp_final_state_dict_type', 'lr_quadratic_warmup', 'optim_args', 'optim_target_modules',
  'torchdistx_path', 'streaming', 'max_packed_sequence_len', 'skip_prepare_dataset',
];
