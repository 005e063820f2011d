import { linearParams } from '../model/params.ts';
import { bitsandbytesQuantizes } from '../model/peft.ts';
import { ShardsimError } from '../util/errors.ts';
import type { Dtype } from '../util/dtype.ts';
import { allowedValues, type LoadedScenario } from './load.ts';
import { fsdpConfigSchema, type FsdpConfigInput } from './schema.ts';
import { adapterPrecision, resolveDtypeFlags, resolvePrecision } from './precision.ts';
import { resolvePeft } from './peft.ts';
import { applyPlugins, resolveKernels } from './kernels.ts';
import { isFusedAttention, resolveAttentionImpl, resolveAttentionKernel, resolveDataShape, type AttentionInput } from './attention.ts';
import { optimizerStateBytes, resolveOptimizer } from './optimizers.ts';
import { loadDeepSpeedConfig, resolveDeepSpeed } from './deepspeed.ts';
import { parseBandwidth } from './units.ts';
import type { Mesh, Precision, ResolvedConfig, StrategyName } from './types.ts';
import { noGradForwardsAround, resolveTrainer, rowsPerSample } from './trainer.ts';
import { checkDiffusionAttention, diffusionPluginListed } from './diffusion.ts';
import { isEbftStrided } from './ebft.ts';
import type { ModelSpec } from '../model/types.ts';

/** What the hardware stage tells the config stage: enough to size the world. */
export interface ClusterShape {
  hardware: string;
  gpusPerNode: number;
}

/** Defaults of the `simulation:` block. */
export const DEFAULT_HARDWARE = 'dgx-h100';
const DEFAULT_SEED = '0';

/**
 * Applies Axolotl's rules to a validated scenario (axolotl `utils/config/__init__.py` normalize_config,
 * `utils/distributed.py` build_parallelism_config): DDP when there is no FSDP/DeepSpeed key and more than
 * one GPU; `dp_shard_size` inferred as world / (tp·cp·dp_replicate); the mesh product equals the world.
 */
