import { bytesOf } from '../util/dtype.ts';
import { gemmFlops, lmHeadGemm } from '../model/flops.ts';
import { equivalentFromPairs, stridedMaskPairs } from '../model/attention-work.ts';
import { headWidth, hiddenMatrices, trainableTensorCount } from '../model/params.ts';
import { gemmSeconds, memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import { noGradPassPeakBytes, stepMemory, type StepMemory } from '../memory/step-memory.ts';
import { ebftStridedPasses, type EbftPass, type EbftStrided } from '../config/ebft.ts';
import type { AttentionConfig } from '../config/attention.ts';
import type { ResolvedConfig } from '../config/types.ts';
import type { ModelSpec } from '../model/types.ts';
import { lmHeadTrains, stepCosts, type StepCosts } from './costs.ts';
import { headSeconds } from './head-costs.ts';
import type { StrategyContext, StrategyResult } from './context.ts';
import { mem, type OpTag, opTag } from './plan.ts';
import { storedBytes } from './param-bytes.ts';
import { clipGradNormSeconds, deviceOptimizerStateBytes, optimizerLabel, optimizerStep, pagedOptimizerStateBytes } from './optimizer.ts';
import { fp32Embeddings } from './ddp.ts';

/**
 * Strided EBFT's step on one GPU (src/config/ebft.ts; axolotl core/trainers/ebft/strided.py compute_loss),
 * micro-batch by micro-batch:
 *
 * 1. G generation steps, no grad: the dense [BN, 1, L_g, L_g] mask built by Python loops (a host-bound task:
 *    one indexing + fill kernel per assignment at the profile's no-grad per-kernel host cost, after `torch.full`
 *    writes the mask), then a forward of all BN rows of L_g = S + g·NB tokens with eager attention (every
 *    score), logits at every position and sampling at NB of them. Only transient memory: the mask, eager's
 *    score matrix and softmax, the logits.
 * 2. The trained forward over BN rows of L tokens (flex_attention over the strided block mask's non-empty
 *    blocks), one row after another under PEFT, all rows at once otherwise (src/config/ebft.ts): each pass
 *    keeps its saved activations (checkpointed layer inputs under gradient checkpointing) and its head — the
 *    final norm's tensors and the fp32 log-softmax of every 256-position chunk over R positions — until the
 *    backward; the batched pass also holds its whole logits through the chunk loop.
 * 3. The feature forward, no grad: all BN rows of L tokens at once with `output_hidden_states` — through the
 *    actor with adapters disabled and SDPA over a dense mask built by the same loops, or through a bf16 copy
 *    of the model with flex_attention; every layer's hidden states and the logits are alive at its end.
 * 4. The rewards: per (document, block) an SVD whitening (rewards.py `whiten_embeddings_batched`: a D × D
 *    whitening matrix written and read twice, D = feature layers × hidden) when use_whitening; a Python loop of
 *    small kernels, host-bound.
 * 5. One backward over the BN rows, last row first (autograd runs the most recently created nodes first), each
 *    pass's head then its layers (recomputed under checkpointing), freeing that pass's saved tensors.
 *
 * After the last micro-batch: clip_grad_norm and the optimizer step, as HF Trainer runs them. Not modelled:
 * `create_block_mask` (a few elementwise kernels over BN × L² booleans), `torch.cuda.empty_cache()` (its
 * re-allocations), the SVDs' own latency beyond their kernel launches, the LoRA GEMMs left out of the feature
 * forward by `disable_adapter()` (counted: r ≪ h).
 */
export interface NoGradWork {
  /** The dense mask's host-bound construction (0 for a block mask). */
  maskSeconds: number;
  maskBytes: number;
  seconds: number;
  peakBytes: number;
  flops: number;
}

export interface EbftStridedWork {
  /** BN: rollout rows of one micro-batch. */
  rows: number;
  generation: NoGradWork[];
  /**
   * One trained pass — a row (PEFT) or all BN rows at once (the batched fallback): kernel times and memory
   * over its rows × L tokens, its head (lm_head over `headTokens` a row, log-probs over R).
   */
  trained: {
    passes: number;
    rowsPerPass: number;
    costs: StepCosts;
    head: { forwardSeconds: number; backwardSeconds: number; forwardFlops: number };
    memory: StepMemory;
  };
  feature: NoGradWork;
  rewardsSeconds: number;
}

/**
 * Kernels per (document, block) iteration of the reward loop with whitening (rewards.py
 * `whiten_embeddings_batched`: two casts, the SVD, max, where / reciprocal, the scaled U, two products with
 * U and the whitening matrix, two casts back) and of the rest of `_compute_block_rewards` (normalisation,
 * concatenation, unfold, cosine, the diversity bmm, CFM and the advantage arithmetic), counted from the code.
 */
const WHITENING_KERNELS_PER_BLOCK = 15;
const REWARD_KERNELS = 30;
/** Kernels of one generation step's sampling (index_select, temperature, softmax, multinomial, cat). */
const SAMPLING_KERNELS = 5;
/** `build_strided_dense_mask_and_positions` before its loops: full, tril, masked_fill, the position ids. */
const MASK_SETUP_KERNELS = 4;

/** The config one pass runs with: its rows, row length and attention kernel. */
export function passConfig(cfg: ResolvedConfig, t: EbftStrided, pass: EbftPass, rows: number, rowTokens: number): ResolvedConfig {
  let attention: AttentionConfig;
  let fused = true;
  if (pass.attention === 'eager-dense') {
    attention = { implementation: 'eager', kernel: cfg.attention.kernel, masking: 'dense' };
    fused = false;
  } else if (pass.attention === 'sdpa-dense') {
    attention = { implementation: 'sdpa', kernel: cfg.attention.kernel, masking: 'dense' };
  } else {
    const m = stridedMaskPairs({ promptTokens: t.documentTokens, anchorOffset: t.anchorOffset, generateTokens: t.generateTokens, stride: t.stride, blocks: t.blocks });
    attention = { implementation: 'flex_attention', kernel: cfg.attention.kernel, masking: 'causal', equivalent: equivalentFromPairs(rows, m.tokens, m.blockPairs) };
  }
  return { ...cfg, shape: { packing: false, rows, rowTokens, countedRowTokens: rowTokens, peakRowTokens: rowTokens, realTokens: rows * rowTokens }, attention, flashAttention: fused };
}

/** The GPU as a no-grad pass sees it: launches without an autograd graph cost the profile's no-grad host time. */
function noGradGpu(gpu: GpuSpec): GpuSpec {
  const f = gpu.framework;
  return f?.eager_no_grad_kernel_host_seconds ? { ...gpu, framework: { ...f, eager_kernel_host_seconds: f.eager_no_grad_kernel_host_seconds } } : gpu;
}

function noGradWork(cfg: ResolvedConfig, model: ModelSpec, trainingGpu: GpuSpec, t: EbftStrided, pass: EbftPass, features: boolean): NoGradWork {
  const gpu = noGradGpu(trainingGpu);
  const v = passConfig(cfg, t, pass, pass.rows, pass.rowTokens);
  const c = stepCosts(v, model, gpu);
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);
  const tokens = pass.rows * pass.rowTokens;
  const host = gpu.framework?.eager_kernel_host_seconds ?? 0;
  const head = lmHeadGemm(model, tokens);
  const norm = memoryBoundSeconds(4 * tokens * model.hiddenSize * p, gpu, 1);
  const sampling = features ? 0 : SAMPLING_KERNELS * host;
  const dense = pass.attention !== 'flex-strided';
  const maskBytes = dense ? pass.rows * pass.rowTokens * pass.rowTokens * p : 0;
  return {
    maskSeconds: dense ? Math.max((pass.maskAssignments + MASK_SETUP_KERNELS) * host, memoryBoundSeconds(maskBytes, gpu, MASK_SETUP_KERNELS)) : 0,
    maskBytes,
    seconds: c.embedding.forwardSeconds + c.layers.reduce((a, l) => a + l.forwardSeconds, 0) + norm + gemmSeconds(head, gpu, dtype) + sampling,
    peakBytes: noGradPassPeakBytes(model, { rows: pass.rows, rowTokens: pass.rowTokens, bytesPerElement: p, eagerScores: pass.attention === 'eager-dense', hiddenStates: features, logitsTokens: tokens }),
    flops: c.layers.reduce((a, l) => a + l.forwardFlops, 0) + gemmFlops(head),
  };
}

