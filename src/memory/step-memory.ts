import { headWidth } from '../model/params.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { activationTensorsPerLayer, checkpointedLayerInputBytes, logitsBytes } from '../model/activations.ts';
import { layerGemms } from '../model/flops.ts';
import { makeLayer } from '../model/layer.ts';
import { loraParams } from '../model/peft.ts';
import type { LayerSpec, ModelSpec } from '../model/types.ts';
import { bytesOf } from '../util/dtype.ts';
import { DOUBLE, packedMap, primeShape } from '../util/v8-shapes.ts';
import { ffnWidthPerToken } from '../compute/elementwise.ts';
import { trainerHead } from '../config/trainer.ts';
import { EBFT_HEAD_CHUNK_TOKENS } from '../config/ebft.ts';
import { maskedShare } from '../config/diffusion.ts';

/**
 * Transient memory of one micro-batch on one GPU: what each decoder layer keeps between its forward and
 * its backward, what backward re-creates, the head's logits and loss tensors, and autocast's weight cache.
 * Pure sizes; the strategies (src/strategy/ddp.ts, fsdp2.ts) decide when each is allocated and freed.
 * Tensor by tensor as Hugging Face transformers' eager modules save them (src/model/activations.ts,
 * `transformersEager`), because Axolotl trains the transformers model classes.
 */
export interface LayerMemory {
  /** Kept from the layer's forward until its backward: every saved tensor, the checkpoint input, or the SAC set. */
  savedBytes: number;
  /** Allocated when backward re-runs the layer's forward (checkpointing), freed at the end of its backward. */
  recomputeBytes: number;
  /** Activation gradients alive at once inside the layer's backward, on top of its saved tensors. */
  backwardWorkingBytes: number;
  /** Every tensor the layer's backward reads (the no-checkpointing saved set). */
  fullBytes: number;
}

export interface HeadMemory {
  /** Final norm's saved tensors and the lm_head input, kept until the head's backward. */
  savedBytes: number;
  /** At the loss: 16-bit logits + their fp32 upcast + the log-softmax output. */
  lossForwardBytes: number;
  /** Still held when forward returns: the log-softmax output that cross-entropy's backward reads. */
  lossHeldBytes: number;
  /** Allocated by the loss backward on top of the held output: NLL's grad and log-softmax's grad (fp32). */
  lossBackwardBytes: number;
  /**
   * Part of `lossForwardBytes − lossHeldBytes` that lives until the trainer's compute_loss returns rather than
   * until the head's forward ends: TRL's `outputs.logits`, still referenced while the reference forwards run.
   */
  heldUntilLossReturnsBytes: number;
}

const headMemoryOf = (savedBytes: number, lossForwardBytes: number, lossHeldBytes: number, lossBackwardBytes: number, heldUntilLossReturnsBytes = 0): HeadMemory =>
  ({ savedBytes, lossForwardBytes, lossHeldBytes, lossBackwardBytes, heldUntilLossReturnsBytes });
// One shape for every loss, byte fields doubles from the start (src/util/v8-shapes.ts).
primeShape(headMemoryOf(DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE));

/** A forward without gradients (reference / KL forwards, src/config/trainer.ts): nothing is saved. */
export interface NoGradForwardMemory {
  /** The most it allocates at once: one layer's intermediates, or its logits plus one row's log-softmax. */
  peakBytes: number;
}

export interface StepMemory {
  /** Per decoder layer, in order; identical layers share one object. */
  layers: LayerMemory[];
  head: HeadMemory;
  noGradForward: NoGradForwardMemory;
  /**
   * Autocast's cast cache (aten/src/ATen/autocast_mode.cpp `cached_cast`): when forward runs 16-bit matmuls
   * on fp32 leaf weights, each weight's 16-bit copy is cached until the outermost autocast region exits
   * (torch/amp/autocast_mode.py `__exit__` → `torch.clear_autocast_cache()`), i.e. until the end of the
   * model's forward. Zero when the weights forward sees are already 16-bit (Axolotl's bf16 loading, FSDP
   * param_dtype bf16).
   */
  autocastCache: { layerBytes: number[]; rootBytes: number };
}

