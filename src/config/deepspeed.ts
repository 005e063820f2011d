import { resolve as resolvePath } from 'node:path';
import { pathKind, readTextFile } from '../io/files.ts';
import { closest, ShardsimError } from '../util/errors.ts';
import { bytesOf, type Dtype } from '../util/dtype.ts';
import type { Mesh, Precision, StrategyName } from './types.ts';

/**
 * Axolotl's `deepspeed:` key: a path to a DeepSpeed JSON config (as Axolotl takes it) or, in validation
 * rows, the config object itself. Parsed with DeepSpeed's own defaults and validation rules, then checked
 * against the Axolotl keys the way HF Trainer fills the config's "auto" values.
 *
 * Defaults and rules, from DeepSpeed (deepspeedai/DeepSpeed):
 * - `deepspeed/runtime/zero/config.py` `DeepSpeedZeroConfig`: stage 0, contiguous_gradients true,
 *   reduce_scatter true, reduce_bucket_size 5e8, use_multi_rank_bucket_allreduce true,
 *   allgather_bucket_size 5e8, overlap_comm None → true only for stage 3 (`overlap_comm_valid`),
 *   sub_group_size 1e9, stage3_prefetch_bucket_size 5e7, stage3_param_persistence_threshold 1e5,
 *   stage3_max_live_parameters 1e9, stage3_max_reuse_distance 1e9. The stage-3 knobs are pydantic fields
 *   with the `stage3_` name as alias, so both spellings are accepted (`populate_by_name`).
 * - `deepspeed/runtime/config_utils.py` `DeepSpeedConfigModel`: `extra="forbid"` (an unknown key inside
 *   `zero_optimization` is an error) and `"auto"` values are dropped before validation, so a DeepSpeed
 *   default applies to any "auto" HF Trainer did not fill.
 * - `deepspeed/runtime/zero/offload_config.py`: `device` none|cpu|nvme, `pin_memory` false; parameter
 *   offload is valid only with stage 3.
 * - `deepspeed/runtime/constants.py`: bf16/fp16 `enabled` false, `bf16_master_weights_and_grads` and
 *   `bf16_optimizer_states` false, `data_types.grad_accum_dtype` None (= the model dtype,
 *   engine.py `get_data_types`), `communication_data_type` None (= the model dtype, engine.py
 *   `communication_data_type`), gradient_accumulation_steps / train_micro_batch_size_per_gpu None.
 *
 * HF Trainer's fill-in (transformers `integrations/deepspeed.py` `HfTrainerDeepSpeedConfig`):
 * `fill_match` sets "auto" from the training arguments and refuses a number that disagrees with them
 * (`gradient_accumulation_steps`, `train_micro_batch_size_per_gpu`, `train_batch_size`, `bf16.enabled`);
 * `trainer_config_finalize` fills `zero_optimization.reduce_bucket_size` = h², and for stage 3
 * `stage3_prefetch_bucket_size` = 0.9·h² and `stage3_param_persistence_threshold` = 10·h — only those exact
 * (prefixed) keys, so Axolotl's `"prefetch_bucket_size": "auto"` falls back to DeepSpeed's default.
 */
export interface DeepSpeedConfig {
  /** The file it came from, or "inline". */
  source: string;
  stage: 0 | 1 | 2 | 3;
  /** Elements per gradient bucket; 'auto' = h² (HF Trainer). */
  reduceBucketSize: number | 'auto';
  /** Elements per AllGather of updated parameters after a ZeRO-1/2 step. */
  allgatherBucketSize: number;
  /** ZeRO-3: elements prefetched ahead of use; 'auto' = 0.9·h². */
  prefetchBucketSize: number | 'auto';
  /** ZeRO-3: tensors with at most this many elements are not partitioned; 'auto' = 10·h. */
  paramPersistenceThreshold: number | 'auto';
  maxLiveParameters: number;
  maxReuseDistance: number;
  subGroupSize: number;
  overlapComm: boolean;
  contiguousGradients: boolean;
  reduceScatter: boolean;
  useMultiRankBucketAllreduce: boolean;
  offloadOptimizer?: { pinMemory: boolean };
  offloadParam?: { pinMemory: boolean };
  /** `bf16.enabled` / `fp16.enabled`: undefined when the section is absent. */
  bf16?: boolean | 'auto';
  fp16?: boolean | 'auto';
  bf16MasterWeightsAndGrads: boolean;
  bf16OptimizerStates: boolean;
  gradAccumDtype?: Dtype;
  communicationDtype?: Dtype;
  gradientAccumulationSteps?: number | 'auto';
  trainMicroBatchSizePerGpu?: number | 'auto';
  trainBatchSize?: number | 'auto';
  /** The config names its own optimizer (DeepSpeed builds FusedAdam / DeepSpeedCPUAdam). */
  hasOptimizerSection: boolean;
  /** `zero_force_ds_cpu_optimizer` (default true). */
  forceDsCpuOptimizer: boolean;
  warnings: string[];
}

