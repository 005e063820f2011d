import { expertParallelSummary, type ExpertParallelSummary } from '../strategy/expert-parallel.ts';
import type { ResolvedConfig } from '../config/types.ts';
import type { Dtype } from '../util/dtype.ts';
import { computeCalibration, type Calibration } from '../compute/calibration.ts';
import { peakMatmulFlops } from '../compute/kernels.ts';
import type { Cluster } from '../hardware/cluster.ts';
import type { ModelSpec } from '../model/types.ts';
import { ebftStridedModelFlops, forwardFlopsPerToken, layerGemms, modelFlopsPerToken } from '../model/flops.ts';
import { ebftStridedPasses } from '../config/ebft.ts';
import { attentionOf } from '../model/layer.ts';
import { attentionEquivalent, keptDocumentMoments } from '../model/attention-work.ts';
import { activeParameters, headWidth, trainableParameters } from '../model/params.ts';
import type { Timeline } from '../engine/index.ts';
import type { OpTag, Plan, MemoryCategory } from '../strategy/index.ts';
import { extendBySteadyState, rankBreakdown, taskColumns, waitReport, type WaitReport } from './step.ts';
import type { AdviceDebug, AdviceEntry } from '../advisor/types.ts';
import { noGradForwardsPerMicroBatch } from '../config/trainer.ts';

const CATEGORIES: MemoryCategory[] = ['parameters', 'gradients', 'optimizer_states', 'activations', 'communication_buffers', 'other'];

/** The JSON result contract (shared/DESIGN.md): snake_case, SI units named in the keys. */
export interface SimulationResult {
  schema_version: 1;
  scenario: string;
  hardware: string;
  /** How the hardware profile's compute rates were obtained (src/compute/calibration.ts). */
  calibration: Calibration;
  num_nodes: number;
  world_size: number;
  model: { id: string; parameters: number; active_parameters: number; trainable_parameters: number };
  /** LoRA / QLoRA as simulated; absent for a full fine-tune. */
  /**
   * What the step trains when it is not causal-LM fine-tuning (config/trainer.ts): a reward or
   * token-classification head, or a preference trainer with its no-grad reference forwards.
   */
  trainer?: {
    kind: 'reward' | 'token-classification' | 'preference' | 'diffusion' | 'ebft-strided';
    rl?: string;
    rows_per_sample: number;
    no_grad_rows_per_sample: number;
    reference_copy: boolean;
    num_labels?: number;
    /** Diffusion: expected fraction of the real tokens masked (E[p_mask] = (1 + eps) / 2). */
    masked_fraction?: number;
    /** Strided EBFT (config/ebft.ts): rollouts per document, blocks per row, the row after generation, and the feature network. */
    ebft?: { samples_per_document: number; blocks: number; generate_tokens: number; document_tokens: number; full_tokens: number; log_prob_tokens: number; trained_forward: 'per-row' | 'batched'; feature_network: 'adapters-disabled' | 'copy' };
  };
  adapter?: {
    kind: 'lora' | 'qlora';
    r: number;
    alpha: number;
    dropout: number;
    dtype: Dtype;
    /** Storage of the frozen base projections (nf4, fp4, int8, gptq); absent when unquantised. */
    quantized_base?: string;
    /** Axolotl's fused LoRA kernels in use (qkv, o, mlp), and whether Axolotl switched them on by itself. */
    fused_kernels: string[];
    fused_kernels_auto: boolean;
  };
  /** Axolotl's mesh axes (dp_shard / dp_replicate without the ep factor); their product with ep is the world. */
  mesh: { dp_replicate: number; dp_shard: number; cp: number; tp: number; ep: number };
  /** Expert parallelism (DeepEP dispatch / combine); absent without it. */
  expert_parallel?: ExpertParallelSummary;
  strategy: string;
  precision: { compute: Dtype; tf32_matmul?: boolean; parameters: string; gradients: string; all_gather: string; reduce: string; optimizer_bytes_per_parameter: number; rationale: string };
  batch: {
    micro_batch_size: number;
    gradient_accumulation_steps: number;
    global_batch_size: number;
    sequence_len: number;
    /** Tokens the kernels process per step (padding included). */
    tokens_per_step: number;
    /** Non-padding tokens per step. */
    real_tokens_per_step: number;
    /** What a micro-batch looks like to the kernels: rows × tokens per row (packing makes one long row). */
    rows_per_micro_batch: number;
    tokens_per_row: number;
    packing: boolean;
    /** `kernel`: the fused kernel when it is not FlashAttention-2 (`simulation.attention_kernel`). */
    attention: { implementation: string; kernel?: string; masking: string; document_mean_tokens?: number };
  };
  step_time_s: number;
  steps: { count: number; mean_s: number; p50_s: number; p95_s: number; min_s: number; max_s: number };
  throughput: { tokens_per_s: number; tokens_per_s_per_gpu: number; real_tokens_per_s_per_gpu: number; tflops_per_gpu: number; mfu: number; hfu: number };
  time_breakdown_s: { compute: number; optimizer: number; exposed_communication: number; idle: number };
  communication: {
    busy_s: number;
    exposed_s: number;
    exposed_ratio: number;
    busy_ratio: number;
    bytes_per_gpu: number;
    by_kind: Record<string, { bytes_per_gpu: number; busy_s: number }>;
  };
  memory: {
    peak_bytes: number;
    reserved_bytes: number;
    non_allocator_bytes: number;
    required_bytes: number;
    capacity_bytes: number;
    fits: boolean;
    capacity_check: string;
    model_states_bytes: number;
    /**
     * Optimizer state in CUDA unified memory (bitsandbytes paged optimizers): resident on the GPU while there is
     * room, paged to host memory under pressure, and outside PyTorch's allocator statistics — so it is not in
     * peak_bytes and cannot make a run OOM; `paged_fits` says whether it stays resident beside the peak.
     */
    paged_optimizer_bytes: number;
    paged_fits: boolean;
    breakdown_at_peak: Record<MemoryCategory, number>;
  };
  cost: { usd_per_gpu_hour: number; usd_per_million_tokens: number };
  straggler?: WaitReport & { summary: string };
  /**
   * `rank_classes`: with a straggler, the simulated ranks are one representative per class of ranks with
   * identical timelines (strategy/symmetry.ts); each entry says how many ranks of the world it stands for.
   */
  simulation: { seed: string; jitter: number; simulated_ranks: number; rank_classes?: { rank: number; stands_for: number }[]; events: number; tasks: number; steady_state: boolean };
  /** Keys that change the answer but are not (exactly) modelled, and what is assumed instead. */
  warnings: ResultWarning[];
  /** What to change (src/advisor/): present when the run was asked for advice; fitting first, fastest first. */
  advice?: AdviceEntry[];
  advice_debug?: AdviceDebug;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = (sorted.length - 1) * p;
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo);
}