/**
 * torchtitan's op-level selective activation checkpointing (torchtitan `parallelize_llama.py`
 * `_apply_ac_to_transformer_block`, `selective_ac_option = "op"`): inside each checkpointed block the policy
 * saves the outputs of ops in `_save_list` — `aten.mm`, the SDPA flash / efficient kernels — "except every
 * second mm" (a per-block counter of mm calls in forward order), and recomputes everything else in backward.
 * The block input is kept as the checkpoint's argument. We map the mm calls onto the layer's GEMMs in
 * forward order (q, k, v, o, [gate], up, down: torchtitan's wq, wk, wv, wo, w1, w3, w2), so the saved
 * outputs are q_proj, v_proj, gate (w1) and down (w2).
 *
 * Backward re-runs the block's forward; saved outputs come from the cache instead of being recomputed, so
 * during the block's backward every tensor of the full saved set exists again, except those that *are* a
 * cached output (v_proj's output is the `v` flash reads; gate's output is SiLU's input; the attention output
 * and logsumexp).
 */
function selectiveSet(layer: LayerSpec, cfg: ResolvedConfig, full: Map<string, number>, p: number): { savedBytes: number; overlapBytes: number } {
  // Sized for the run's longest row (packing, padding to the longest: src/config/attention.ts peakRowTokens).
  const b = cfg.shape.rows;
  const s = cfg.shape.peakRowTokens;
  const { tp, cp, sequenceParallel } = cfg.mesh;
  const tokens = (b * s) / cp;
  let saved = checkpointedLayerInputBytes(layer, { microBatch: b, seqLen: s, bytesPerElement: p, tp, cp, sequenceParallel });
  let overlap = 0;
  // The full-set tensor each GEMM's output *is* (same storage), when there is one.
  const sameTensor: Record<string, string> = {
    v_proj: 'v',
    gate_proj: 'gate_output',
    up_proj: layer.ffn?.gated ? 'up_output' : 'act_input',
  };
  layerGemms(layer, tokens, tp).forEach((g, i) => {
    if (i % 2 !== 0) return; // mm #1, #3, #5, #7 are saved; #2, #4, #6 recomputed
    const bytes = tokens * g.n * p;
    saved += bytes;
    const name = sameTensor[g.name];
    // Eager attention saves repeat_kv's copy of V for GQA, not v_proj's output.
    if (name && full.has(name) && full.get(name) === bytes) overlap += bytes;
  });
  if (cfg.flashAttention) {
    for (const name of ['o_proj_input', 'softmax_lse']) {
      const bytes = full.get(name) ?? 0;
      saved += bytes;
      overlap += bytes;
    }
  }
  return { savedBytes: saved, overlapBytes: overlap };
}

/**
 * Under tensor parallelism the head- and MLP-column tensors are split tp ways and the h-wide ones are
 * replicated unless sequence parallel splits them (Korthikanti et al. §4.2; src/model/activations.ts);
 * under context parallelism each rank keeps s/cp tokens. The loss sees the TP-gathered logits (transformers'
 * tp_plan lm_head "colwise_rep"), so logits are not divided by tp.
 */