/** The settings a ZeRO lowering uses, with every hidden-size dependent "auto" resolved. */
export interface ZeroBuckets {
  reduceBucketElements: number;
  prefetchBucketElements: number;
  paramPersistenceThreshold: number;
}

const DEFAULTS = {
  reduce_bucket_size: 5e8,
  allgather_bucket_size: 5e8,
  prefetch_bucket_size: 5e7,
  param_persistence_threshold: 1e5,
  max_live_parameters: 1e9,
  max_reuse_distance: 1e9,
  sub_group_size: 1e9,
} as const;

/** Every field of `DeepSpeedZeroConfig` (config.py), by field name and by alias. */
const ZERO_KEYS = [
  'stage', 'contiguous_gradients', 'reduce_scatter', 'reduce_bucket_size', 'use_multi_rank_bucket_allreduce',
  'allgather_partitions', 'allgather_bucket_size', 'overlap_comm', 'load_from_fp32_weights', 'elastic_checkpoint',
  'offload_param', 'offload_optimizer', 'zenflow', 'sub_group_size', 'cpu_offload_param', 'cpu_offload_use_pin_memory',
  'cpu_offload', 'prefetch_bucket_size', 'stage3_prefetch_bucket_size', 'param_persistence_threshold',
  'stage3_param_persistence_threshold', 'model_persistence_threshold', 'stage3_model_persistence_threshold',
  'max_live_parameters', 'stage3_max_live_parameters', 'max_reuse_distance', 'stage3_max_reuse_distance',
  'gather_16bit_weights_on_model_save', 'stage3_gather_16bit_weights_on_model_save', 'module_granularity_threshold',
  'stage3_module_granularity_threshold', 'use_all_reduce_for_fetch_params', 'stage3_use_all_reduce_for_fetch_params',
  'allgather_sequential', 'stage3_allgather_sequential', 'partition_stream_chunk_size', 'stage3_partition_stream_chunk_size',
  'stage3_gather_fp16_weights_on_model_save', 'ignore_unused_parameters', 'legacy_stage1', 'round_robin_gradients',
  'zero_hpz_partition_size', 'zero_quantized_weights', 'zero_quantized_nontrainable_weights', 'zero_quantized_gradients',
  'zeropp_loco_param', 'mics_shard_size', 'mics_hierarchical_params_gather', 'memory_efficient_linear',
  'pipeline_loading_checkpoint', 'override_module_apply', 'log_trace_cache_warnings', 'enable_sanity_checks',
  'save_muon_momentum_buffer_in_memory', 'leaf_module',
];
const OFFLOAD_OPTIMIZER_KEYS = ['device', 'nvme_path', 'buffer_count', 'pin_memory', 'pipeline_read', 'pipeline_write', 'fast_init', 'ratio', 'super_offload', 'convert_grad_on_cpu', 'cpuadam_cores_perc'];
const OFFLOAD_PARAM_KEYS = ['device', 'nvme_path', 'buffer_count', 'buffer_size', 'max_in_cpu', 'pin_memory'];
const BF16_KEYS = ['enabled', 'immediate_grad_update', 'check_grad_overflow', 'check_overflow', 'bf16_master_weights_and_grads', 'bf16_optimizer_states'];
const FP16_KEYS = ['enabled', 'auto_cast', 'loss_scale', 'initial_scale_power', 'loss_scale_window', 'hysteresis', 'consecutive_hysteresis', 'min_loss_scale', 'fp16_master_weights_and_grads'];
/** Top-level DeepSpeed keys that do not change what shardsim models (accepted silently). */
const IGNORED_TOP_KEYS = [
  'optimizer', 'scheduler', 'gradient_clipping', 'steps_per_print', 'wall_clock_breakdown', 'dump_state', 'prescale_gradients',
  'gradient_predivide_factor', 'sparse_gradients', 'amp', 'torch_autocast', 'activation_checkpointing', 'flops_profiler',
  'tensorboard', 'wandb', 'csv_monitor', 'comet', 'comms_logger', 'aio', 'elasticity', 'checkpoint', 'data_efficiency',
  'curriculum_learning', 'compression_training', 'autotuning', 'zero_allow_untested_optimizer', 'zero_force_ds_cpu_optimizer',
  'memory_breakdown', 'dataloader_drop_last', 'seq_parallel_communication_data_type', 'graph_harvesting', 'tensor_parallel',
  'pipeline', 'eigenvalue', 'progressive_layer_drop', 'quantize_training', 'sparse_attention', 'weight_quantization',
  'hybrid_engine', 'nebula', 'compile', 'timers', 'use_data_before_expert_parallelism', 'disable_allgather', 'vocabulary_size',
  'load_universal_checkpoint', 'use_node_local_storage', 'zero_optimization', 'bf16', 'bfloat16', 'fp16', 'data_types',
  'communication_data_type', 'gradient_accumulation_steps', 'train_micro_batch_size_per_gpu', 'train_batch_size',
  'data_parallel_size', 'sequence_parallel_size', 'mics_shard_size',
];