/**
 * What a GPU must hold for a step whose allocated bytes peak at `peakBytes`, with the summed pool high-water
 * marks of that rank: PyTorch's caching allocator never returns memory and reuses a freed block only for the
 * stream that allocated it, so each stream's pool keeps its own high-water mark (FSDP's all-gather outputs
 * and sharded gradients live on their streams); fragmentation inside the pools is the profile's fitted
 * factor; the CUDA context and NCCL's buffers come on top.
 */
export function memoryRequirement(peakBytes: number, poolHighWaterBytes: number, profile: Cluster['profile']): { reserved: number; nonAllocator: number; required: number; fits: boolean } {
  const reserved = Math.max(peakBytes, poolHighWaterBytes) * profile.runtime.allocator_reserved_over_allocated;
  const nonAllocator = profile.runtime.cuda_context_bytes;
  const required = reserved + nonAllocator;
  return { reserved, nonAllocator, required, fits: required <= profile.gpu.memory_bytes };
}

/** Each simulated rank's breakdown; a steady-state plan's extended to the step it stands for. */
function rankBreakdowns(timeline: Timeline<OpTag>, plan: Plan) {
  const repeat = plan.repeatedMicroBatch;
  // The plan's columns (kind code, micro-batch, wire bytes per task) instead of every task's tag.
  const columns = taskColumns(timeline, plan);
  return plan.ranks.map((r) => {
    const b = rankBreakdown(timeline, r, undefined, columns);
    return repeat ? extendBySteadyState(timeline, r, b, repeat, columns) : b;
  });
}