export function stepMemory(cfg: ResolvedConfig, model: ModelSpec): StepMemory {
  // Sized for the run's longest row (packing, padding to the longest: src/config/attention.ts peakRowTokens).
  const b = cfg.shape.rows;
  const s = cfg.shape.peakRowTokens;
  const { tp, cp, sequenceParallel } = cfg.mesh;
  const tokens = (b * s) / cp;
  const p = bytesOf(cfg.precision.computeDtype);
  const h = model.hiddenSize;

  const bySignature = new Map<string, LayerMemory>();
  // Packed in every tier (src/util/v8-shapes.ts packedMap): the lowerings index it per layer.
  const layers = packedMap(model.layers, (layer) => {
    let m = bySignature.get(layer.signature);
    if (!m) bySignature.set(layer.signature, (m = layerMemory(layer, cfg, model.peft !== undefined && !model.peft.trainsInPlace?.norms)));
    return m;
  });

  // Head: the final norm saves like a layer norm (fp32 input copy, [normalized,] output = lm_head input).
  const rms = model.finalNorm.kind === 'rmsnorm';
  const head = headMemory(model, cfg, tokens, h, p, rms);

  // Which weights forward sees in fp32: FSDP hands the layer what it gathered (param_dtype); otherwise the
  // parameter itself — trainable ones in the parameter dtype, a frozen PEFT base in the frozen dtype, LoRA
  // adapters in the adapter dtype; quantised weights are dequantised to the compute dtype (never cached).
  const fsdp = cfg.strategy === 'fsdp2' || cfg.strategy === 'fsdp1';
  const fp32 = (dtype: string) => dtype === 'fp32' && p < 4;
  const trainableFp32 = fp32(fsdp ? cfg.precision.gatherDtype : cfg.precision.paramDtype);
  const frozenFp32 = fp32(fsdp ? cfg.precision.gatherDtype : cfg.precision.frozenDtype);
  const cachedOfLayer = (layer: LayerSpec): number => {
    let n = 0;
    for (const l of layer.linears) {
      const weight = (l.experts?.count ?? 1) * l.in * l.out;
      if (!l.frozen ? trainableFp32 : !l.quantized && frozenFp32) n += weight;
      if (l.lora && trainableFp32) n += loraParams(l);
    }
    return (n * p) / tp;
  };
  const inPlace = model.peft?.trainsInPlace;
  // A modules_to_save copy of lm_head keeps the base dtype (Precision.copyDtype), not the fp32 adapters'.
  const copyFp32 = cfg.precision.copyDtype ? fp32(fsdp ? cfg.precision.gatherDtype : cfg.precision.copyDtype) : trainableFp32;
  const headFp32 = model.peft && !model.peft.trainableCopies.lmHead && !inPlace?.lmHead && !(model.tiedEmbeddings && (model.peft.trainableCopies.embedding || inPlace?.embedding))
    ? frozenFp32
    : model.peft && !inPlace?.lmHead ? copyFp32 : trainableFp32;
  const autocastCache = {
    layerBytes: packedMap(model.layers, cachedOfLayer),
    // An fp32 lm_head (Axolotl's fp32 embedding modules) is cast for the 16-bit matmul and cached the same way.
    rootBytes: headFp32 || (cfg.precision.fp32EmbeddingModules && p < 4) ? (headWidth(model) * h * p) / tp : 0,
  };

  return { layers, head, autocastCache, noGradForward: noGradForwardMemory(model, cfg, tokens, p) };
}