/** Kernel times and memory of one micro-batch's passes (pure). */
export function ebftStridedWork(cfg: ResolvedConfig, model: ModelSpec, gpu: GpuSpec): EbftStridedWork {
  const t = cfg.trainer;
  if (t.kind !== 'ebft-strided') throw new Error('ebftStridedWork: not a strided EBFT config');
  const passes = ebftStridedPasses(t, cfg.batch.microBatchSize);
  const perRow = t.trainedForward === 'per-row';
  const rowsPerPass = perRow ? 1 : passes.trained.rows;
  const rowCfg = passConfig(cfg, t, passes.trained, rowsPerPass, t.fullTokens);
  const dtype = cfg.precision.computeDtype;
  const headGemm = lmHeadGemm(model, rowsPerPass * passes.trained.headTokens);
  const head = headSeconds(cfg.kernels, headGemm, {
    tokens: headGemm.m, hidden: model.hiddenSize, vocab: headWidth(model), bytesPerElement: bytesOf(dtype), weightGrad: lmHeadTrains(model),
    trainerHead: 'ebft-log-probs', rows: rowsPerPass, lossTokens: rowsPerPass * t.logProbTokens,
  }, gpu, dtype);
  // The reward loop runs under no_grad (strided.py `_compute_block_rewards`).
  const host = noGradGpu(gpu).framework?.eager_kernel_host_seconds ?? 0;
  const D = t.featureLayers.length * model.hiddenSize;
  const blocks = cfg.batch.microBatchSize * t.blocks;
  // Per block the D × D fp32 whitening matrix is written, then read by the two products with it.
  const whitening = t.whitening ? Math.max(blocks * WHITENING_KERNELS_PER_BLOCK * host, memoryBoundSeconds(blocks * 3 * D * D * 4, gpu, blocks * WHITENING_KERNELS_PER_BLOCK)) : 0;
  return {
    rows: passes.trained.rows,
    generation: passes.generation.map((g) => noGradWork(cfg, model, gpu, t, g, false)),
    trained: {
      passes: passes.trained.rows / rowsPerPass,
      rowsPerPass,
      costs: stepCosts(rowCfg, model, gpu),
      head: { forwardSeconds: head.forward, backwardSeconds: head.backward, forwardFlops: gemmFlops(headGemm) },
      memory: stepMemory(rowCfg, model),
    },
    feature: noGradWork(cfg, model, gpu, t, passes.feature, true),
    rewardsSeconds: whitening + REWARD_KERNELS * host,
  };
}