const DTYPES: Record<string, Dtype> = {
  fp32: 'fp32', float32: 'fp32', float: 'fp32', 'torch.float32': 'fp32', 'torch.float': 'fp32',
  fp16: 'fp16', float16: 'fp16', half: 'fp16', 'torch.float16': 'fp16', 'torch.half': 'fp16',
  bf16: 'bf16', bfloat16: 'bf16', 'torch.bfloat16': 'bf16',
};

/**
 * The file a `deepspeed:` path names. Axolotl opens the path as given, i.e. relative to the working directory
 * (axolotl utils/config/__init__.py normalize_config: `os.path.exists(cfg.deepspeed)`), so its example configs
 * run from the repository root; beside the scenario file is tried next. `shardsim playground` inlines the same
 * file.
 */
export function deepSpeedConfigPath(value: string, baseDir: string): string {
  const candidates = [...new Set([resolvePath(process.cwd(), value), resolvePath(baseDir, value)])];
  const path = candidates.find((c) => pathKind(c) === 'file');
  if (!path) {
    throw new ShardsimError(`cannot read DeepSpeed config "${value}" (looked for ${candidates.join(' and ')})`, { key: 'deepspeed', fix: 'give a path to a DeepSpeed JSON file, relative to the working directory (as Axolotl opens it) or to the scenario file' });
  }
  return path;
}

/**
 * Reads `deepspeed:` as Axolotl does: a string is a path to a JSON file (relative to the scenario's
 * folder), an object is the config itself.
 */
export function loadDeepSpeedConfig(value: string | Record<string, unknown>, baseDir: string): DeepSpeedConfig {
  if (typeof value !== 'string') return parseDeepSpeedConfig(value, 'inline');
  const path = deepSpeedConfigPath(value, baseDir);
  // Bounded, regular files only, UTF-8 only (util/read-text.ts).
  const text = readTextFile(path, { what: 'DeepSpeed config', key: 'deepspeed', fix: 'give a path to a DeepSpeed JSON file, relative to the working directory (as Axolotl opens it) or to the scenario file', heapBytesPerByte: 10 });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ShardsimError(`${value} is not valid JSON: ${(e as Error).message.split('\n')[0]}`, { key: 'deepspeed', fix: 'fix the JSON syntax of the DeepSpeed config' });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ShardsimError(`${value} must hold a JSON object`, { key: 'deepspeed', fix: 'start the file with { "zero_optimization": { "stage": 3 } }' });
  }
  return parseDeepSpeedConfig(raw as Record<string, unknown>, value);
}