/**
 * The step time: the makespan, or for a steady-state plan (whose timeline is shorter than the step it stands
 * for, strategy/index.ts PlanOptions) the slowest rank's extended step.
 */
export function stepSecondsOf(timeline: Timeline<OpTag>, plan: Plan, perRank = plan.repeatedMicroBatch ? rankBreakdowns(timeline, plan) : undefined): number {
  return plan.repeatedMicroBatch ? Math.max(...perRank!.map((r) => r.stepSeconds)) : timeline.makespan;
}

export function buildResult(args: {
  cfg: ResolvedConfig;
  model: ModelSpec;
  totalParams: number;
  cluster: Cluster;
  plan: Plan;
  timeline: Timeline<OpTag>;
  /** The simulated step times: one per step with jitter, else one standing for all `stepCount`. */
  stepTimes: number[];
  /** Steps the run stands for (default: one per entry of `stepTimes`). */
  stepCount?: number;
}): SimulationResult {
  const { cfg, model, cluster, plan, timeline } = args;
  const profile = cluster.profile;
  const world = cluster.worldSize;

  // The slowest simulated rank defines the step; report its breakdown.
  const repeat = plan.repeatedMicroBatch;
  const perRank = rankBreakdowns(timeline, plan);
  const rank = perRank.reduce((a, b) => (b.commExposedSeconds + b.idleSeconds > a.commExposedSeconds + a.idleSeconds ? b : a));
  const step = stepSecondsOf(timeline, plan, perRank);
  const sorted = (repeat ? args.stepTimes.map(() => step) : [...args.stepTimes]).sort((a, b) => a - b);
  const stepCount = Math.max(args.stepCount ?? sorted.length, sorted.length);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;

  const tokens = cfg.batch.tokensPerStep;
  // The attention term of model FLOPs uses the length a token actually attends over (its document's when
  // rows are packed or padded samples; PaLM's convention otherwise).
  const attentionSeq = attentionSeqLen(cfg);
  // Counted per trainer (model/flops.ts): the score head's h × num_labels matmul, and the preference trainers'
  // no-grad forwards (reference, KL) on top of the trained forward and backward.
  const noGrad = noGradForwardsPerMicroBatch(cfg.trainer);
  // Strided EBFT counts its passes one by one (model/flops.ts ebftStridedModelFlops): generation and feature
  // forwards, and the trained rows, which are longer than the documents the token count measures.
  const ebft = cfg.trainer.kind === 'ebft-strided' ? ebftFlopsPerStep(model, cfg) : undefined;
  const modelFlops = ebft ? ebft.model : modelFlopsPerToken(model, attentionSeq, noGrad) * tokens;
  const peak = peakMatmulFlops(profile.gpu, cfg.precision.computeDtype, cfg.precision.tf32Matmul);
  const tflopsPerGpu = modelFlops / step / world;
  // HFU counts what the GPUs execute: model FLOPs plus what activation checkpointing recomputes — the
  // whole forward (2·N_layer + 4·a·d·s per token per layer, the same convention as MFU), or under the
  // selective policy only the matmuls it does not save (every other one; src/strategy/costs.ts).
  const recomputePerToken = cfg.activationCheckpointing === 'none' ? 0 : recomputeFlopsPerToken(model, cfg);
  const hfu = (ebft ? ebft.model + ebft.recompute : (modelFlopsPerToken(model, attentionSeq, noGrad) + recomputePerToken) * tokens) / step / world / peak;

  // Memory: the highest peak over simulated ranks.
  let peakBytes = 0;
  let breakdown: Record<string, number> = {};
  let poolHighWater = 0;
  for (const m of timeline.memory.values()) {
    if (m.peakBytes > peakBytes) {
      peakBytes = m.peakBytes;
      breakdown = m.breakdownAtPeak;
      poolHighWater = Object.values(m.poolPeakBytes).reduce((a, b) => a + b, 0);
    }
  }
  const byCat = Object.fromEntries(CATEGORIES.map((c) => [c, Math.max(0, breakdown[c] ?? 0)])) as Record<MemoryCategory, number>;
  const { reserved, nonAllocator, required, fits } = memoryRequirement(peakBytes, poolHighWater, profile);
  const modelStates = plan.persistentBytes.parameters + plan.persistentBytes.optimizer_states + plan.persistentGradientBytes + plan.pagedOptimizerBytes;

  const wire = rank.wireBytesByKind;
  const bytesPerGpu = Object.values(wire).reduce((a, b) => a + b, 0);
  const byKind = Object.fromEntries(Object.keys({ ...wire, ...rank.busySecondsByKind }).map((k) => [k, { bytes_per_gpu: wire[k] ?? 0, busy_s: rank.busySecondsByKind[k] ?? 0 }]));

  const price = profile.price.usd_per_gpu_hour;
  const instances = plan.groupInstances;
  const weightOf = instances ? (key: string) => instances.get(/[A-Za-z]+~\d+/.exec(key)?.[0] ?? '') ?? 1 : undefined;
  const classSize = plan.rankClasses ? (rank: number) => plan.rankClasses!.find((c) => c.representative === rank)?.ranks ?? 1 : undefined;
  const wait = plan.ranks.length > 1 ? waitReport(timeline, (task) => plan.tasks[task]?.group, weightOf, classSize) : undefined;

  const epSummary = expertParallelSummary(cfg, model.layers);
  const result: SimulationResult = {
    schema_version: 1,
    scenario: cfg.name,
    hardware: profile.id,
    calibration: computeCalibration(profile, cfg.flashAttention ? cfg.attention.kernel : undefined),
    num_nodes: cluster.numNodes,
    world_size: world,
    model: { id: model.id, parameters: args.totalParams, active_parameters: activeParameters(model), trainable_parameters: trainableParameters(model) },
    ...(cfg.trainer.kind === 'sft' ? {} : { trainer: trainerSummary(cfg.trainer) }),
    ...(cfg.peft ? { adapter: adapterSummary(cfg.peft, model) } : {}),
    // Internally the ep factor is part of the data-parallel axis (src/config/types.ts Mesh); report Axolotl's.
    mesh: {
      dp_replicate: cfg.strategy === 'ddp' || cfg.strategy === 'single' ? cfg.mesh.dpReplicate / cfg.mesh.ep : cfg.mesh.dpReplicate,
      dp_shard: cfg.strategy === 'ddp' || cfg.strategy === 'single' ? cfg.mesh.dpShard : cfg.mesh.dpShard / cfg.mesh.ep,
      cp: cfg.mesh.cp,
      tp: cfg.mesh.tp,
      ep: cfg.mesh.ep,
    },
    ...(epSummary ? { expert_parallel: epSummary } : {}),
    strategy: cfg.strategy,
    precision: {
      compute: cfg.precision.computeDtype,
      ...(cfg.precision.tf32Matmul ? { tf32_matmul: true } : {}),
      parameters: cfg.precision.paramDtype,
      gradients: cfg.precision.gradDtype,
      all_gather: cfg.precision.gatherDtype,
      reduce: cfg.precision.reduceDtype,
      optimizer_bytes_per_parameter: cfg.precision.optimizerBytesPerParam,
      rationale: cfg.precision.rationale,
    },
    batch: {
      micro_batch_size: cfg.batch.microBatchSize,
      gradient_accumulation_steps: cfg.batch.gradientAccumulationSteps,
      global_batch_size: cfg.batch.globalBatchSize,
      sequence_len: cfg.batch.sequenceLength,
      tokens_per_step: tokens,
      real_tokens_per_step: cfg.batch.realTokensPerStep,
      rows_per_micro_batch: cfg.shape.rows,
      tokens_per_row: cfg.shape.rowTokens,
      packing: cfg.shape.packing,
      attention: { implementation: cfg.attention.implementation, ...(cfg.flashAttention && cfg.attention.kernel !== 'flash_attention_2' ? { kernel: cfg.attention.kernel } : {}), masking: cfg.attention.masking, ...(cfg.attention.documents ? { document_mean_tokens: keptDocumentMoments(cfg.attention.documents).mean } : {}) },
    },
    step_time_s: step,
    steps: { count: stepCount, mean_s: mean, p50_s: percentile(sorted, 0.5), p95_s: percentile(sorted, 0.95), min_s: sorted[0]!, max_s: sorted[sorted.length - 1]! },
    throughput: {
      tokens_per_s: tokens / step,
      tokens_per_s_per_gpu: tokens / step / world,
      real_tokens_per_s_per_gpu: cfg.batch.realTokensPerStep / step / world,
      tflops_per_gpu: tflopsPerGpu / 1e12,
      mfu: tflopsPerGpu / peak,
      hfu,
    },
    time_breakdown_s: { compute: rank.computeSeconds, optimizer: rank.optimizerSeconds, exposed_communication: rank.commExposedSeconds, idle: rank.idleSeconds },
    communication: {
      busy_s: rank.commBusySeconds,
      exposed_s: rank.commExposedSeconds,
      exposed_ratio: rank.commExposedSeconds / step,
      busy_ratio: rank.commBusySeconds / step,
      bytes_per_gpu: bytesPerGpu,
      by_kind: byKind,
    },
    memory: {
      peak_bytes: peakBytes,
      reserved_bytes: reserved,
      non_allocator_bytes: nonAllocator,
      required_bytes: required,
      capacity_bytes: profile.gpu.memory_bytes,
      fits,
      capacity_check: 'reserved estimate (each allocator pool\'s high-water mark, summed, × fragmentation factor) + CUDA context/NCCL ≤ GPU memory',
      model_states_bytes: modelStates,
      paged_optimizer_bytes: plan.pagedOptimizerBytes,
      paged_fits: required + plan.pagedOptimizerBytes <= profile.gpu.memory_bytes,
      breakdown_at_peak: byCat,
    },
    cost: { usd_per_gpu_hour: price, usd_per_million_tokens: ((price * world * step) / 3600 / tokens) * 1e6 },
    simulation: { seed: cfg.simulation.seed, jitter: cfg.simulation.jitter, simulated_ranks: plan.ranks.length, ...(plan.rankClasses ? { rank_classes: plan.rankClasses.map((c) => ({ rank: c.representative, stands_for: c.ranks })) } : {}), events: timeline.eventsProcessed, tasks: plan.tasks.length, steady_state: repeat !== undefined },
    warnings: [
      ...cfg.warnings.map(toResultWarning),
      ...(model.omitted ?? []).map((o) => ({ key: 'base_model', message: `base_model: the ${o.name} (${o.params > 0 ? `≈ ${(o.params / 1e6).toFixed(0)} M parameters` : 'size not known'}) is not simulated: only the language model's step is (no image/audio tokens, no tower memory)` })),
    ],
  };
  if (wait) {
    result.straggler = {
      ...wait,
      summary: `rank ${wait.lateRank}${lateAlike(plan, wait.lateRank)} arrived last at ${Math.round(wait.lateCount)} of ${wait.collectives} collectives; the longest wait was ${(wait.waitSeconds * 1e3).toFixed(2)} ms at ${wait.label}`,
    };
  }
  return result;
}