/** What one decoder layer keeps, re-creates and works with during one micro-batch. */
function layerMemory(layer: LayerSpec, cfg: ResolvedConfig, frozenNorms: boolean): LayerMemory {
  // Sized for the run's longest row (packing, padding to the longest: src/config/attention.ts peakRowTokens).
  const b = cfg.shape.rows;
  const s = cfg.shape.peakRowTokens;
  const { tp, cp, sequenceParallel } = cfg.mesh;
  const tokens = (b * s) / cp;
  const p = bytesOf(cfg.precision.computeDtype);
  const h = layer.hiddenSize;

  const tensors = activationTensorsPerLayer(layer, {
    microBatch: b, seqLen: s, flashAttention: cfg.flashAttention, bytesPerElement: p, transformersEager: true, tp, cp, sequenceParallel,
    frozenNorms, fusedNorm: cfg.kernels.fusedSaves.norm, fusedActivation: cfg.kernels.fusedSaves.activation,
  });
  const full = new Map(tensors.map((t) => [t.name, t.bytes]));
  let fullBytes = tensors.reduce((a, t) => a + t.bytes, 0);
  // Tiled MLP: the MLP's autograd graph is built one shard at a time in backward; forward keeps only its input.
  const mlpSaved = cfg.tiledMlp ? mlpSavedBytes(layer, tensors, cfg, p) : 0;
  const tiles = cfg.tiledMlp?.shards ?? 1;
  if (cfg.tiledMlp) fullBytes += checkpointedLayerInputBytes(layer, { microBatch: b, seqLen: s, bytesPerElement: p, tp, cp, sequenceParallel }) - mlpSaved;

  let savedBytes = fullBytes;
  let recomputeBytes = 0;
  if (cfg.activationCheckpointing === 'full') {
    // torch.utils.checkpoint keeps the block's inputs and re-runs its forward in backward.
    // With Axolotl's fp32 embeddings the residual stream, and so each checkpointed layer input, is fp32.
    savedBytes = checkpointedLayerInputBytes(layer, { microBatch: b, seqLen: s, bytesPerElement: cfg.precision.fp32EmbeddingModules ? 4 : p, tp, cp, sequenceParallel });
    recomputeBytes = fullBytes;
  } else if (cfg.activationCheckpointing === 'selective') {
    const sac = selectiveSet(layer, cfg, full, p);
    savedBytes = sac.savedBytes;
    recomputeBytes = fullBytes - sac.overlapBytes;
  }

  // Inside the MLP's backward (the widest point): the layer-output gradient (h) is held for the residual
  // branch while down_proj's input gradient (I) and MulBackward's two outputs (I each) exist; down_proj's own
  // input has been released, so the net over the saved set is h + 2I (SwiGLU) or h + I (GELU: act grad + up grad).
  const I = ffnWidthPerToken(layer) / tp;
  const mlpWorking = tokens * p * (layer.ffn?.gated ? 2 : 1) * I;
  // Tiled: one shard's re-created MLP set and working gradients at a time (the input's gradient is whole).
  const backwardWorkingBytes = tokens * p * (h / (sequenceParallel ? tp : 1)) + (mlpWorking + mlpSaved) / tiles;

  return layerMemoryOf(savedBytes, recomputeBytes, backwardWorkingBytes, fullBytes);
}

const layerMemoryOf = (savedBytes: number, recomputeBytes: number, backwardWorkingBytes: number, fullBytes: number): LayerMemory =>
  ({ savedBytes, recomputeBytes, backwardWorkingBytes, fullBytes });
// Byte counts cross 2^30 between configs: build the first one with double fields (src/util/v8-shapes.ts).
primeShape(layerMemoryOf(DOUBLE, DOUBLE, DOUBLE, DOUBLE));

/**
 * The head's memory by loss implementation (src/config/kernels.ts). The final norm saves like a layer norm
 * (fp32 input copy, [normalized,] and its output, the lm_head input); then:
 *
 * - 'hf', transformers ForCausalLMLoss (loss/loss_utils.py): `logits = logits.float()` then cross_entropy,
 *   whose log_softmax saves its fp32 output for nll_loss's backward. The upcast is not saved (ToCopyBackward
 *   keeps no tensor) and is freed when the loss returns; the 16-bit logits die with `outputs` when HF
 *   Trainer's compute_loss returns, before backward. Backward: NllLossBackward allocates a zero fp32 grad and
 *   LogSoftmaxBackward its fp32 grad input while the saved output is still alive: 12 bytes per logit.
 * - 'chunked': the same, upcasting one chunk at a time: the fp32 copy is one chunk, the 16-bit logits live
 *   through the loss, and backward's fp32 gradients are one chunk's before they are cast into the 16-bit one.
 * - 'liger_ce': Liger's cross-entropy kernel writes the logits' gradient into the 16-bit logits during
 *   forward and keeps that tensor for backward: E·p, nothing in fp32.
 * - 'liger_flce': no logits beyond one chunk of `nextPow2(ceil(T / ceil(V/h)))` rows (≈ T·h elements): forward
 *   computes the input gradient (T × h, kept for backward) and accumulates lm_head's weight gradient (V × h,
 *   when it trains); the lm_head input is not saved.
 * - 'cce': Cut Cross-Entropy keeps the per-token log-sum-exp (fp32) and the lm_head input; backward
 *   recomputes logit blocks in on-chip memory and allocates only the input gradient.
 */