export async function resolveConfig(loaded: LoadedScenario, cluster: ClusterShape): Promise<ResolvedConfig> {
  const s = loaded.input;
  const sim = s.simulation ?? {};
  const warnings = [...loaded.warnings];

  if (s.base_model === undefined && s.model_config === undefined) {
    throw new ShardsimError('no model given', { key: 'base_model', fix: 'set base_model to a Hugging Face id (see `shardsim list models`), a folder with config.json, or give model_config' });
  }
  for (const key of ['sequence_len', 'micro_batch_size'] as const) {
    if (s[key] !== undefined) continue;
    const typo = loaded.warnings.find((w) => w.includes(`"${key}"`));
    const found = typo ? ` (the scenario has ${typo.split(' ')[2]}: a typo?)` : '';
    throw new ShardsimError(`is required${found}`, { key, fix: `set ${key} to a positive whole number` });
  }
  // `deepspeed:` is a path to a DeepSpeed JSON (relative to the scenario's folder) or, in validation rows, the object.
  const deepspeed = s.deepspeed !== undefined && s.deepspeed !== null && s.deepspeed !== "" ? loadDeepSpeedConfig(s.deepspeed, loaded.baseDir) : undefined;

  // World size: what the scenario says (simulation.gpus / num_nodes), else what the config's explicit mesh
  // implies — Axolotl requires dp_replicate × dp_shard × cp × tp to equal the launched processes, so a config
  // that names dp_shard_size describes that many GPUs — else every GPU of one node (`accelerate launch`
  // defaults num_processes to the visible GPUs).
  // Expert parallelism multiplies the mesh (Axolotl: ep × dp_shard × cp × tp = world); a pure-EP config (no
  // dp_shard_size, no FSDP) runs on exactly ep × cp × tp GPUs (expert_parallel/plugin.py `_resolve_ep_group`).
  const ep = s.expert_parallel_size ?? 1;
  const rest3 = (s.dp_replicate_size ?? 1) * (s.tensor_parallel_size ?? 1) * (s.context_parallel_size ?? 1) * ep;
  const pureEp = ep > 1 && s.dp_shard_size === undefined && s.fsdp_config === undefined && s.fsdp_version === undefined && s.fsdp === undefined;
  const meshProduct = s.dp_shard_size !== undefined ? s.dp_shard_size * rest3 : pureEp ? rest3 : undefined;
  const numNodes = sim.num_nodes ?? (sim.gpus === undefined && meshProduct !== undefined ? Math.max(1, Math.ceil(meshProduct / cluster.gpusPerNode)) : 1);
  const capacity = numNodes * cluster.gpusPerNode;
  if (sim.gpus !== undefined && sim.gpus > capacity) {
    throw new ShardsimError(`${sim.gpus} GPUs do not fit on ${numNodes} node(s) of ${cluster.gpusPerNode}`, { key: 'simulation.gpus', fix: `use at most ${capacity} or raise simulation.num_nodes` });
  }
  const impliedByMesh = sim.gpus === undefined && sim.num_nodes === undefined && meshProduct !== undefined;
  // Strided EBFT is a one-GPU trainer (src/config/ebft.ts; docs/ebft.qmd runs it with CUDA_VISIBLE_DEVICES=0).
  const ebftStrided = isEbftStrided(s);
  const oneGpuTrainer = ebftStrided && sim.gpus === undefined && sim.num_nodes === undefined && meshProduct === undefined;
  if (oneGpuTrainer) warnings.push('ebft: strided mode simulated on one GPU, as docs/ebft.qmd runs it (CUDA_VISIBLE_DEVICES=0); set simulation.gpus to change it');
  const worldSize = sim.gpus ?? (impliedByMesh ? meshProduct! : oneGpuTrainer ? 1 : capacity);

  const axolotl = (sim.framework ?? 'axolotl') === 'axolotl';
  // Axolotl's check_fsdp_version_in_fsdp_config (utils/schemas/validation.py): fsdp_config.fsdp_version (or
  // .version) becomes the top-level fsdp_version; an unversioned fsdp_config is pinned to FSDP1.
  const fsdpVersion = s.fsdp_version ?? fsdpConfigVersion(s.fsdp_config);
  const fsdpRaw = normaliseFsdpConfig(s.fsdp_config, axolotl, warnings);
  const fsdpFlags = typeof s.fsdp === 'string' ? s.fsdp.split(/\s+/) : (s.fsdp ?? []);
  const wantsFsdp = fsdpVersion !== undefined || (s.fsdp_config !== undefined && s.fsdp_config !== null) || fsdpFlags.length > 0;
  let strategy: StrategyName;
  if (wantsFsdp) strategy = fsdpVersion === 2 ? 'fsdp2' : 'fsdp1';
  else strategy = worldSize > 1 ? 'ddp' : 'single';
  if (wantsFsdp && fsdpVersion === undefined) warnings.push('fsdp_config without fsdp_version: Axolotl uses FSDP1; set fsdp_version: 2 for FSDP2');
  if (deepspeed) {
    if (wantsFsdp) throw new ShardsimError('cannot be combined with FSDP (Axolotl refuses both)', { key: 'deepspeed', fix: 'remove the fsdp keys or the deepspeed key' });
    if (deepspeed.stage > 0) strategy = `zero${deepspeed.stage}` as StrategyName;
  }

  const mesh = resolveMesh(s, worldSize, strategy);
  if (mesh.ep > 1) {
    checkExpertParallel(mesh, strategy, worldSize);
    // EP groups are strided by world / ep (ep outermost): with more GPUs than a node holds they cross nodes.
    if (worldSize > cluster.gpusPerNode) {
      warnings.push(`expert_parallel_size: the EP group spans nodes; DeepEP's internode kernels need NVSHMEM and expert_parallel_num_rdma_bytes > 0 — dispatch/combine are modelled as NCCL all-to-alls over the NICs`);
    }
  } else if (sim.expert_load_imbalance !== undefined) {
    warnings.push('simulation.expert_load_imbalance: ignored without expert parallelism (expert_parallel_size 1)');
  }
  const sharding = fsdpRaw.sharding_strategy ?? (fsdpFlags.includes('hybrid_shard') ? 'HYBRID_SHARD' : fsdpFlags.includes('shard_grad_op') ? 'SHARD_GRAD_OP' : undefined);
  if ((sharding === 'HYBRID_SHARD' || sharding === '_HYBRID_SHARD_ZERO2') && s.dp_replicate_size === undefined && s.dp_shard_size === undefined) {
    // FSDP1 HYBRID_SHARD shards inside a node and replicates across nodes (torch fsdp `_init_utils.py`
    // `_init_intra_and_inter_node_groups`: intra-node group of `gpus per node` ranks).
    const perNode = Math.min(worldSize, cluster.gpusPerNode) / (mesh.tp * mesh.cp);
    if (Number.isInteger(perNode) && perNode >= 1 && mesh.dpShard % perNode === 0) {
      mesh.dpReplicate = mesh.dpShard / perNode;
      mesh.dpShard = perNode;
    }
  }
  const seqForCp = s.sequence_len ?? 1;
  if (mesh.cp > 1 && seqForCp % (2 * mesh.cp) !== 0) {
    // torch context parallel splits the sequence into 2·cp chunks for causal load balancing
    // (torch/distributed/tensor/experimental/_attention.py `_RoundRobinLoadBalancer` / head-tail sharding).
    throw new ShardsimError(`sequence_len ${seqForCp} cannot be split into 2 × ${mesh.cp} equal chunks for ring attention`, { key: 'context_parallel_size', fix: `use a sequence_len divisible by ${2 * mesh.cp}, or a smaller context_parallel_size` });
  }

  if (sharding === 'NO_SHARD') {
    // NO_SHARD is DDP-like: every rank replicates the model.
    strategy = worldSize > 1 ? 'ddp' : 'single';
    mesh.dpReplicate *= mesh.dpShard;
    mesh.dpShard = 1;
  }
  const reshardAfterForward = fsdpRaw.reshard_after_forward ?? (sharding ? sharding === 'FULL_SHARD' || sharding === 'HYBRID_SHARD' : true);
  if (fsdpRaw.offload_params && strategy !== 'fsdp2' && strategy !== 'fsdp1') {
    throw new ShardsimError('CPU offload of parameters needs FSDP', { key: 'fsdp_config.offload_params', fix: 'add fsdp_version: 2 (or use deepspeed: with offload_optimizer)' });
  }

  const optimizer = resolveOptimizer(s.optimizer);
  if (axolotl) refuseAxolotlOptimizerCombination(optimizer.name, { fsdp2: strategy === 'fsdp2' && s.fsdp_config !== undefined, fsdp1Offload: strategy === 'fsdp1' && fsdpRaw.offload_params === true, tp: mesh.tp });

  const ga = s.gradient_accumulation_steps ?? 1;
  const micro = s.micro_batch_size!;
  const seq = s.sequence_len!;
  const dataParallel = mesh.dpShard * mesh.dpReplicate;
  const globalBatchSize = micro * ga * dataParallel;

  const stragglerAt = new Map<number, number>();
  const stragglers = (sim.stragglers ?? []).map((x, i) => {
    if (x.rank >= worldSize) throw new ShardsimError(`rank ${x.rank} does not exist in a world of ${worldSize}`, { key: `simulation.stragglers.${i}.rank`, fix: `use a rank below ${worldSize}` });
    const first = stragglerAt.get(x.rank);
    if (first !== undefined) {
      throw new ShardsimError(`rank ${x.rank} is listed twice (also stragglers.${first}); only one entry would apply`, { key: `simulation.stragglers.${i}.rank`, fix: 'give each rank one entry with both compute_slowdown and link_slowdown' });
    }
    stragglerAt.set(x.rank, i);
    return { rank: x.rank, computeSlowdown: x.compute_slowdown ?? 1, linkSlowdown: x.link_slowdown ?? 1 };
  });

  const mpp = parseMixedPrecisionPolicy(fsdpRaw.mixed_precision_policy);
  const dtypes = resolveDtypeFlags(s);
  const bf16 = dtypes.half === 'bf16';
  if (dtypes.gradScaler && !s.adapter && (strategy === 'ddp' || strategy === 'single') && !deepspeed) {
    warnings.push("fp16: full fine-tuning in fp16 fails in torch's GradScaler (\"Attempting to unscale FP16 gradients\"): simulated as if it ran — use bf16: true");
  }
  const zero = deepspeed
    ? resolveDeepSpeed(deepspeed, { bf16, fp16: dtypes.half === 'fp16', microBatchSize: micro, gradientAccumulationSteps: ga, mesh, worldSize, ...(sim.master_weights ? { masterWeights: sim.master_weights } : {}) })
    : undefined;
  if (zero) warnings.push(...zero.warnings);
  // fp8 without a 16-bit key: accelerate's mixed_precision "fp8" still enables native amp with bf16 autocast
  // (accelerator.py "We always enable native_amp for FP8"; utils/modeling.py get_mixed_precision_context_manager),
  // over the fp32 weights Axolotl loaded.
  const fp8Autocast = s.fp8 === true && !dtypes.half && !s.adapter && !zero;
  const basePrecision = zero ? zero.precision : resolvePrecision({
    strategy,
    half: fp8Autocast ? 'bf16' : dtypes.half,
    tf32: dtypes.tf32,
    ...(fp8Autocast ? { masterWeights: 'fp32' as const } : sim.master_weights ? { masterWeights: sim.master_weights } : {}),
    ...(mpp ? { mixedPrecisionPolicy: mpp } : {}),
  });
  const precision = fp8Autocast ? { ...basePrecision, rationale: 'fp8 without bf16: accelerate trains float8 under bf16 autocast (native amp for fp8) over the fp32 weights Axolotl loaded: fp32 params, grads and AdamW states' } : basePrecision;

  const attnChoice = resolveAttentionImpl(s as AttentionInput);
  const attnImpl = attnChoice.impl;
  if (attnChoice.warning) warnings.push(attnChoice.warning);
  if (s.sample_packing === true && attnChoice.packed === 'row-causal') {
    warnings.push('sample_packing: with this attention backend (unset, fp8 or a hub kernel without packing support) Axolotl keeps the attention mask, so each row attends causally across its packed samples (cross-contamination; Axolotl warns too) — set attn_implementation: flash_attention_2 or sdpa to isolate them');
  }
  const trainer = resolveTrainer(s);
  if (ebftStrided) checkEbftStrided(s, { strategy, worldSize, warnings });
  if (trainer.kind === 'diffusion') {
    const legacy = ['xformers_attention', 'sage_attention', 'flex_attention', 'flash_attention', 'sdp_attention', 'eager_attention'].find((k) => (s as AttentionInput)[k] === true);
    checkDiffusionAttention(attnImpl, (s as AttentionInput).attn_implementation !== undefined ? 'attn_implementation' : (legacy ?? 'plugins'));
    if (mesh.cp > 1) throw new ShardsimError("with the diffusion plugin: ring attention over its bidirectional 4-D mask is not modelled", { key: 'context_parallel_size', fix: 'remove context_parallel_size' });
  } else if (s.diffusion !== undefined && s.diffusion !== null && !diffusionPluginListed(s)) {
    warnings.push('diffusion: not applied — Axolotl drops it unless plugins lists axolotl.integrations.diffusion.DiffusionPlugin');
  }
  if (s.ebft !== undefined && s.ebft !== null && trainer.kind !== 'ebft-strided') warnings.push('ebft: not read without rl: ebft');
  if (trainer.kind === 'ebft-strided' && trainer.structured) {
    warnings.push(`ebft: anchors start after each batch's longest prompt (data-dependent); simulated from token ${trainer.anchorOffset} (max of min_completion_prefix and context_length): ${trainer.blocks} blocks per row, the most a row can have`);
  }
  // The no-grad forwards are lowered as whole-model compute (src/strategy/trainer-passes.ts): right where every
  // rank holds the weights (one GPU, DDP, ZeRO-1/2), not where each layer is gathered again (FSDP, ZeRO-3) or
  // synchronised across TP / CP ranks.
  // Under FSDP the reference forwards run through FSDP units (strategy/fsdp2.ts `referenceForwards`): an adapter
  // run's through the policy's own, a full fine-tune's through its separate reference model as TRL's
  // `prepare_fsdp` wraps it, KTO's KL pass through the policy's units before the trained forward; EP, a
  // reference model with CPU offload, and a KL pass whose units stay unsharded after it are not modelled.
  const replicated = strategy === 'single' || strategy === 'ddp' || strategy === 'zero1' || strategy === 'zero2';
  const fsdpRefOk = (strategy === 'fsdp1' || strategy === 'fsdp2') && trainer.kind === 'preference' && (noGradForwardsAround(trainer).before === 0 || reshardAfterForward) && mesh.ep <= 1 && !(trainer.referenceCopy && fsdpRaw.offload_params === true);
  if (trainer.kind === 'preference' && trainer.noGradRowsPerSample > 0 && ((!replicated && !fsdpRefOk) || mesh.tp > 1 || mesh.cp > 1)) {
    const where = mesh.tp > 1 || mesh.cp > 1 ? 'tensor or context parallelism' : strategy === 'zero3' ? 'ZeRO-3' : strategy === 'fsdp1' || strategy === 'fsdp2' ? 'FSDP with KTO\'s KL pass and units kept unsharded after forward, expert parallelism or a CPU-offloaded reference model' : strategy;
    throw new ShardsimError(`${trainer.rl}'s reference forward is modelled on one GPU, under DDP, DeepSpeed ZeRO-1/2 and FSDP; under ${where} it gathers or synchronises the reference weights in ways that are not modelled`, { key: 'rl', fix: 'simulate it with DDP, ZeRO-1/2 or FSDP without that, set precompute_ref_log_probs: true, or use orpo / simpo (no reference model)' });
  }
  // A reward model's micro-batch holds the chosen and the rejected sequence of each sample (config/trainer.ts).
  const attentionKernel = resolveAttentionKernel(attnImpl, sim.attention_kernel);
  // Strided EBFT's dataset transforms pad every document to sequence_len (src/config/ebft.ts).
  const padded = trainer.kind === 'ebft-strided' ? { pad_to_sequence_len: true } : {};
  const shaped = resolveDataShape({ ...(s as AttentionInput), ...padded, micro_batch_size: micro * rowsPerSample(trainer), ...(sim.document_length ? { document_length: sim.document_length } : {}) }, attnImpl, attnChoice.packed, {
    dataParallel,
    // Axolotl: pad_to_multiple_of (default 64) when pad_to_sequence_len is unset, none when it is false
    // (core/builders/causal.py `data_collator_kwargs`).
    padMultiple: axolotl && s.pad_to_sequence_len !== false ? (s.pad_to_multiple_of ?? 64) : 1,
  }, attentionKernel);
  // The diffusion trainer's own 4-D mask: every query attends to every key of its document, computed in full
  // by SDPA's masked kernel or eager (src/config/diffusion.ts).
  // Strided EBFT picks its kernels pass by pass (src/strategy/ebft-strided.ts); the trained forward's flex_attention
  // stands for them in the summary.
  const data = trainer.kind === 'diffusion'
    ? { ...shaped, attention: { ...shaped.attention, masking: 'dense' as const } }
    : trainer.kind === 'ebft-strided' ? { ...shaped, attention: { ...shaped.attention, implementation: 'flex_attention' as const, masking: 'causal' as const } } : shaped;
  const peft = resolvePeft(s, dtypes.half, {
    multiGpu: worldSize > 1,
    fsdpConfig: s.fsdp_config !== undefined && s.fsdp_config !== null,
    fsdp2: fsdpVersion === 2,
    axolotl: (sim.framework ?? 'axolotl') === 'axolotl',
  });
  // Under DeepSpeed the engine casts every parameter, adapters included, to the model dtype
  // (runtime/engine.py `_configure_distributed_model` → `_cast_module_mixed_precision`), and its ZeRO optimizer
  // keeps the fp32 master copy and Adam states of what trains: the DeepSpeed precision already says so, and the
  // frozen base is partitioned at the model dtype (not PEFT's fp32 adapter dtype).
  const adapted = peft && !zero ? adapterPrecision(precision, peft) : precision;
  // The optimizer decides what its states cost per trainable parameter (DeepSpeed builds its own: kept).
  const trainedPrecision = zero ? adapted : { ...adapted, optimizerBytesPerParam: optimizerStateBytes(optimizer, adapted.paramDtype) };
  if (zero && optimizer.storage !== 'param') {
    warnings.push(`optimizer: ${optimizer.name} under DeepSpeed ZeRO is modelled with ZeRO's partitioned fp32 master weights and Adam states; its ${optimizer.storage} state compression is not modelled`);
  }
  // FlashAttention-2/3 take fp16/bf16 tensors only (flash_attn `flash_attn_interface.py`: "FlashAttention
  // only support fp16 and bf16 data type"); fp32 training with them fails at the first forward, and their
  // tensor-core rates would count fp32 FLOPs faster than the fp32 peak (MFU above 100 %).
  if ((attnImpl === 'flash_attention_2' || attnImpl === 'flash_attention_3') && precision.computeDtype === 'fp32') {
    throw new ShardsimError(`${attnImpl} needs 16-bit compute: FlashAttention only supports fp16 and bf16 tensors, and this config trains in fp32`, { key: (s as AttentionInput).attn_implementation !== undefined ? 'attn_implementation' : 'flash_attention', fix: 'set bf16: true (or fp16: true), or use sdpa / eager attention' });
  }

  const checkpointing: ResolvedConfig['activationCheckpointing'] =
    s.gradient_checkpointing === 'selective'
      ? 'selective'
      : s.gradient_checkpointing === true || s.gradient_checkpointing === 'offload' || s.gradient_checkpointing === 'offload_disk' || fsdpRaw.activation_checkpointing === true
        ? 'full'
        : 'none';
  // `gradient_checkpointing: offload` is Axolotl's deprecated spelling of checkpointing + activation_offloading
  // (validation.py `check_gradient_checkpointing_w_offload`); "offload_disk" / "disk" spill to disk instead.
  const offloadSetting = s.gradient_checkpointing === 'offload' ? true : s.gradient_checkpointing === 'offload_disk' ? 'disk' : (s.activation_offloading ?? false);
  if (offloadSetting !== false && zero) warnings.push('activation_offloading under DeepSpeed ZeRO is not modelled: activations are kept on the GPU');
  if (offloadSetting === 'disk') warnings.push('activation_offloading: disk is modelled as offloading to pinned host memory (the disk writes are not modelled)');

  const bucketCap = s.ddp_bucket_cap_mb ?? 25;
  const config: ResolvedConfig = {
    name: loaded.name,
    baseDir: loaded.baseDir,
    model: { ...(s.base_model ? { baseModel: s.base_model } : {}), ...(s.model_config ? { modelConfig: s.model_config } : {}) },
    strategy,
    worldSize,
    mesh,
    batch: {
      microBatchSize: micro,
      gradientAccumulationSteps: ga,
      sequenceLength: seq,
      globalBatchSize,
      // Counted as the trainers count (each rank's padded rows), not the slowest rank's row length the kernels run.
      tokensPerStep: data.shape.rows * data.shape.countedRowTokens * ga * dataParallel,
      realTokensPerStep: data.shape.realTokens * ga * dataParallel,
    },
    precision: axolotlFp32Embeddings(trainedPrecision, { axolotl, adapter: peft !== undefined, strategy, deepspeed: deepspeed !== undefined, attnImpl, cce: s.cut_cross_entropy === true || (s.plugins ?? []).some((x) => /CutCrossEntropyPlugin/.test(x)) }),
    optimizer: { name: optimizer.name, fused: optimizer.launches === 'fused', spec: optimizer },
    ...(s.tiled_mlp === true ? { tiledMlp: { shards: tiledMlpShards(s.tiled_mlp_num_shards, data.shape.rowTokens / mesh.cp) } } : {}),
    ...resolveFloat8(s.fp8, s.fp8_enable_fsdp_float8_all_gather, { adapter: peft !== undefined, fsdp: strategy === 'fsdp2' || strategy === 'fsdp1' }, warnings),
    trainer,
    optimizerInBackward: resolveOptimizerInBackward(s.optimizer_in_bwd, { strategy, ga, zero: deepspeed !== undefined, axolotl, warnings }),
    ...(peft ? { peft } : {}),
    ...unfrozenParameters(s.unfrozen_parameters, peft !== undefined, warnings),
    kernels: resolveKernels(applyPlugins(s, axolotl, warnings), axolotl, resolveCompileLoss(sim.compile_loss, s.torch_compile, axolotl)),
    flashAttention: isFusedAttention(attnImpl),
    attention: data.attention,
    shape: data.shape,
    torchCompile: s.torch_compile === true,
    lossParallel: resolveLossParallel(sim.loss_parallel, axolotl) && mesh.tp > 1,
    expertsImplementation: resolveExpertsImplementation(s.experts_implementation),
    linearizedExperts: s.llama4_linearized_experts === true,
    activationCheckpointing: checkpointing,
    activationOffloading: offloadSetting !== false,
    ...(deepspeed ? { deepspeed } : {}),
    fsdp: {
      reshardAfterForward,
      offloadParams: fsdpRaw.offload_params ?? false,
      offloadPinMemory: fsdpRaw.cpu_offload_pin_memory ?? true,
      forwardPrefetch: fsdpRaw.forward_prefetch ?? false,
      backwardPrefetch: fsdpRaw.backward_prefetch === 'NO_PREFETCH' ? 'NONE' : (fsdpRaw.backward_prefetch ?? 'BACKWARD_PRE'),
      limitAllGathers: fsdpRaw.limit_all_gathers ?? true,
    },
    // torch DDP: bucket_cap_mb is MiB (`int(bucket_cap_mb * 1024 * 1024)`, torch/nn/parallel/distributed.py);
    // the first bucket is kDefaultFirstBucketBytes = 1 MiB (c10d/reducer.hpp).
    ddp: { bucketCapBytes: bucketCap * 1024 * 1024, firstBucketBytes: 1024 * 1024, gradientAsBucketView: false },
    // DeepEP's Buffer allocates `num_nvl_bytes` of NVLink-shared memory on every EP rank (expert_parallel/
    // buffer.py `deep_ep.Buffer(group, num_nvl_bytes=…)`); Axolotl's default is 256 MiB (args.py `256 << 20`).
    expertParallelBufferBytes: mesh.ep > 1 ? (s.expert_parallel_num_nvl_bytes ?? 256 * 2 ** 20) : 0,
    simulation: {
      hardware: cluster.hardware,
      numNodes,
      ...(sim.gpus !== undefined ? { gpus: sim.gpus } : (impliedByMesh || oneGpuTrainer) && worldSize !== capacity ? { gpus: worldSize } : {}),
      seed: String(sim.seed ?? DEFAULT_SEED),
      steps: sim.steps ?? 1,
      jitter: sim.jitter ?? 0,
      stragglers,
      fsdpGradientSync: sim.fsdp_gradient_sync ?? 'final_micro_batch',
      ...(sim.expert_load_imbalance !== undefined ? { expertLoadImbalance: sim.expert_load_imbalance } : {}),
      ...(sim.inter_node_bandwidth !== undefined
        ? { interNodeBandwidthBytesPerSecond: await parseBandwidth(sim.inter_node_bandwidth, 'simulation.inter_node_bandwidth') }
        : {}),
    },
    warnings,
  };
  return config;
}