/** Validates a DeepSpeed config object and applies DeepSpeed's defaults. */
export function parseDeepSpeedConfig(raw: Record<string, unknown>, source: string): DeepSpeedConfig {
  const warnings: string[] = [];
  for (const key of Object.keys(raw)) {
    if (IGNORED_TOP_KEYS.includes(key)) continue;
    const guess = closest(key, IGNORED_TOP_KEYS, 1)[0];
    warnings.push(`deepspeed: unknown key "${key}" ignored (DeepSpeed ignores it too)${guess ? ` — did you mean "${guess}"?` : ''}`);
  }

  const zRaw = section(raw, 'zero_optimization', 'deepspeed.zero_optimization');
  if (typeof raw.zero_optimization === 'boolean') {
    throw new ShardsimError('the boolean form is deprecated', { key: 'deepspeed.zero_optimization', fix: 'write "zero_optimization": { "stage": 1 } (or 2, 3)' });
  }
  strict(zRaw, ZERO_KEYS, 'deepspeed.zero_optimization');
  const z = dropAuto(zRaw, ['reduce_bucket_size', 'stage3_prefetch_bucket_size', 'stage3_param_persistence_threshold']);
  const zk = (k: string) => `deepspeed.zero_optimization.${k}`;

  const stageRaw = z.stage ?? 0;
  if (stageRaw !== 0 && stageRaw !== 1 && stageRaw !== 2 && stageRaw !== 3) {
    throw new ShardsimError(`must be 0, 1, 2 or 3 (got ${JSON.stringify(stageRaw)})`, { key: zk('stage'), fix: 'use 1 (optimizer states), 2 (+ gradients) or 3 (+ parameters)' });
  }
  const stage = stageRaw as 0 | 1 | 2 | 3;

  const bucket = (names: string[], def: number, allowAuto: boolean): number | 'auto' => {
    const name = names.find((n) => z[n] !== undefined);
    if (name === undefined) return def;
    const v = z[name];
    if (v === 'auto' && allowAuto) return 'auto';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ShardsimError(`must be a number of elements ≥ 0${allowAuto ? ' or "auto"' : ''} (got ${JSON.stringify(v)})`, { key: zk(name), fix: `e.g. ${def.toExponential(0).replace('+', '')}` });
    }
    return Math.floor(v);
  };
  const num = (names: string[], def: number) => bucket(names, def, false) as number;
  // HF Trainer fills only the prefixed stage-3 names; the unprefixed alias with "auto" is dropped by DeepSpeed.
  const reduceBucketSize = bucket(['reduce_bucket_size'], DEFAULTS.reduce_bucket_size, true);
  const prefetchBucketSize = zRaw.stage3_prefetch_bucket_size === 'auto' ? 'auto' : num(['stage3_prefetch_bucket_size', 'prefetch_bucket_size'], DEFAULTS.prefetch_bucket_size);
  const paramPersistenceThreshold = zRaw.stage3_param_persistence_threshold === 'auto' ? 'auto' : num(['stage3_param_persistence_threshold', 'param_persistence_threshold'], DEFAULTS.param_persistence_threshold);

  const bool = (obj: Record<string, unknown>, k: string, def: boolean, key: string): boolean => {
    const v = obj[k];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') throw new ShardsimError(`must be true or false (got ${JSON.stringify(v)})`, { key, fix: `set ${k} to true or false` });
    return v;
  };

  const offloadOptimizer = offload(z, stage, 'offload_optimizer', OFFLOAD_OPTIMIZER_KEYS, warnings);
  const offloadParam = offload(z, stage, 'offload_param', OFFLOAD_PARAM_KEYS, warnings);
  // Deprecated spellings (config.py `cpu_offload`, `cpu_offload_param`, `cpu_offload_use_pin_memory`).
  const pinDeprecated = bool(z, 'cpu_offload_use_pin_memory', false, zk('cpu_offload_use_pin_memory'));
  const deprecatedOpt = bool(z, 'cpu_offload', false, zk('cpu_offload')) ? { pinMemory: pinDeprecated } : undefined;
  const deprecatedParam = bool(z, 'cpu_offload_param', false, zk('cpu_offload_param')) ? { pinMemory: pinDeprecated } : undefined;
  if (offloadParam && stage !== 3) {
    throw new ShardsimError(`parameter offload is valid only with stage 3 (stage is ${stage})`, { key: zk('offload_param'), fix: 'use "stage": 3, or remove offload_param (offload_optimizer works with stages 1-3)' });
  }

  for (const [k, what] of [['zero_hpz_partition_size', 'ZeRO++ hierarchical partitioning'], ['mics_shard_size', 'MiCS']] as const) {
    const v = z[k];
    if (typeof v === 'number' && v > 1) throw new ShardsimError(`${what} is not modelled by shardsim`, { key: zk(k), fix: `remove ${k} (or set ${k === 'mics_shard_size' ? '-1' : '1'})` });
  }
  for (const k of ['zero_quantized_weights', 'zero_quantized_gradients', 'zero_quantized_nontrainable_weights']) {
    if (z[k] === true) throw new ShardsimError('ZeRO++ quantized communication is not modelled by shardsim', { key: zk(k), fix: `set ${k} to false` });
  }
  if (z.zenflow !== undefined && z.zenflow !== null) throw new ShardsimError('ZenFlow is not modelled by shardsim', { key: zk('zenflow'), fix: 'remove zenflow' });
  if (z.legacy_stage1 === true) throw new ShardsimError('the legacy ZeRO-1 implementation was removed in DeepSpeed 0.5.9', { key: zk('legacy_stage1'), fix: 'set legacy_stage1 to false' });

  // bf16 (or its old name bfloat16) and fp16 sections.
  const bfKey = raw.bf16 !== undefined ? 'bf16' : 'bfloat16';
  const bfRaw = section(raw, bfKey, `deepspeed.${bfKey}`);
  strict(bfRaw, BF16_KEYS, `deepspeed.${bfKey}`);
  const fpRaw = section(raw, 'fp16', 'deepspeed.fp16');
  strict(fpRaw, FP16_KEYS, 'deepspeed.fp16');
  const enabled = (obj: Record<string, unknown>, present: boolean, key: string): boolean | 'auto' | undefined => {
    if (!present) return undefined;
    const v = obj.enabled;
    if (v === undefined) return false;
    if (v === 'auto' || typeof v === 'boolean') return v;
    throw new ShardsimError(`must be true, false or "auto" (got ${JSON.stringify(v)})`, { key: `${key}.enabled`, fix: 'use true, false or "auto"' });
  };
  const bf16 = enabled(bfRaw, raw[bfKey] !== undefined, `deepspeed.${bfKey}`);
  const fp16 = enabled(fpRaw, raw.fp16 !== undefined, 'deepspeed.fp16');
  if (bf16 === true && fp16 === true) {
    throw new ShardsimError('bf16 and fp16 cannot both be enabled (DeepSpeed asserts this)', { key: 'deepspeed.fp16.enabled', fix: 'enable one of them' });
  }
  const bf16MasterWeightsAndGrads = bool(bfRaw, 'bf16_master_weights_and_grads', false, `deepspeed.${bfKey}.bf16_master_weights_and_grads`);
  const bf16OptimizerStates = bool(bfRaw, 'bf16_optimizer_states', false, `deepspeed.${bfKey}.bf16_optimizer_states`);
  if (bf16OptimizerStates && !bf16MasterWeightsAndGrads) {
    throw new ShardsimError('is only valid with bf16_master_weights_and_grads (DeepSpeedBF16Config)', { key: `deepspeed.${bfKey}.bf16_optimizer_states`, fix: 'also set "bf16_master_weights_and_grads": true' });
  }
  if ((bf16MasterWeightsAndGrads || bf16OptimizerStates) && stage === 0) {
    throw new ShardsimError('is only supported with ZeRO stage 1, 2 or 3 (DeepSpeed config.py)', { key: `deepspeed.${bfKey}.bf16_master_weights_and_grads`, fix: 'set zero_optimization.stage to 1, 2 or 3' });
  }
  // base_optimizer.py `_configure_master_weights`: bf16 master weights with fp32 optimizer states (or with
  // offloaded states) require ZeRO-Offload with DeepSpeedCPUAdam.
  if (bf16MasterWeightsAndGrads && !bf16OptimizerStates && !(offloadOptimizer ?? deprecatedOpt)) {
    throw new ShardsimError('with fp32 optimizer states requires offload_optimizer (DeepSpeedCPUAdam), as DeepSpeed asserts', { key: `deepspeed.${bfKey}.bf16_master_weights_and_grads`, fix: 'also set "bf16_optimizer_states": true, or add "offload_optimizer": { "device": "cpu" }' });
  }
  if (fpRaw.fp16_master_weights_and_grads === true) {
    throw new ShardsimError('fp16 master weights are not modelled by shardsim', { key: 'deepspeed.fp16.fp16_master_weights_and_grads', fix: 'set it to false' });
  }

  const dtRaw = section(raw, 'data_types', 'deepspeed.data_types');
  strict(dtRaw, ['grad_accum_dtype'], 'deepspeed.data_types');
  const gradAccumDtype = dtype(dtRaw.grad_accum_dtype, 'deepspeed.data_types.grad_accum_dtype');
  const communicationDtype = dtype(raw.communication_data_type, 'deepspeed.communication_data_type');

  const batchKey = (k: string): number | 'auto' | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    if (v === 'auto') return 'auto';
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ShardsimError(`must be a positive whole number or "auto" (got ${JSON.stringify(v)})`, { key: `deepspeed.${k}`, fix: `use "auto" so HF Trainer fills it from the Axolotl keys` });
    return v;
  };

  const overlapRaw = z.overlap_comm;
  const config: DeepSpeedConfig = {
    source,
    stage,
    reduceBucketSize,
    allgatherBucketSize: num(['allgather_bucket_size'], DEFAULTS.allgather_bucket_size),
    prefetchBucketSize,
    paramPersistenceThreshold,
    maxLiveParameters: num(['stage3_max_live_parameters', 'max_live_parameters'], DEFAULTS.max_live_parameters),
    maxReuseDistance: num(['stage3_max_reuse_distance', 'max_reuse_distance'], DEFAULTS.max_reuse_distance),
    subGroupSize: num(['sub_group_size'], DEFAULTS.sub_group_size),
    // config.py `overlap_comm_valid`: None means true for stage 3 only.
    overlapComm: overlapRaw === undefined || overlapRaw === null ? stage === 3 : bool(z, 'overlap_comm', false, zk('overlap_comm')),
    contiguousGradients: bool(z, 'contiguous_gradients', true, zk('contiguous_gradients')),
    reduceScatter: bool(z, 'reduce_scatter', true, zk('reduce_scatter')),
    useMultiRankBucketAllreduce: bool(z, 'use_multi_rank_bucket_allreduce', true, zk('use_multi_rank_bucket_allreduce')),
    ...((offloadOptimizer ?? deprecatedOpt) ? { offloadOptimizer: (offloadOptimizer ?? deprecatedOpt)! } : {}),
    ...((offloadParam ?? deprecatedParam) ? { offloadParam: (offloadParam ?? deprecatedParam)! } : {}),
    ...(bf16 !== undefined ? { bf16 } : {}),
    ...(fp16 !== undefined ? { fp16 } : {}),
    bf16MasterWeightsAndGrads,
    bf16OptimizerStates,
    ...(gradAccumDtype ? { gradAccumDtype } : {}),
    ...(communicationDtype ? { communicationDtype } : {}),
    ...optionalBatch('gradientAccumulationSteps', batchKey('gradient_accumulation_steps')),
    ...optionalBatch('trainMicroBatchSizePerGpu', batchKey('train_micro_batch_size_per_gpu')),
    ...optionalBatch('trainBatchSize', batchKey('train_batch_size')),
    hasOptimizerSection: raw.optimizer !== undefined && raw.optimizer !== null,
    forceDsCpuOptimizer: raw.zero_force_ds_cpu_optimizer !== false,
    warnings,
  };
  if (config.offloadParam && stage !== 3) {
    throw new ShardsimError(`parameter offload is valid only with stage 3 (stage is ${stage})`, { key: zk('cpu_offload_param'), fix: 'use "stage": 3' });
  }
  return config;
}