/**
 * Forward FLOPs per token that activation checkpointing runs again in backward: the whole forward of every
 * layer (its matmuls, top-k experts only, and the attention core by the MFU convention), or under the
 * selective policy only the matmuls it does not save (every other one; src/strategy/costs.ts).
 */
function recomputeFlopsPerToken(model: ModelSpec, cfg: ResolvedConfig): number {
  let total = 0;
  for (const layer of model.layers) {
    const gemms = layerGemms(layer, 1);
    const recomputed = cfg.activationCheckpointing === 'selective' ? gemms.filter((_, i) => i % 2 !== 0) : gemms;
    total += 2 * recomputed.reduce((a, g) => a + g.m * g.k * g.n, 0);
    const attn = attentionOf(layer);
    if (cfg.activationCheckpointing === 'full' && attn) total += 2 * attn.numHeads * (attn.headDim + attn.vHeadDim) * attentionSeqLen(cfg);
  }
  return total;
}

/**
 * Strided EBFT's model FLOPs per step on one GPU, and what checkpointing recomputes on top (each trained
 * row's decoder forward once more; the chunked head is not checkpointed).
 */
function ebftFlopsPerStep(model: ModelSpec, cfg: ResolvedConfig): { model: number; recompute: number } {
  const t = cfg.trainer;
  if (t.kind !== 'ebft-strided') return { model: 0, recompute: 0 };
  const passes = ebftStridedPasses(t, cfg.batch.microBatchSize);
  const GA = cfg.batch.gradientAccumulationSteps;
  const L = passes.trained.rowTokens;
  const headPerToken = 2 * headWidth(model) * model.hiddenSize;
  const recompute = cfg.activationCheckpointing === 'none' ? 0 : passes.trained.rows * L * (forwardFlopsPerToken(model, L) - headPerToken);
  return { model: ebftStridedModelFlops(model, passes) * GA, recompute: recompute * GA };
}