function resolveMesh(s: LoadedScenario['input'], world: number, strategy: StrategyName): Mesh {
  const tp = s.tensor_parallel_size ?? 1;
  const cp = s.context_parallel_size ?? 1;
  const rep = s.dp_replicate_size ?? 1;
  for (const [key, v] of [['tensor_parallel_size', tp], ['context_parallel_size', cp], ['dp_replicate_size', rep]] as const) {
    if (world % v !== 0) throw new ShardsimError(`${v} does not divide the world size ${world}`, { key, fix: `use a divisor of ${world} (${divisors(world).join(', ')})` });
  }
  const ep = s.expert_parallel_size ?? 1;
  // Axolotl's `_get_parallel_config_kwargs` (utils/distributed.py) takes EP out of the world first.
  if (world % ep !== 0) throw new ShardsimError(`${ep} does not divide the world size ${world}`, { key: 'expert_parallel_size', fix: `use a divisor of ${world} (${divisors(world).join(', ')})` });
  const rest = world / (tp * cp * rep * ep);
  if (!Number.isInteger(rest)) {
    throw new ShardsimError(`tensor_parallel_size × context_parallel_size × dp_replicate_size${ep > 1 ? ' × expert_parallel_size' : ''} = ${tp * cp * rep * ep} does not divide the world size ${world}`, { key: 'dp_replicate_size', fix: 'choose sizes whose product divides the GPU count' });
  }
  const shard = s.dp_shard_size ?? rest;
  if (tp * cp * rep * shard * ep !== world) {
    const epPart = ep > 1 ? ` × expert_parallel_size (${ep})` : '';
    throw new ShardsimError(
      `dp_replicate_size (${rep}) × dp_shard_size (${shard})${epPart} × context_parallel_size (${cp}) × tensor_parallel_size (${tp}) = ${rep * shard * cp * tp * ep}, but the world has ${world} GPUs`,
      { key: 'dp_shard_size', fix: `remove dp_shard_size to infer it (${rest}), or change simulation.num_nodes / simulation.gpus` },
    );
  }
  // DDP replicates the model on every data-parallel rank: report its degree as dp_replicate. EP ranks are
  // data-parallel ranks too (each pulls its own batch), so the ep factor joins the data-parallel axis.
  const sequenceParallel = tp > 1 && (s.simulation?.sequence_parallel ?? false);
  if (strategy === 'ddp' || strategy === 'single') return { dpReplicate: rep * shard * ep, dpShard: 1, ep, cp, tp, sequenceParallel };
  return { dpReplicate: rep, dpShard: shard * ep, ep, cp, tp, sequenceParallel };
}