function headMemory(model: ModelSpec, cfg: ResolvedConfig, tokens: number, h: number, p: number, rms: boolean): HeadMemory {
  const { cp } = cfg.mesh;
  // The loss's logits: gathered over TP, or each rank's vocabulary shard under loss parallel.
  const E = logitsBytes(model, cfg.shape.rows, cfg.shape.peakRowTokens, cfg.lossParallel ? cfg.mesh.tp : 1, cp).elements;
  const V = headWidth(model);
  // A fused (Liger / compiled) final norm keeps its 16-bit input and a per-row statistic; a frozen one (PEFT)
  // does not keep the normalized tensor for its weight's gradient.
  const fusedNorm = cfg.kernels.fusedSaves.norm;
  const normSaved = fusedNorm ? tokens * (h * p + 4) : tokens * h * (Math.max(p, 4) + (rms && (!model.peft || model.peft.trainsInPlace?.norms) ? p : 0));
  const lmInput = tokens * h * p;
  const upcast = p < 4 ? 4 : 0;
  const trainerHead = headForTrainer(cfg, E, p, normSaved + lmInput);
  if (trainerHead) return trainerHead;
  // Compiled (HF Trainer compiles the model, whose forward computes the loss; torchtune compiles its loss;
  // `simulation.compile_loss: false` is a framework that compiles the blocks only, src/config/kernels.ts):
  // Inductor fuses the upcast, log-softmax and NLL into reductions over the 16-bit logits and, by its min-cut
  // partitioner (torch/_functorch/partitioners.py), saves those logits and a per-row log-sum-exp rather than
  // fp32 log-probabilities; backward writes the 16-bit logits' gradient in one fused pass.
  // torchtune's chunked output (src/config/kernels.ts `chunkedOutput`): each logits chunk is its own tensor.
  // The chunks' loss nodes are created after the whole model, so autograd's ready queue (ordered by sequence
  // number) runs every chunk's loss backward before any output-projection backward: each frees its saved
  // chunk as it writes that chunk's 16-bit gradient, so at most the held logits plus one chunk's working
  // gradients coexist (Axolotl's split views instead gather all chunk gradients into one E-sized tensor).
  const chunk = E / Math.max(1, cfg.kernels.lossChunks);
  const perChunkOutput = cfg.kernels.loss === 'chunked' && cfg.kernels.chunkedOutput === true;
  if (cfg.kernels.compiledLoss && (cfg.kernels.loss === 'hf' || cfg.kernels.loss === 'chunked')) {
    const rowStats = tokens * 4;
    return headMemoryOf(normSaved + lmInput, E * p + rowStats, E * p + rowStats, perChunkOutput ? chunk * p : E * p);
  }
  switch (cfg.kernels.loss) {
    case 'hf':
      return headMemoryOf(normSaved + lmInput, E * (p + upcast + 4), E * 4, E * 8);
    case 'chunked': {
      if (perChunkOutput) return headMemoryOf(normSaved + lmInput, E * (p + 4) + chunk * upcast, E * 4, chunk * 8);
      return headMemoryOf(normSaved + lmInput, E * (p + 4) + chunk * upcast, E * 4, E * p + chunk * 8);
    }
    case 'liger_ce':
      return headMemoryOf(normSaved + lmInput, E * p, E * p, 0);
    case 'liger_flce': {
      const inc = Math.ceil(V / h);
      const chunkRows = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(tokens / inc))));
      const weightGrad = !model.peft || model.peft.trainableCopies.lmHead || model.peft.trainsInPlace?.lmHead ? V * h * p : 0;
      return headMemoryOf(normSaved, lmInput + weightGrad + Math.min(tokens, chunkRows) * V * p, lmInput + weightGrad, 0);
    }
    case 'cce':
      return headMemoryOf(normSaved + lmInput, tokens * 4, tokens * 4, lmInput);
  }
}