function optionalBatch<K extends string>(k: K, v: number | 'auto' | undefined): Partial<Record<K, number | 'auto'>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, number | 'auto'>);
}

function section(raw: Record<string, unknown>, k: string, key: string): Record<string, unknown> {
  const v = raw[k];
  if (v === undefined || v === null || typeof v === 'boolean') return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ShardsimError('must be a JSON object', { key, fix: `write "${k}": { … }` });
  return v as Record<string, unknown>;
}

/** DeepSpeedConfigModel forbids unknown fields. */
function strict(obj: Record<string, unknown>, known: string[], key: string): void {
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue;
    const guess = closest(k, known, 1)[0];
    throw new ShardsimError(`unknown key "${key}.${k}" (DeepSpeed rejects it)`, { fix: guess ? `did you mean "${guess}"?` : `known keys: ${known.join(', ')}` });
  }
}

/** DeepSpeedConfigModel drops "auto" before validation, except the keys HF Trainer fills. */
function dropAuto(obj: Record<string, unknown>, filledByTrainer: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k, v]) => v !== 'auto' || filledByTrainer.includes(k)));
}

function dtype(v: unknown, key: string): Dtype | undefined {
  if (v === undefined || v === null) return undefined;
  const d = typeof v === 'string' ? DTYPES[v.toLowerCase()] : undefined;
  if (!d) throw new ShardsimError(`unknown dtype ${JSON.stringify(v)}`, { key, fix: 'use "fp32", "bf16" or "fp16"' });
  return d;
}