/**
 * The mesh expert parallelism accepts (axolotl integrations/expert_parallel/plugin.py `_resolve_ep_group`,
 * README "Limitations"; docs/support-matrix.qmd: FSDP2 with the DeepEP backend): EP alone under DDP (experts
 * kept out of DDP's all-reduce, ep = world), or EP × dp_shard under FSDP2. EP × TP raises NotImplementedError
 * in Axolotl; dp_replicate is not in its product check; EP × cp needs a context-parallel-aware attention and
 * is not modelled here.
 */
function checkExpertParallel(mesh: Mesh, strategy: StrategyName, world: number): void {
  const key = 'expert_parallel_size';
  if (mesh.tp > 1) throw new ShardsimError('expert parallelism with tensor parallelism is not supported by Axolotl (NotImplementedError in the EP plugin)', { key, fix: 'remove tensor_parallel_size or expert_parallel_size' });
  if (strategy === 'zero1' || strategy === 'zero2' || strategy === 'zero3' || strategy === 'fsdp1') {
    throw new ShardsimError(`expert parallelism runs under FSDP2 or plain DDP in Axolotl, not ${strategy}`, { key, fix: 'use fsdp_version: 2 (or remove the deepspeed / FSDP1 keys)' });
  }
  if (mesh.cp > 1) throw new ShardsimError('expert parallelism with context parallelism is not modelled', { key, fix: 'remove context_parallel_size or expert_parallel_size' });
  if ((strategy === 'fsdp2' && mesh.dpReplicate > 1) || (strategy === 'ddp' && mesh.dpReplicate !== mesh.ep)) {
    const fix = strategy === 'ddp' ? `set expert_parallel_size to the GPU count (${world}), or add fsdp_version: 2 with dp_shard_size` : 'remove dp_replicate_size';
    throw new ShardsimError(`expert_parallel_size (${mesh.ep}) × dp_shard_size must equal the ${world} GPUs (Axolotl's EP mesh has no dp_replicate axis, and without FSDP EP must span every GPU)`, { key, fix });
  }
}