/**
 * The head of the trainers that do not use the model's causal-LM loss (src/config/trainer.ts `trainerHead`);
 * undefined for SFT. E is the micro-batch's logits (rows × tokens × head width), `saved` the final norm's
 * tensors plus the head's input.
 *
 * - Classification heads (`score`): E = b·s·num_labels, a few bytes per token; transformers' loss upcasts them
 *   (`logits.float()`: ForTokenClassification, the pooled sequence logits) as the HF causal-LM loss does. The
 *   fused losses (Liger, CCE) patch the causal-LM forward only.
 * - 'lm-log-probs' (TRL 1.8.0 DPOTrainer / KTOTrainer `_compute_loss`): the model is called without labels;
 *   the lm_head returns 16-bit logits and `selective_log_softmax` (trl/trainer/utils.py) runs log_softmax row
 *   by row, each row's output saved for its backward (E·p in all), while `outputs.logits` stays referenced
 *   until compute_loss returns, after the reference forwards. fp32 logits take its logsumexp path, which
 *   saves the logits themselves. Backward: the rows' gradients wait in unbind's input buffer and are stacked
 *   (about E·p on top of the saved outputs, which free as each row's backward runs).
 * - 'lm-log-probs-nll' (ORPOTrainer / CPOTrainer `concatenated_forward`): also the chosen half's
 *   cross-entropy (nn.CrossEntropyLoss on the logits dtype): a `.contiguous()` copy of those logits (E/2,
 *   freed when the helper returns) and its log_softmax output (E/2, saved).
 */
function headForTrainer(cfg: ResolvedConfig, E: number, p: number, saved: number): HeadMemory | undefined {
  switch (trainerHead(cfg.trainer)) {
    case 'lm-cross-entropy':
      return undefined;
    case 'score':
      return headMemoryOf(saved, E * (p + (p < 4 ? 4 : 0) + 4), E * 4, E * 8);
    case 'lm-log-probs':
      if (p >= 4) return headMemoryOf(saved, E * p + (E / cfg.shape.rows) * p, E * p, E * p);
      return headMemoryOf(saved, 2 * E * p, E * p, E * p, E * p);
    case 'lm-log-probs-nll':
      return headMemoryOf(saved, 2.5 * E * p, 1.5 * E * p, E * p, E * p);
    case 'diffusion-masked-ce': {
      // The logits and their shifted copy (E·p each) live until compute_loss returns; the masked rows
      // (m·E) are gathered (p), upcast (4) and log-softmaxed (4, saved). Backward's peak: NLL's and
      // log_softmax's fp32 gradients beside the saved output (12·m·E) or, after it, index's and the two
      // slices' full-size 16-bit gradients (3·E·p).
      const Em = E * maskedShare(cfg.trainer, cfg.shape);
      const upcast = p < 4 ? 4 : 0;
      return headMemoryOf(saved, 2 * E * p + Em * (p + upcast + 4), Em * 4, Math.max(Em * 8, 3 * E * p - Em * 4));
    }
    case 'ebft-log-probs': {
      // Strided EBFT's trained pass (the shape is its rows × L; strided.py compute_loss): log_softmax's fp32
      // output over the R log-prob positions is saved chunk by chunk until backward, which allocates one
      // chunk's fp32 gather and log_softmax gradients and its cast back (8 + p) at a time. Row by row (PEFT)
      // each chunk's logits (p) and fp32 copy (4) are transient; in the batched fallback the whole rows × L
      // logits live through the chunk loop, and backward's slice gradients are full-size (two, as they
      // accumulate).
      const t = cfg.trainer;
      const rows = cfg.shape.rows;
      const V = E / Math.max(1, rows * cfg.shape.rowTokens);
      const R = t.kind === 'ebft-strided' ? Math.min(t.logProbTokens, cfg.shape.rowTokens) : cfg.shape.rowTokens;
      const chunk = rows * Math.min(EBFT_HEAD_CHUNK_TOKENS, R) * V;
      const held = rows * R * V * 4;
      const batched = t.kind === 'ebft-strided' && t.trainedForward === 'batched';
      return headMemoryOf(saved, held + (batched ? E * p + chunk * 4 : chunk * (p + 4)), held, chunk * (8 + p) + (batched ? 2 * E * p : 0));
    }
  }
}