/**
 * A full fine-tune's feature network: `copy.deepcopy(model).to(dtype=torch.bfloat16)` on the same GPU
 * (strided.py `__init__`, single GPU without PEFT).
 */
export function featureCopyBytes(cfg: ResolvedConfig, costs: StepCosts): number {
  return cfg.trainer.kind === 'ebft-strided' && cfg.trainer.featureNetwork === 'copy' ? costs.total.params * bytesOf('bf16') : 0;
}

export function lowerEbftStrided(ctx: StrategyContext, rank: number): StrategyResult {
  const { cfg, model, costs, builder: b } = ctx;
  const w = ebftStridedWork(cfg, model, ctx.gpu);
  const L = model.numLayers;
  const GA = cfg.batch.gradientAccumulationSteps;
  const pr = cfg.precision;
  const gradB = bytesOf(pr.gradDtype);
  const trainable = costs.total.trainableParams;
  const ckpt = cfg.activationCheckpointing !== 'none';
  const T = w.trained;
  const M = T.memory;
  const H = M.head;
  const headTransient = H.lossForwardBytes - H.lossHeldBytes;
  const cache = M.autocastCache.layerBytes;
  const cacheAll = cache.reduce((a, x) => a + x, 0);
  const up = fp32Embeddings(ctx);
  // With tied embeddings the lm_head's V × h gradient is the embedding's, there from the head's backward on.
  const embeddingTrains = costs.embedding.trainableParams > 0;
  const tied = model.tiedEmbeddings && embeddingTrains ? headWidth(model) * model.hiddenSize : 0;
  const headGrad = (costs.head.trainableParams + tied) * gradB + up.gradHead;
  const embeddingGrad = (costs.embedding.trainableParams - tied) * gradB + up.gradEmbedding;
  const gradBytes = trainable * gradB + up.gradHead + up.gradEmbedding;
  const tag = (phase: OpTag['phase'], label: string, mb: number, extra: Partial<OpTag> = {}): OpTag => opTag({ kind: 'compute', phase, label, ...extra }, mb);
  // param.grad is allocated by the first backward that produces it and kept; later ones add a transient gradient.
  let firstBackward = true;
  const grads = (bytes: number) => (bytes <= 0 ? [] : firstBackward ? [mem('start', bytes, 'gradients')] : [mem('start', bytes, 'gradients'), mem('end', -bytes, 'gradients')]);

  let last = -1;
  for (const mb of ctx.microBatches) {
    let dep = [last];
    const noGrad = (x: NoGradWork, what: string) => {
      if (x.maskSeconds > 0 || x.maskBytes > 0) {
        dep = [b.compute(rank, x.maskSeconds, tag('forward', `${what}: dense strided mask (host loop)`, mb), dep, [mem('start', x.maskBytes, 'activations')])];
      }
      dep = [b.compute(rank, x.seconds, tag('forward', `${what} (no grad)`, mb, { flops: x.flops }), dep, [mem('start', x.peakBytes, 'activations'), mem('end', -(x.peakBytes + x.maskBytes), 'activations')])];
    };
    w.generation.forEach((g, i) => noGrad(g, `generation step ${i + 1}/${w.generation.length}`));

    const name = (r: number) => (T.passes === 1 ? ` (${w.rows} rows)` : ` (row ${r + 1}/${T.passes})`);
    for (let r = 0; r < T.passes; r++) {
      const row = name(r);
      dep = [b.compute(rank, T.costs.embedding.forwardSeconds, tag('forward', `embedding${row}`, mb), dep)];
      for (let i = 0; i < L; i++) {
        const memory = [mem('start', cache[i]!, 'parameters'), mem('start', M.layers[i]!.savedBytes, 'activations')];
        // Autocast's weight cache lives until the row's backbone call returns (strided.py wraps it alone).
        if (i === L - 1) memory.push(mem('end', -cacheAll, 'parameters'));
        dep = [b.compute(rank, T.costs.layers[i]!.forwardSeconds, tag('forward', `layer ${i}${row}`, mb, { layer: i, flops: T.costs.layers[i]!.forwardFlops }), dep, memory)];
      }
      dep = [b.compute(rank, T.head.forwardSeconds, tag('forward', `head: lm_head + chunked log_softmax${row}`, mb, { flops: T.head.forwardFlops }), dep, [
        mem('start', H.savedBytes + H.lossForwardBytes, 'activations'),
        mem('end', -headTransient, 'activations'),
      ])];
    }

    noGrad(w.feature, 'feature forward');
    dep = [b.compute(rank, w.rewardsSeconds, tag('forward', cfg.trainer.kind === 'ebft-strided' && cfg.trainer.whitening ? 'rewards (SVD whitening per block)' : 'rewards', mb), dep)];

    for (let r = T.passes - 1; r >= 0; r--) {
      const row = name(r);
      dep = [b.compute(rank, T.head.backwardSeconds, tag('backward', `head${row}`, mb, { flops: 2 * T.head.forwardFlops }), dep, [
        ...grads(headGrad),
        mem('start', H.lossBackwardBytes, 'activations'),
        mem('end', -(H.lossBackwardBytes + H.lossHeldBytes + H.savedBytes), 'activations'),
      ])];
      for (let i = L - 1; i >= 0; i--) {
        const lc = T.costs.layers[i]!;
        const lm = M.layers[i]!;
        if (ckpt) dep = [b.compute(rank, lc.recomputeSeconds, tag('recompute', `layer ${i}${row}`, mb, { layer: i }), dep, [mem('start', cache[i]!, 'parameters'), mem('start', lm.recomputeBytes, 'activations')])];
        dep = [b.compute(rank, lc.backwardSeconds, tag('backward', `layer ${i}${row}`, mb, { layer: i, flops: lc.backwardFlops }), dep, [
          ...grads(costs.layers[i]!.trainableParams * gradB),
          mem('start', lm.backwardWorkingBytes, 'activations'),
          mem('end', -(lm.backwardWorkingBytes + lm.savedBytes + lm.recomputeBytes), 'activations'),
          mem('end', -cache[i]!, 'parameters'),
        ])];
      }
      if (embeddingTrains) dep = [b.compute(rank, T.costs.embedding.backwardSeconds, tag('backward', `embedding${row}`, mb), dep, grads(embeddingGrad))];
      firstBackward = false;
    }
    last = dep[0]!;
  }

  const clip = b.compute(rank, clipGradNormSeconds(cfg, trainable, ctx.gpu), opTag({ kind: 'optimizer', phase: 'optimizer', label: 'clip_grad_norm' }, GA - 1), [last]);
  const step = optimizerStep(cfg, { params: trainable, tensors: trainableTensorCount(model), matrices: hiddenMatrices(model) }, ctx.gpu);
  b.compute(rank, step.seconds, opTag({ kind: 'optimizer', phase: 'optimizer', label: optimizerLabel(cfg) }, GA - 1), [clip],
    [mem('start', step.temporaryBytes, 'optimizer_states'), mem('end', -step.temporaryBytes, 'optimizer_states'), mem('end', -gradBytes, 'gradients')]);

  return {
    persistent: {
      parameters: storedBytes(costs.total, pr) + up.params + featureCopyBytes(cfg, costs),
      optimizer_states: deviceOptimizerStateBytes(cfg, trainable) + up.optimizerStates,
      communication_buffers: 0,
    },
    persistentGradientBytes: gradBytes,
    pagedBytes: pagedOptimizerStateBytes(cfg, trainable),
  };
}