function divisors(n: number): number[] {
  // Pairs up to √n: a world of 10⁹ GPUs in an error message must not take seconds.
  const low: number[] = [];
  const high: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d !== 0) continue;
    low.push(d);
    if (d * d !== n) high.unshift(n / d);
  }
  return [...low, ...high];
}

const ACCELERATE_FSDP1_DEFAULT: Record<string, string> = {
  backward_prefetch: 'no backward prefetch',
  forward_prefetch: 'no forward prefetch',
  limit_all_gathers: 'limit_all_gathers true',
  sharding_strategy: 'FULL_SHARD, or SHARD_GRAD_OP with reshard_after_forward: false',
};

/**
 * Optimizer combinations Axolotl's validators refuse (utils/schemas/validation.py at 067b021c:
 * `check_fsdp2_w_8bit_optimizer`, `check_fsdp_offload_w_8bit_optimizer`, `check_tensor_parallel_optimizer`),
 * and the torchao names its optimizer factory lists but never builds (core/builders/base.py: no branch for
 * ao_adamw_4bit / ao_adamw_8bit, so it raises "Unhandled optimizer").
 */
function refuseAxolotlOptimizerCombination(name: string, ctx: { fsdp2: boolean; fsdp1Offload: boolean; tp: number }): void {
  if (name === 'ao_adamw_4bit' || name === 'ao_adamw_8bit') {
    throw new ShardsimError(`Axolotl lists "${name}" but has no branch to build it ("Unhandled optimizer")`, { key: 'optimizer', fix: `use ${name === 'ao_adamw_4bit' ? 'adamw_torch_4bit' : 'adamw_torch_8bit'} (the same torchao optimizer)` });
  }
  if (ctx.fsdp2 && (name === 'adamw_8bit' || name === 'adamw_bnb_8bit')) {
    throw new ShardsimError(`FSDP2 is not compatible with ${name} (Axolotl refuses it: bitsandbytes' CUDA ops fail on DTensors)`, { key: 'optimizer', fix: 'use adamw_torch_8bit (torchao) instead' });
  }
  if (ctx.fsdp1Offload && name.includes('8bit')) {
    throw new ShardsimError(`FSDP1 with offload_params is not compatible with ${name} (Axolotl refuses it)`, { key: 'optimizer', fix: 'use fsdp_version: 2, or a 32-bit optimizer' });
  }
  if (ctx.tp > 1 && (name === 'paged_adamw_8bit' || name === 'adamw_8bit' || name === 'adamw_bnb_8bit')) {
    throw new ShardsimError(`tensor_parallel_size is not supported with ${name} (Axolotl refuses it)`, { key: 'optimizer', fix: 'use adamw_torch_8bit or a 32-bit optimizer' });
  }
}