/**
 * Under torch.no_grad every intermediate is freed as soon as its consumer has run. Inside a layer the widest
 * point is the MLP: its input, the gate and up outputs and their product (h + 3·I per token for a gated MLP,
 * h + 2·I otherwise) beside the residual stream (h). At the head: the 16-bit logits plus one row's log_softmax
 * (TRL's `selective_log_softmax` loops over rows to bound this).
 */
function noGradForwardMemory(model: ModelSpec, cfg: ResolvedConfig, tokens: number, p: number): NoGradForwardMemory {
  const tp = cfg.mesh.tp;
  let layerPeak = 0;
  for (const layer of model.layers) {
    const I = ffnWidthPerToken(layer) / tp;
    layerPeak = Math.max(layerPeak, tokens * p * (2 * layer.hiddenSize + (layer.ffn?.gated ? 3 : 2) * I));
  }
  const E = logitsBytes(model, cfg.shape.rows, cfg.shape.peakRowTokens, 1, cfg.mesh.cp).elements;
  return { peakBytes: Math.max(layerPeak, E * p + (E / cfg.shape.rows) * p) };
}

/** What the layer's MLP (its projections, activation, routing) saves: the layer's set minus the same layer without its MLP; the norm before it stays. */
function mlpSavedBytes(layer: LayerSpec, tensors: { name: string; bytes: number }[], cfg: ResolvedConfig, p: number): number {
  if (!layer.ffn && !layer.linears.some((l) => l.part === 'mlp')) return 0;
  const { tp, cp, sequenceParallel } = cfg.mesh;
  const bare = makeLayer({ ...layer, ffn: null, linears: layer.linears.filter((l) => l.part !== 'mlp') });
  const kept = new Set(activationTensorsPerLayer(bare, {
    microBatch: cfg.shape.rows, seqLen: cfg.shape.peakRowTokens, flashAttention: cfg.flashAttention, bytesPerElement: p, transformersEager: true, tp, cp, sequenceParallel,
    fusedNorm: cfg.kernels.fusedSaves.norm, fusedActivation: cfg.kernels.fusedSaves.activation,
  }).map((t) => t.name));
  return tensors.filter((t) => !kept.has(t.name) && !t.name.startsWith('mlp_norm')).reduce((a, t) => a + t.bytes, 0);
}

/**
 * The most a no-grad forward over `rows × rowTokens` allocates at once (strided EBFT's generation and feature
 * forwards, src/strategy/ebft-strided.ts):
 *
 * - inside a layer, the MLP's widest point (as `noGradForwardMemory`) or, with eager attention
 *   (transformers `eager_attention_forward`), the [rows, heads, L, L] scores in 16 bits beside their fp32
 *   softmax (p + 4 bytes a score) plus the q / k / v and residual tensors around them;
 * - with `output_hidden_states` every layer's output (layers + 1 of rows × L × h) kept to the end of the
 *   forward;
 * - the logits of `logitsTokens` positions (16-bit) at the end.
 */
export function noGradPassPeakBytes(model: ModelSpec, c: { rows: number; rowTokens: number; bytesPerElement: number; eagerScores: boolean; hiddenStates: boolean; logitsTokens: number }): number {
  const p = c.bytesPerElement;
  const tokens = c.rows * c.rowTokens;
  let layerPeak = 0;
  for (const layer of model.layers) {
    const I = ffnWidthPerToken(layer);
    layerPeak = Math.max(layerPeak, tokens * p * (2 * layer.hiddenSize + (layer.ffn?.gated ? 3 : 2) * I));
    const attn = layer.mixer?.kind === 'attention' ? layer.mixer : undefined;
    if (attn && c.eagerScores) {
      const scores = c.rows * attn.numHeads * c.rowTokens * c.rowTokens;
      layerPeak = Math.max(layerPeak, tokens * p * (2 * layer.hiddenSize + attn.numHeads * (attn.headDim * 2 + attn.vHeadDim)) + scores * (p + 4));
    }
  }
  const hidden = c.hiddenStates ? (model.numLayers + 1) * tokens * model.hiddenSize * p : 0;
  return hidden + Math.max(layerPeak, c.logitsTokens * headWidth(model) * p);
}