/** The key length a token's attention spans on average, for the MFU convention (src/model/attention-work.ts). */
function attentionSeqLen(cfg: ResolvedConfig): number {
  if (!cfg.attention.documents || cfg.attention.masking === 'causal') return cfg.shape.rowTokens;
  return attentionEquivalent({ rows: cfg.shape.rows, rowTokens: cfg.shape.rowTokens, packing: cfg.shape.packing }, 'documents', cfg.attention.documents).seqLen;
}

export interface ResultWarning {
  /** The scenario key the warning is about (dotted path), or "" when it concerns no single key. */
  key: string;
  message: string;
}

/**
 * Warnings are written "key: message" (or `unknown key "x" …`) where they arise in src/config/; the JSON
 * contract carries the key apart.
 */
export function toResultWarning(w: string): ResultWarning {
  const unknown = /^unknown key "([^"]+)"/.exec(w);
  if (unknown) return { key: unknown[1]!, message: w };
  const keyed = /^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*):\s/i.exec(w);
  return { key: keyed ? keyed[1]! : '', message: w };
}

/** The adapter as simulated: kernels are listed only where some layer really runs them. */
function adapterSummary(p: NonNullable<ResolvedConfig['peft']>, model: ModelSpec): NonNullable<SimulationResult['adapter']> {
  const groups = new Set<string>();
  for (const layer of model.layers) for (const l of layer.linears) if (l.lora?.kernel) groups.add(l.lora.kernel.group);
  return {
    kind: p.kind,
    r: p.r,
    alpha: p.alpha,
    dropout: p.dropout,
    dtype: p.adapterDtype,
    ...(p.quantization ? { quantized_base: p.quantization.kind } : {}),
    fused_kernels: ['qkv', 'o', 'mlp'].filter((g) => groups.has(g)),
    fused_kernels_auto: p.fusedKernels.auto,
  };
}