function fsdpConfigVersion(raw: Record<string, unknown> | undefined | null): number | undefined {
  const v = raw?.fsdp_version ?? raw?.version;
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  if (n !== 1 && n !== 2) throw new ShardsimError(`fsdp version ${JSON.stringify(v)} does not exist`, { key: 'fsdp_config.fsdp_version', fix: 'use 1 or 2' });
  return n;
}

/** `simulation.loss_parallel` (ResolvedConfig.lossParallel): a framework choice outside Axolotl. */
function resolveLossParallel(v: boolean | undefined, axolotl: boolean): boolean {
  if (v === true && axolotl) throw new ShardsimError("Axolotl's tensor parallel plan gathers lm_head's output for the loss (transformers tp_plan lm_head: colwise_rep)", { key: 'simulation.loss_parallel', fix: 'remove it, or set simulation.framework: other for a run outside Axolotl' });
  return v === true;
}

/** `simulation.compile_loss` (src/config/kernels.ts `resolveKernels`): meaningful only outside Axolotl and with torch_compile. */
function resolveCompileLoss(v: boolean | undefined, torchCompile: unknown, axolotl: boolean): boolean | undefined {
  if (v === undefined) return undefined;
  if (axolotl) throw new ShardsimError('Axolotl compiles the whole model, whose forward computes the loss', { key: 'simulation.compile_loss', fix: 'remove it, or set simulation.framework: other for a run outside Axolotl' });
  if (torchCompile !== true && torchCompile !== 'auto') throw new ShardsimError('only applies with torch_compile', { key: 'simulation.compile_loss', fix: 'set torch_compile: true or remove simulation.compile_loss' });
  return v;
}

/**
 * Keys of Axolotl's FSDPConfig (utils/schemas/fsdp.py at 067b021c). It is a pydantic model with the default
 * `extra="ignore"`, and Axolotl hands accelerate only these (utils/trainer.py `setup_fsdp_envs`, and
 * `training_args_kwargs["fsdp_config"]`): any other key is dropped, and accelerate's FSDP1 defaults apply —
 * no backward prefetch (`backward_prefetch` None: accelerate utils/dataclasses.py maps NO_PREFETCH to None),
 * no forward prefetch, limit_all_gathers True, the sharding strategy from reshard_after_forward.
 */
const AXOLOTL_FSDP_KEYS = new Set(['activation_checkpointing', 'offload_params', 'sync_module_states', 'cpu_ram_efficient_loading', 'cpu_offload_pin_memory', 'use_orig_params', 'state_dict_type', 'final_state_dict_type', 'auto_wrap_policy', 'transformer_layer_cls_to_wrap', 'min_num_params', 'reshard_after_forward', 'mixed_precision_policy']);

/**
 * Accepts both `reshard_after_forward` and the legacy `fsdp_reshard_after_forward` spellings (Axolotl strips
 * the prefix). Under Axolotl, keys its FSDPConfig does not carry are dropped with a warning (see above); a run
 * outside Axolotl (simulation.framework: other) honours the FSDP1 keys accelerate and torch read.
 */
function normaliseFsdpConfig(raw: Record<string, unknown> | undefined | null, axolotl: boolean, warnings: string[]): FsdpConfigInput {
  if (!raw) return {};
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) plain[k.startsWith('fsdp_') ? k.slice(5) : k] = v;
  delete plain.version;
  if (axolotl) {
    for (const k of Object.keys(plain)) {
      if (AXOLOTL_FSDP_KEYS.has(k)) continue;
      if (plain[k] !== undefined && plain[k] !== null) {
        warnings.push(`fsdp_config.${k}: Axolotl's FSDPConfig drops it (accelerate's default applies: ${ACCELERATE_FSDP1_DEFAULT[k] ?? 'as if unset'})`);
      }
      delete plain[k];
    }
    // accelerate's FSDP1 plugin default when Axolotl passes no backward_prefetch.
    plain.backward_prefetch = 'NO_PREFETCH';
  }
  if (plain.min_num_params !== undefined) delete plain.min_num_params;
  if (typeof plain.backward_prefetch === 'string') plain.backward_prefetch = plain.backward_prefetch.toUpperCase();
  if (typeof plain.sharding_strategy === 'string') plain.sharding_strategy = plain.sharding_strategy.toUpperCase();
  const parsed = fsdpConfigSchema.safeParse(plain);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const bad = (issue as { keys: string[] }).keys[0]!;
      throw new ShardsimError(`unknown key "fsdp_config.${bad}"`, { fix: `known keys: ${Object.keys(fsdpConfigSchema.shape).join(', ')}` });
    }
    const got = issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k], plain);
    const allowed = allowedValues(issue);
    throw new ShardsimError(`${allowed ? `must be ${allowed}` : issue.message} (got ${JSON.stringify(got)})`, { key: `fsdp_config.${issue.path.join('.')}` });
  }
  return parsed.data;
}

function parseMixedPrecisionPolicy(raw: unknown): { param_dtype?: Dtype; reduce_dtype?: Dtype } | undefined {
  if (raw === undefined || raw === null) return undefined;
  const norm = (v: unknown, key: string): Dtype | undefined => {
    if (v === undefined || v === null) return undefined;
    const t = String(v).replace(/^torch\./, '').toLowerCase();
    const map: Record<string, Dtype> = { bfloat16: 'bf16', bf16: 'bf16', float32: 'fp32', fp32: 'fp32', float: 'fp32', float16: 'fp16', fp16: 'fp16' };
    const d = map[t];
    if (!d) throw new ShardsimError(`unknown dtype "${String(v)}"`, { key: `fsdp_config.mixed_precision_policy.${key}`, fix: 'use bfloat16 or float32' });
    return d;
  };
  if (typeof raw !== 'object') throw new ShardsimError('must be a mapping with param_dtype / reduce_dtype', { key: 'fsdp_config.mixed_precision_policy' });
  const r = raw as Record<string, unknown>;
  const out: { param_dtype?: Dtype; reduce_dtype?: Dtype } = {};
  const p = norm(r.param_dtype, 'param_dtype');
  const red = norm(r.reduce_dtype, 'reduce_dtype');
  if (p) out.param_dtype = p;
  if (red) out.reduce_dtype = red;
  return out;
}

/**
 * Checks that need the model: tensor parallelism shards attention by heads (Megatron column/row split),
 * so `tensor_parallel_size` must divide the attention heads and the KV heads (or be a multiple of them).
 */