function offload(z: Record<string, unknown>, stage: number, k: 'offload_optimizer' | 'offload_param', known: string[], warnings: string[]): { pinMemory: boolean } | undefined {
  const key = `deepspeed.zero_optimization.${k}`;
  const v = z[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ShardsimError('must be a JSON object', { key, fix: `write "${k}": { "device": "cpu" }` });
  const o = v as Record<string, unknown>;
  strict(o, known, key);
  const device = o.device ?? 'none';
  if (device === 'none') return undefined;
  if (device === 'nvme') throw new ShardsimError('NVMe offload (ZeRO-Infinity) is not modelled by shardsim', { key: `${key}.device`, fix: 'use "cpu"' });
  if (device !== 'cpu') throw new ShardsimError(`must be "none", "cpu" or "nvme" (got ${JSON.stringify(device)})`, { key: `${key}.device`, fix: 'use "cpu"' });
  if (k === 'offload_optimizer' && typeof o.ratio === 'number' && o.ratio < 1) {
    if (stage !== 3) throw new ShardsimError('partial offloading is only supported with ZeRO stage 3 (config.py offload_ratio_check)', { key: `${key}.ratio`, fix: 'remove ratio' });
    warnings.push(`deepspeed: ${key}.ratio ${o.ratio} (Twin-Flow partial offload) is modelled as full offload`);
  }
  if (o.pin_memory !== undefined && typeof o.pin_memory !== 'boolean') throw new ShardsimError('must be true or false', { key: `${key}.pin_memory`, fix: 'set pin_memory to true or false' });
  return { pinMemory: o.pin_memory === true };
}

/** HF Trainer's hidden-size rules for the "auto" bucket sizes (transformers integrations/deepspeed.py). */
export function resolveZeroBuckets(ds: DeepSpeedConfig, hiddenSize: number): ZeroBuckets {
  const h = hiddenSize;
  return {
    reduceBucketElements: ds.reduceBucketSize === 'auto' ? h * h : ds.reduceBucketSize,
    prefetchBucketElements: ds.prefetchBucketSize === 'auto' ? Math.floor(0.9 * h * h) : ds.prefetchBucketSize,
    paramPersistenceThreshold: ds.paramPersistenceThreshold === 'auto' ? 10 * h : ds.paramPersistenceThreshold,
  };
}

/**
 * Under `offload_optimizer` the CPU step runs DeepSpeedCPUAdam when the config names an optimizer (DeepSpeed
 * builds it) or when accelerate swaps the Trainer's torch optimizer for it — which it does unless
 * `"zero_force_ds_cpu_optimizer": false` (accelerate accelerator.py `_prepare_deepspeed`). Otherwise the
 * Trainer's torch AdamW steps on the CPU (Axolotl's zero3_bf16_cpuoffload_all.json sets that flag false).
 */
export function usesDeepSpeedCpuAdam(ds: DeepSpeedConfig): boolean {
  return ds.hasOptimizerSection || ds.forceDsCpuOptimizer;
}

/** What Axolotl's own keys say, for HF Trainer's fill-and-match of the DeepSpeed config. */
export interface AxolotlBatch {
  bf16: boolean;
  /** fp16 mixed precision (Axolotl `fp16: true` without bf16): fills `fp16.enabled: auto`. */
  fp16?: boolean;
  microBatchSize: number;
  gradientAccumulationSteps: number;
  mesh: Mesh;
  worldSize: number;
  masterWeights?: 'fp32' | 'bf16';
}

/**
 * Checks the DeepSpeed config against the Axolotl keys as HF Trainer does, and picks the ZeRO strategy
 * and precision. Returns warnings for what is accepted but approximated.
 */
export function resolveDeepSpeed(ds: DeepSpeedConfig, ax: AxolotlBatch): { strategy: StrategyName; precision: Precision; warnings: string[] } {
  const warnings = [...ds.warnings];
  if (ds.stage === 0) {
    throw new ShardsimError('stage 0 disables ZeRO; DeepSpeed then trains through its plain data-parallel engine, which shardsim does not model', { key: 'deepspeed.zero_optimization.stage', fix: 'use 1, 2 or 3, or remove deepspeed for DDP' });
  }
  if (ax.mesh.tp > 1 || ax.mesh.cp > 1) {
    const key = ax.mesh.tp > 1 ? 'tensor_parallel_size' : 'context_parallel_size';
    throw new ShardsimError('is not modelled together with DeepSpeed ZeRO', { key, fix: 'remove it, or use FSDP2 (fsdp_version: 2) for N-D parallelism' });
  }
  if (ax.mesh.dpReplicate > 1) {
    throw new ShardsimError('DeepSpeed ZeRO partitions over all data-parallel ranks; replica groups are not modelled', { key: 'dp_replicate_size', fix: 'remove dp_replicate_size' });
  }
  const dp = ax.mesh.dpShard * ax.mesh.dpReplicate;
  const mismatch = (key: string, ds: number, axolotl: number, axKey: string) =>
    new ShardsimError(`${ds} disagrees with ${axKey} (${axolotl}); HF Trainer refuses mismatched values`, { key: `deepspeed.${key}`, fix: `set it to "auto" (or ${axolotl})` });
  if (typeof ds.gradientAccumulationSteps === 'number' && ds.gradientAccumulationSteps !== ax.gradientAccumulationSteps) {
    throw mismatch('gradient_accumulation_steps', ds.gradientAccumulationSteps, ax.gradientAccumulationSteps, 'gradient_accumulation_steps');
  }
  if (typeof ds.trainMicroBatchSizePerGpu === 'number' && ds.trainMicroBatchSizePerGpu !== ax.microBatchSize) {
    throw mismatch('train_micro_batch_size_per_gpu', ds.trainMicroBatchSizePerGpu, ax.microBatchSize, 'micro_batch_size');
  }
  const globalBatch = ax.microBatchSize * ax.gradientAccumulationSteps * dp;
  if (typeof ds.trainBatchSize === 'number' && ds.trainBatchSize !== globalBatch) {
    throw mismatch('train_batch_size', ds.trainBatchSize, globalBatch, 'micro_batch_size × gradient_accumulation_steps × data-parallel GPUs');
  }
  if (typeof ds.bf16 === 'boolean' && ds.bf16 !== ax.bf16) {
    throw new ShardsimError(`${ds.bf16} disagrees with bf16 (${ax.bf16}); HF Trainer refuses mismatched values`, { key: 'deepspeed.bf16.enabled', fix: 'set it to "auto", or make the two agree' });
  }
  // HF Trainer fill_match-es "fp16.enabled" with `args.fp16` (false under bf16: true): a mismatch is refused.
  if (typeof ds.fp16 === 'boolean' && ds.fp16 !== (ax.fp16 ?? false)) {
    throw new ShardsimError(`${ds.fp16} disagrees with fp16 (${ax.fp16 ?? false}); HF Trainer refuses mismatched values`, { key: 'deepspeed.fp16.enabled', fix: 'set it to "auto", or make the two agree' });
  }
  return { strategy: `zero${ds.stage}` as StrategyName, precision: deepspeedPrecision(ds, ax), warnings };
}

/**
 * Which dtype each tensor lives in under DeepSpeed ZeRO:
 * - Model dtype: bf16 when `bf16.enabled` (or "auto" with Axolotl's bf16; accelerate adds `bf16.enabled`
 *   when the section is absent), fp16 likewise, else fp32. The engine casts the module to it
 *   (engine.py `_configure_distributed_model`: `self.module.bfloat16()`): params and grads on the GPU.
 * - Master weights and Adam states: a partitioned fp32 copy (stage_1_and_2.py
 *   `single_partition_of_fp32_groups`, stage3.py `fp32_partitioned_groups_flat`), cloned even when the
 *   model is fp32; bf16 with `bf16_master_weights_and_grads` (+ bf16 states with `bf16_optimizer_states`).
 *   `simulation.master_weights` sets both flags (bf16) or clears them (fp32).
 * - Gradient accumulation: `data_types.grad_accum_dtype`, default the model dtype (engine.py
 *   `get_data_types`). Stage 1 with bf16 and fp32 accumulation runs `BF16_Optimizer` (engine.py
 *   `_do_optimizer_sanity_check`; bf16_optimizer.py keeps a full fp32 gradient buffer); stage 2 keeps the
 *   accumulated partition in the param dtype (stage_1_and_2.py `get_all_grad_tensors` returns `param.grad`);
 *   stage 3 keeps `grad_partitions_flat_buffer` in the accumulation dtype (stage3.py).
 * - Collectives: `communication_data_type`, default the model dtype (engine.py `communication_data_type`).
 */
export function deepspeedPrecision(ds: DeepSpeedConfig, ax: { bf16: boolean; fp16?: boolean; masterWeights?: 'fp32' | 'bf16' }): Precision {
  const bf16 = ds.bf16 === true || ((ds.bf16 === 'auto' || ds.bf16 === undefined) && ax.bf16 && ds.fp16 !== true);
  const fp16 = ds.fp16 === true || ((ds.fp16 === 'auto' || ds.fp16 === undefined) && ax.fp16 === true);
  const model: Dtype = bf16 ? 'bf16' : fp16 ? 'fp16' : 'fp32';
  let lowMaster = ds.bf16MasterWeightsAndGrads;
  let lowStates = ds.bf16OptimizerStates;
  if (ax.masterWeights === 'bf16') [lowMaster, lowStates] = [true, true];
  if (ax.masterWeights === 'fp32') [lowMaster, lowStates] = [false, false];
  const master: Dtype = lowMaster ? 'bf16' : 'fp32';
  const states: Dtype = lowStates ? 'bf16' : 'fp32';
  const accum = ds.gradAccumDtype ?? model;
  const grad: Dtype = ds.stage === 2 ? model : ds.stage === 1 && model === 'bf16' && accum === 'fp32' && !ds.offloadOptimizer ? 'fp32' : ds.stage === 3 ? accum : model;
  const comm = ds.communicationDtype ?? model;
  const bf16Optimizer = ds.stage === 1 && grad === 'fp32' && model === 'bf16';
  return {
    computeDtype: model,
    paramDtype: model,
    gradDtype: grad,
    frozenDtype: model,
    optimizerBytesPerParam: bytesOf(master) + 2 * bytesOf(states),
    gatherDtype: model,
    reduceDtype: comm,
    rationale:
      `DeepSpeed ZeRO-${ds.stage}: ${model} params${ds.stage === 3 ? ' (partitioned)' : ''} and grads on the GPU, ${master} master weights + ${states} Adam states partitioned` +
      `${ds.offloadOptimizer ? ' on the CPU (offload_optimizer)' : ''}${bf16Optimizer ? ', fp32 gradient accumulation in BF16_Optimizer\'s full fp32 buffer' : grad !== model ? `, ${grad} gradient partition` : ''}, ${comm} collectives`,
  };
}