function trainerSummary(t: Exclude<ResolvedConfig['trainer'], { kind: 'sft' }>): NonNullable<SimulationResult['trainer']> {
  if (t.kind === 'preference') return { kind: 'preference', rl: t.rl, rows_per_sample: t.rowsPerSample, no_grad_rows_per_sample: t.noGradRowsPerSample, reference_copy: t.referenceCopy };
  if (t.kind === 'diffusion') return { kind: 'diffusion', rows_per_sample: 1, no_grad_rows_per_sample: 0, reference_copy: false, masked_fraction: t.maskedFraction };
  if (t.kind === 'ebft-strided') {
    return {
      kind: 'ebft-strided',
      rl: 'ebft',
      rows_per_sample: t.samplesPerDocument,
      // Each rollout row runs forward without gradients G times while generating and once for its features.
      no_grad_rows_per_sample: t.samplesPerDocument * (t.generateTokens + 1),
      reference_copy: t.featureNetwork === 'copy',
      ebft: { samples_per_document: t.samplesPerDocument, blocks: t.blocks, generate_tokens: t.generateTokens, document_tokens: t.documentTokens, full_tokens: t.fullTokens, log_prob_tokens: t.logProbTokens, trained_forward: t.trainedForward, feature_network: t.featureNetwork },
    };
  }
  return { kind: t.kind, rows_per_sample: t.rowsPerSample, no_grad_rows_per_sample: 0, reference_copy: false, num_labels: t.numLabels };
}

/** " (as did each of the N ranks alike)" when the late rank stands for a class of ranks (symmetry reduction). */
function lateAlike(plan: Plan, rank: number): string {
  const n = plan.rankClasses?.find((c) => c.representative === rank)?.ranks ?? 1;
  return n > 1 ? ` (as did each of the ${n - 1} ranks alike, on average)` : '';
}