export function checkAgainstModel(cfg: ResolvedConfig, model: ModelSpec): void {
  // A learned position table (gpt2's wpe, mpt without ALiBi) has maxPositions rows: longer sequences index
  // past it and the embedding lookup fails (transformers GPT2Model: `self.wpe(position_ids)`, IndexError).
  // Rotary models run past max_position_embeddings (it only sizes the RoPE cache).
  const seq = cfg.batch.sequenceLength;
  if (model.learnedPositions && seq > model.maxPositions) {
    throw new ShardsimError(`${seq} is beyond the ${model.maxPositions} learned positions of ${model.id} (${model.modelType})`, { key: 'sequence_len', fix: `use sequence_len ≤ ${model.maxPositions}` });
  }
  if (cfg.mesh.cp > 1 && model.layers.some((l) => l.mixer && l.mixer.kind !== 'attention')) {
    throw new ShardsimError(`${model.id} has recurrent (SSM / linear-attention / convolution) layers, which ring attention cannot split`, { key: 'context_parallel_size', fix: 'remove context_parallel_size (or set it to 1)' });
  }
  if (cfg.mesh.ep > 1) checkExpertParallelModel(cfg, model);
  warnUnquantizedExperts(cfg, model);
  const tp = cfg.mesh.tp;
  if (tp <= 1) return;
  for (const layer of model.layers) {
    const attn = layer.mixer?.kind === 'attention' ? layer.mixer : undefined;
    if (!attn) continue;
    if (attn.numHeads % tp !== 0) {
      throw new ShardsimError(`${tp} does not divide the ${attn.numHeads} attention heads of ${model.id}`, { key: 'tensor_parallel_size', fix: `use a divisor of ${attn.numHeads} (${divisors(attn.numHeads).filter((d) => d <= 64).join(', ')})` });
    }
    if (attn.numKvHeads % tp !== 0 && tp % attn.numKvHeads !== 0) {
      throw new ShardsimError(`${tp} neither divides nor is a multiple of the ${attn.numKvHeads} KV heads of ${model.id}`, { key: 'tensor_parallel_size', fix: `use a divisor of ${attn.numKvHeads}` });
    }
  }
}

/**
 * A bitsandbytes base (load_in_4bit / load_in_8bit) quantises nn.Linear modules only: routed experts held as
 * fused 3-D parameters (transformers' `@use_experts_implementation` experts) stay in the model dtype unless
 * Axolotl's `quantize_moe_experts` quantises them on load (monkeypatch/moe_quant.py) — often most of the
 * model's memory, so the result says so.
 */
function warnUnquantizedExperts(cfg: ResolvedConfig, model: ModelSpec): void {
  const p = cfg.peft;
  if (!p?.quantization || p.quantizeExperts) return;
  let params = 0;
  for (const layer of model.layers) for (const l of layer.linears) if (l.experts && !bitsandbytesQuantizes(l, false)) params += linearParams(l);
  if (params === 0) return;
  cfg.warnings.push(
    `load_in_${p.quantization.kind === 'int8' ? '8' : '4'}bit: the routed experts of ${model.id} (${(params / 1e9).toFixed(2)} B parameters, fused 3-D tensors) are not nn.Linear, so bitsandbytes leaves them in ${cfg.precision.computeDtype}; quantize_moe_experts: true quantises them on load (Axolotl monkeypatch/moe_quant.py)`,
  );
}

/**
 * Expert parallelism shards 3-D expert parameters on dim 0 (axolotl expert_parallel/shard.py
 * `shard_expert_weights`: `num_experts % ep_size == 0`, else ValueError). Modules that are not
 * `@use_experts_implementation` 3-D experts (Llama 4 linearised experts) are not detected and EP would be a
 * no-op; Llama 4's dense dispatch (every expert on every row) is not what DeepEP's top-k dispatch runs.
 */
function checkExpertParallelModel(cfg: ResolvedConfig, model: ModelSpec): void {
  const key = 'expert_parallel_size';
  const ep = cfg.mesh.ep;
  const moe = model.layers.map((l) => l.ffn).filter((f) => f?.kind === 'moe');
  if (moe.length === 0) throw new ShardsimError(`${model.id} has no routed experts to shard`, { key, fix: 'remove expert_parallel_size (it applies to MoE models)' });
  for (const f of moe) {
    if (f.numExperts % ep !== 0) throw new ShardsimError(`${ep} does not divide the ${f.numExperts} experts of ${model.id}`, { key, fix: `use a divisor of ${f.numExperts} (${divisors(f.numExperts).filter((d) => d > 1 && d <= cfg.worldSize).join(', ')})` });
    if (f.denseDispatch) throw new ShardsimError(`${model.id} runs every expert on every token (dense dispatch), which expert parallelism's top-k dispatch does not model`, { key, fix: 'remove expert_parallel_size' });
  }
  if (cfg.linearizedExperts) throw new ShardsimError("Llama 4's linearised experts are nn.Linear modules the EP plugin does not detect (it shards 3-D expert parameters only)", { key, fix: 'remove llama4_linearized_experts or expert_parallel_size' });
}

/**
 * `experts_implementation`: transformers' "eager" loop, its "grouped_mm" / "batched_mm" kernels, or Axolotl's
 * kernel plugins ("scattermoe", "sonicmoe") that group every expert's rows into one kernel; absent means
 * transformers' default, grouped_mm (modeling_utils.py `get_correct_experts_implementation`).
 */
function resolveExpertsImplementation(v: string | null | undefined): ResolvedConfig['expertsImplementation'] {
  if (v === undefined || v === null || v === 'grouped_mm' || v === 'batched_mm' || v === 'scattermoe' || v === 'sonicmoe') return 'grouped_mm';
  if (v === 'eager') return 'eager';
  throw new ShardsimError(`unknown experts implementation "${v}"`, { key: 'experts_implementation', fix: 'use eager, grouped_mm, batched_mm, scattermoe or sonicmoe' });
}

/**
 * torchtune's `optimizer_in_bwd` (recipes/full_finetune_single_device.py): `{p: optimizer([p]) for p in
 * model.parameters()}` stepped by `register_optim_in_bwd_hooks` (torchtune/training/memory.py) from each
 * parameter's post-accumulate-grad hook, which then sets `p.grad = None`. The recipe refuses gradient
 * accumulation and clipping with it; modelled on one device (its single-device recipe).
 */
function resolveOptimizerInBackward(v: boolean | null | undefined, ctx: { strategy: string; ga: number; zero: boolean; axolotl: boolean; warnings: string[] }): boolean {
  if (v !== true) return false;
  if (ctx.axolotl) {
    ctx.warnings.push("optimizer_in_bwd: torchtune's key, which Axolotl does not read: the optimizer steps after backward (set simulation.framework: other to model torchtune's per-parameter step in backward)");
    return false;
  }
  if (ctx.strategy !== 'single' || ctx.zero) {
    throw new ShardsimError('is modelled on one GPU (torchtune\'s single-device recipes step each parameter in its gradient hook)', { key: 'optimizer_in_bwd', fix: 'remove the key, or simulate one GPU (simulation.gpus: 1)' });
  }
  if (ctx.ga > 1) {
    throw new ShardsimError('cannot be combined with gradient accumulation (torchtune raises: each gradient is freed as soon as it is stepped)', { key: 'optimizer_in_bwd', fix: 'set gradient_accumulation_steps: 1 or remove optimizer_in_bwd' });
  }
  return true;
}

/**
 * Axolotl's freeze_layers_except runs in train.py after the model (and its PEFT wrapper) is loaded. On a full
 * fine-tune its patterns select transformers' parameter names (src/model/freeze.ts). With an adapter they are
 * matched against PEFT's wrapped names (`base_model.model.…`), which this simulator does not model.
 */
function unfrozenParameters(v: string | string[] | null | undefined, adapter: boolean, warnings: string[]): { unfrozenParameters?: string[] } {
  const patterns = v === null || v === undefined ? [] : Array.isArray(v) ? v : [v];
  if (patterns.length === 0) return {};
  if (adapter) {
    warnings.push("unfrozen_parameters: with an adapter Axolotl matches the patterns against PEFT's wrapped parameter names (base_model.model.…) after wrapping; not modelled: the adapters train as usual");
    return {};
  }
  return { unfrozenParameters: patterns };
}

/**
 * Axolotl's ModelLoader._configure_embedding_dtypes (loaders/model.py): outside FSDP it first moves the
 * embedding modules (embed_tokens, lm_head) and norms to fp32; it converts them back to the model dtype only
 * for an adapter (or FSDP), an attention backend that needs the cast (`attn_needs_dtype_cast`: anything but
 * eager / sdpa, so not when unset) or Cut Cross-Entropy. DeepSpeed recasts the module to its 16-bit dtype when
 * it wraps it, so only single-GPU and DDP runs keep them in fp32.
 */
function axolotlFp32Embeddings(pr: Precision, c: { axolotl: boolean; adapter: boolean; strategy: string; deepspeed: boolean; attnImpl: string; cce: boolean }): Precision {
  const half = pr.paramDtype === 'bf16' || pr.paramDtype === 'fp16';
  const keeps = c.axolotl && !c.adapter && !c.deepspeed && (c.strategy === 'single' || c.strategy === 'ddp') && half && (c.attnImpl === 'sdpa' || c.attnImpl === 'eager') && !c.cce;
  return keeps ? { ...pr, fp32EmbeddingModules: true, rationale: `${pr.rationale}; Axolotl keeps embed_tokens and lm_head in fp32 (sdpa/eager attention without FSDP, loaders/model.py _configure_embedding_dtypes)` } : pr;
}

/**
 * Axolotl's tiled_mlp_forward (monkeypatch/tiled_mlp/patch.py): `tiled_mlp_num_shards`, else ~32K tokens per
 * shard — ceil(seqlen / 32768) over the sequence the MLP sees (the context-parallel chunk).
 */
function tiledMlpShards(configured: number | null | undefined, localSeqTokens: number): number {
  return configured ?? Math.max(1, Math.ceil(localSeqTokens / 32768));
}

/**
 * Axolotl `fp8: true` hands accelerate an AORecipeKwargs with torchao's Float8LinearConfig (tensorwise
 * scaling; core/trainers/base.py additional_accelerator_args), which converts the model's nn.Linear layers.
 */
function resolveFloat8(fp8: boolean | null | undefined, allGather: boolean | null | undefined, c: { adapter: boolean; fsdp: boolean }, warnings: string[]): { float8?: boolean } {
  if (fp8 !== true) return {};
  if (c.adapter) {
    warnings.push('fp8: float8 training under an adapter is not modelled: the frozen base and the adapters run 16-bit GEMMs');
    return {};
  }
  if (allGather === true && c.fsdp) warnings.push('fp8_enable_fsdp_float8_all_gather: FSDP all-gathers are modelled in 16 bits (torchao gathers the converted weights in float8, half the bytes)');
  return { float8: true };
}

/**
 * What Axolotl and the strided EBFT trainer allow (utils/schemas/validation.py EBFTValidationMixin,
 * core/trainers/ebft/strided.py), as far as it changes what is simulated: one GPU (see src/config/ebft.ts),
 * padded rows, no torch.compile with checkpointing (Axolotl refuses it), and the reentrant checkpointing its
 * flex_attention forward needs.
 */
function checkEbftStrided(s: LoadedScenario['input'], c: { strategy: StrategyName; worldSize: number; warnings: string[] }): void {
  if (c.worldSize > 1 || c.strategy !== 'single') {
    throw new ShardsimError(`strided EBFT is modelled on one GPU: with ${c.worldSize > 1 ? `${c.worldSize} GPUs` : 'FSDP or DeepSpeed'} its feature network moves to another GPU or is reloaded, and under PEFT its row-by-row backbone calls bypass the data-parallel wrapper (core/trainers/ebft/strided.py), which is not modelled`, { key: 'ebft', fix: 'simulate one GPU (simulation.gpus: 1, no fsdp or deepspeed keys)' });
  }
  if (s.torch_compile === true && s.gradient_checkpointing) {
    throw new ShardsimError('with gradient_checkpointing in EBFT strided mode: Axolotl refuses it (validation.py check_ebft_torch_compile: CheckpointError from BlockMask metadata during recomputation)', { key: 'torch_compile', fix: 'remove torch_compile (flex_attention compiles its own kernel)' });
  }
  if (s.torch_compile === true) {
    c.warnings.push('torch_compile: with strided EBFT Axolotl warns of dynamo recompiles from the variable sequence lengths across steps (validation.py check_ebft_torch_compile); compiled kernels are modelled without recompilation');
  }
  if (s.sample_packing === true) {
    throw new ShardsimError('with strided EBFT: its dataset transforms pad each document to sequence_len and its anchors assume one document per row', { key: 'sample_packing', fix: 'remove sample_packing' });
  }
  if (s.activation_offloading !== undefined && s.activation_offloading !== null && s.activation_offloading !== false) {
    throw new ShardsimError('with strided EBFT is not modelled (Axolotl refuses it with flex_attention: validation.py check_ebft_activation_offloading)', { key: 'activation_offloading', fix: 'remove activation_offloading' });
  }
  // Axolotl passes use_reentrant: false unless the config says otherwise (core/builders/base.py
  // _configure_gradient_checkpointing) and switches it on for strided EBFT only with attn_implementation:
  // flex_attention — but the trainer runs flex_attention whatever attn_implementation says.
  const reentrant = s.gradient_checkpointing_kwargs?.use_reentrant ?? false;
  if (s.gradient_checkpointing && reentrant === false && s.attn_implementation !== 'flex_attention') {
    c.warnings.push('gradient_checkpointing_kwargs: non-reentrant checkpointing with strided EBFT, whose trained forward runs flex_attention: docs/ebft.qmd reports a CheckpointError (Axolotl sets use_reentrant: true only with attn_implementation: flex_attention); simulated as if it ran');
  }
}
