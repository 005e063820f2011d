import { layerElementwiseTraffic } from '../compute/elementwise.ts';
import { gemmBackwardSeconds, gemmSeconds, flashAttentionShapeSeconds, memoryBoundSeconds, matmulRate, type GpuSpec } from '../compute/kernels.ts';
import { attentionCoreFlops, gemmFlops, layerGemms, lmHeadGemm } from '../model/flops.ts';
import { attentionOf } from '../model/layer.ts';
import { headWidth, normParams, parameterCounts } from '../model/params.ts';
import { projectionCosts } from './projection-costs.ts';
import { headSeconds } from './head-costs.ts';
import { attentionEquivalent } from '../model/attention-work.ts';
import { recurrentCore } from '../model/recurrent.ts';
import { launchBoundSeconds } from '../compute/host-overhead.ts';
import { moeRoutingSeconds } from './moe-costs.ts';
import { dispatchBytes, routedLoadCv } from './expert-parallel.ts';
import type { LayerSpec, ModelSpec } from '../model/types.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { bytesOf } from '../util/dtype.ts';
import { trainerHead } from '../config/trainer.ts';
import { maskedShare } from '../config/diffusion.ts';
import { packedMap } from '../util/v8-shapes.ts';

/** One slice of a layer's backward: the kernels that produce one parameter tensor's gradient. */
export interface BackwardSegment {
  name: string;
  seconds: number;
  /** Trainable parameters (on this rank) whose gradients are ready when this segment ends. */
  params: number;
  /** Which half of the layer: backward runs the MLP first, then attention. */
  part: 'mlp' | 'attention';
  /** Routed experts split by expert parallelism: their gradients stay on this rank (no data-parallel reduction over the whole group). */
  experts?: boolean;
}

/**
 * Parameter elements on one rank, split by what happens to them: trainable ones get gradients and optimizer
 * state; frozen ones (PEFT's base) are kept in the model dtype; quantised frozen weights are counted in
 * `params` and stored in `quantizedBytes`.
 */
export interface ParamShare {
  params: number;
  trainableParams: number;
  frozenParams: number;
  quantizedBytes: number;
  /** Of `trainableParams`, PEFT modules_to_save copies (kept in `Precision.copyDtype`; none when absent). */
  copyParams?: number;
}

export interface LayerCosts extends ParamShare {
  forwardSeconds: number;
  /** The mixer half (norm, q/k/v, the core, o_proj, residual) and the MLP half of the forward. */
  attentionForwardSeconds: number;
  mlpForwardSeconds: number;
  /** What backward re-runs under activation checkpointing (full: the forward; selective: less). */
  recomputeSeconds: number;
  backwardSegments: BackwardSegment[];
  backwardSeconds: number;
  forwardFlops: number;
  backwardFlops: number;
  /** One ring-attention K+V block sent to the next CP rank (0 without attention). */
  cpKvBlockBytes: number;
  /** Kernels the host launches for the forward, the recompute and the backward (src/compute/host-overhead.ts). */
  hostKernels?: { forward: number; recompute: number; backward: number };
  /** An MoE layer under expert parallelism (src/strategy/expert-parallel.ts); absent otherwise. */
  ep?: ExpertParallelCosts;
}

/** What expert parallelism adds to an MoE layer on one rank, at the balanced (mean) routed load. */
export interface ExpertParallelCosts {
  /** The local experts' grouped GEMMs (numExperts / ep experts, tokens·topK rows), forward and backward. */
  expertForwardSeconds: number;
  expertBackwardSeconds: number;
  /** nccl-tests size S of the dispatch all-to-all (the combine moves the same rows back). */
  dispatchBytes: number;
  /** Relative standard deviation of a rank's routed rows across the EP group (expert-parallel.ts routedLoadCv). */
  loadCv: number;
  /** The local experts' parameters (part of the layer's share): FSDP shards them over dp_shard only. */
  experts: ParamShare;
}

export interface StepCosts {
  /** Per decoder layer, in order; identical layers share one object. */
  layers: LayerCosts[];
  /** The embedding (and learned positions); under PEFT frozen, plus a trainable copy with modules_to_save. */
  embedding: ParamShare & { forwardSeconds: number; backwardSeconds: number };
  head: ParamShare & {
    /** The head in a no-grad pass (reference / KL forwards): final norm, logits and TRL's per-row log-probs. */
    noGradForwardSeconds: number;
    /** Final norm + lm_head on this rank (no lm_head when tied: it lives in the embedding). */
    forwardSeconds: number;
    backwardSeconds: number;
    forwardFlops: number;
  };
  /** Parameters one rank holds before data-parallel sharding (÷ tp for the sharded matrices). */
  totalParams: number;
  total: ParamShare;
  /** Parameters per FSDP group on this rank: the root (embedding, final norm, lm_head); layers are `layers[i]`. */
  rootParams: number;
  root: ParamShare;
  /** Tensor parallel traffic per micro-batch (bytes of one collective's payload). */
  parallel: {
    /** b·(s/cp)·h activations: each TP AllReduce (or AllGather + ReduceScatter with sequence parallel). */
    tpActivationBytes: number;
    /** The logits gathered over TP for the loss (HF tp_plan lm_head "colwise_rep"). */
    tpLogitsBytes: number;
  };
}

/**
 * Per-micro-batch kernel times of one decoder layer on one GPU, from its GEMM shapes and the GPU's measured
 * rates. Under tensor parallelism every layer GEMM is column- or row-sharded (Megatron; transformers'
 * `base_model_tp_plan`: q/k/v/gate/up "colwise", o/down "rowwise"); under context parallelism each rank holds
 * s/cp tokens and its queries attend over all s keys as the K/V blocks come round the ring.
 */
export function layerCosts(layer: LayerSpec, cfg: ResolvedConfig, gpu: GpuSpec, frozenBase = false): LayerCosts {
  const { tp, cp, sequenceParallel } = cfg.mesh;
  // The kernels see rows × row tokens (packing, padding: src/config/attention.ts).
  const b = cfg.shape.rows;
  const s = cfg.shape.rowTokens;
  const tokens = (b * s) / cp;
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);

  // Expert parallelism: this rank holds numExperts / ep experts and, at the balanced load, receives as many
  // routed rows (tokens·topK) as it sends out — the same rows over fewer, fuller experts.
  const ep = cfg.mesh.ep;
  const moe = layer.ffn?.kind === 'moe' && ep > 1 ? layer.ffn : undefined;
  const gemms = layerGemms(layer, tokens, tp).map((g) => (moe && g.experts ? { ...g, experts: g.experts / ep } : g));
  const projections = layer.linears.map((l, i) => projectionCosts(l, gemms[i]!, gpu, dtype, cfg.expertsImplementation, cfg.kernels.compiled, cfg.float8 === true));
  const gemmFwd = projections.map((x) => x.forwardSeconds);
  const gemmBwd = projections.map((x) => x.backwardSeconds);
  const matmulFlops = projections.reduce((sum, x) => sum + x.forwardFlops, 0);
  const matmulBackwardFlops = projections.reduce((sum, x) => sum + x.backwardFlops, 0);

  // Attention core on this rank: a/tp heads, s/cp queries over all s keys. The call is an equivalent batch of
  // sequences (src/model/attention-work.ts): documents attend within themselves; a dense 4-D mask makes the
  // kernel compute every score of the row. Fused kernels skip what a causal mask hides; the eager path
  // computes every score as two batched GEMMs and streams the score matrix through softmax (read + write
  // forward; twice in backward).
  const attn = attentionOf(layer);
  let coreFlops = 0;
  let attnFwd = 0;
  let attnBwd = 0;
  if (attn) {
    if (cfg.flashAttention) {
      const eq = cfg.attention.equivalent ?? attentionEquivalent({ rows: b, rowTokens: s, packing: cfg.shape.packing }, cfg.attention.masking, cfg.attention.documents);
      const full = attentionCoreFlops(attn, eq.batch, eq.seqLen, { causal: false, tp }) / cp;
      coreFlops = eq.causal ? full / 2 : full;
      const shape = { batch: eq.batch, heads: attn.numHeads / tp, queryLen: eq.seqLen / cp, keyLen: eq.seqLen, kernelSeqLen: eq.seqLen / cp, headDim: Math.max(attn.headDim, attn.vHeadDim), causal: eq.causal, ...(attn.window ? { window: attn.window } : {}) };
      attnFwd = flashAttentionShapeSeconds(shape, gpu, 'forward', cfg.attention.kernel);
      attnBwd = flashAttentionShapeSeconds(shape, gpu, 'backward', cfg.attention.kernel);
    } else {
      const scores = (b * (attn.numHeads / tp) * s * s) / cp;
      coreFlops = attentionCoreFlops(attn, b, s, { causal: false, tp }) / cp;
      attnFwd = coreFlops / matmulRate(gpu, dtype) + memoryBoundSeconds(3 * scores * p, gpu, 2);
      attnBwd = (2 * coreFlops) / matmulRate(gpu, dtype) + memoryBoundSeconds(5 * scores * p, gpu, 3);
    }
  } else if (layer.mixer && layer.mixer.kind !== 'attention') {
    // SSM / linear-attention / convolution mixers (src/model/recurrent.ts): their chunked products at the
    // matmul rate, scalar recurrences on the CUDA cores, and their HBM traffic.
    const w = recurrentCore(layer.mixer, tokens, tp, p);
    coreFlops = w.forwardFlops;
    attnFwd = w.forwardFlops / matmulRate(gpu, dtype) + w.forwardScalarFlops / gpu.fp32_flops_per_second + memoryBoundSeconds(w.forwardBytes, gpu, w.forwardKernels);
    attnBwd = w.backwardFlops / matmulRate(gpu, dtype) + (2 * w.forwardScalarFlops) / gpu.fp32_flops_per_second + memoryBoundSeconds(w.backwardBytes, gpu, w.backwardKernels);
  }

  if (layer.parallelMixer) {
    const w = recurrentCore(layer.parallelMixer, tokens, tp, p);
    coreFlops += w.forwardFlops;
    attnFwd += w.forwardFlops / matmulRate(gpu, dtype) + w.forwardScalarFlops / gpu.fp32_flops_per_second + memoryBoundSeconds(w.forwardBytes, gpu, w.forwardKernels);
    attnBwd += w.backwardFlops / matmulRate(gpu, dtype) + (2 * w.forwardScalarFlops) / gpu.fp32_flops_per_second + memoryBoundSeconds(w.backwardBytes, gpu, w.backwardKernels);
  }

  // Norms, rotary, the MLP activation and residual adds: memory-bound, eager or fused by torch.compile.
  // Axolotl's LoRA_MLP computes act(gate)·up in one Triton kernel (and recomputes it in backward).
  const mlpKernel = layer.linears.some((l) => l.lora?.kernel?.group === 'mlp');
  const ew = layerElementwiseTraffic(layer, p, mlpKernel ? { ...cfg.kernels.fusion, activation: true } : cfg.kernels.fusion, { tp, sequenceParallel });
  const elementwiseFwd = memoryBoundSeconds(tokens * ew.forwardBytesPerToken, gpu, ew.forwardKernels);
  const elementwiseBwd = memoryBoundSeconds(tokens * ew.backwardBytesPerToken, gpu, ew.backwardKernels);

  const partOf = (i: number) => layer.linears[i]!.part;
  const sumWhere = (pred: (i: number) => boolean) => gemmFwd.reduce((a, t, i) => a + (pred(i) ? t : 0), 0);
  const attentionForwardSeconds = sumWhere((i) => partOf(i) === 'attention') + attnFwd + elementwiseFwd / 2;
  const routing = layer.ffn?.kind === 'moe' ? moeRoutingSeconds(layer.ffn, tokens, layer.hiddenSize, p, gpu) : { forward: 0, backward: 0 };
  const mlpForwardSeconds = sumWhere((i) => partOf(i) === 'mlp') + elementwiseFwd / 2 + routing.forward;
  const forwardSeconds = attentionForwardSeconds + mlpForwardSeconds;

  // Recomputation: full checkpointing re-runs the whole forward; torchtitan's op-level selective policy
  // (see src/memory/step-memory.ts) keeps the attention output and every other matmul's output, so backward
  // re-runs the other matmuls and the memory-bound ops only.
  let recomputeSeconds = forwardSeconds;
  if (cfg.activationCheckpointing === 'selective') recomputeSeconds = sumWhere((i) => i % 2 !== 0) + elementwiseFwd + routing.forward;

  // Backward in autograd order: the reverse of forward — the MLP's projections, then the mixer's output
  // projection, the attention core, and its input projections.
  const order = gemms.map((_, i) => i).reverse();
  const segments: BackwardSegment[] = [];
  const elementwiseShare = elementwiseBwd / order.length;
  const lastAttentionLinear = Math.max(-1, ...layer.linears.map((l, i) => (l.part === 'attention' ? i : -1)));
  // The combine's backward comes first in the MoE block's backward.
  if (routing.backward > 0) segments.push({ name: 'moe_routing', seconds: routing.backward, params: 0, part: 'mlp' });
  for (const i of order) {
    segments.push({ name: gemms[i]!.name, seconds: gemmBwd[i]! + elementwiseShare, params: projections[i]!.trainableParams, part: partOf(i) === 'mlp' ? 'mlp' : 'attention', ...(moe && gemms[i]!.experts ? { experts: true } : {}) });
    if (i === lastAttentionLinear && layer.mixer) segments.push({ name: attn ? 'attention_core' : `${layer.mixer.kind}_core`, seconds: attnBwd, params: 0, part: 'attention' });
  }
  // Tiled MLP (Axolotl monkeypatch/tiled_mlp): backward re-runs each shard's MLP forward with autograd before
  // its backward, so the MLP's forward work is paid once more inside the MLP's backward.
  if (cfg.tiledMlp) {
    const mlpSegments = segments.filter((x) => x.part === 'mlp');
    for (const x of mlpSegments) x.seconds += mlpForwardSeconds / mlpSegments.length;
  }
  // Norm weights and other non-projection parameters (replicated across TP) are ready last: fold them into the
  // last segment. Under PEFT they are frozen.
  const others = layer.norms.reduce((a, n) => a + normParams(n), 0) + layer.extraParams;
  if (!frozenBase) segments[segments.length - 1]!.params += others;
  const trainableParams = segments.reduce((a, x) => a + x.params, 0);
  const frozenParams = projections.reduce((a, x) => a + x.frozenParams, 0) + (frozenBase ? others : 0);
  const quantizedBytes = projections.reduce((a, x) => a + x.quantizedBytes, 0);
  // Per rank: the local GEMM weights (k/v replicated whole when tp exceeds the KV heads), biases and norms.
  const quantizedParams = layer.linears.reduce((a, l, i) => a + (l.frozen && l.quantized ? gemms[i]!.k * gemms[i]!.n * (gemms[i]!.experts ?? 1) : 0), 0);
  const localParams = trainableParams + frozenParams + quantizedParams;
  // Eager PyTorch launches every kernel from the host: when the GPU work is shorter than its launches the
  // layer is launch-bound (src/compute/host-overhead.ts). Stretch the layer's parts in proportion.
  const kernelsF = projections.reduce((a, x) => a + x.kernels.forward, 0) + (layer.mixer ? 2 : 0) + ew.forwardKernels + (routing.forward > 0 ? 8 : 0);
  const kernelsB = projections.reduce((a, x) => a + x.kernels.backward, 0) + (layer.mixer ? 3 : 0) + ew.backwardKernels + (routing.backward > 0 ? 8 : 0);
  const framework = gpu.framework;
  const fwdFloor = framework ? launchBoundSeconds(attentionForwardSeconds + mlpForwardSeconds, kernelsF, framework) / (attentionForwardSeconds + mlpForwardSeconds) : 1;
  const bwdGpu = segments.reduce((a, x) => a + x.seconds, 0);
  const bwdFloor = framework ? launchBoundSeconds(bwdGpu, kernelsB, framework) / bwdGpu : 1;
  if (bwdFloor > 1) for (const x of segments) x.seconds *= bwdFloor;
  const backwardSeconds = segments.reduce((a, x) => a + x.seconds, 0);
  const recomputeKernels = cfg.activationCheckpointing === 'selective' ? Math.ceil(kernelsF / 2) : kernelsF;
  if (framework) recomputeSeconds = launchBoundSeconds(recomputeSeconds, recomputeKernels, framework);

  let epCosts: ExpertParallelCosts | undefined;
  if (moe) {
    const ex = layer.linears.map((l, i) => (gemms[i]!.experts ? i : -1)).filter((i) => i >= 0);
    const share = (f: (x: (typeof projections)[number], i: number) => number) => ex.reduce((a, i) => a + f(projections[i]!, i), 0);
    const qParams = share((x, i) => (layer.linears[i]!.frozen && layer.linears[i]!.quantized ? gemms[i]!.k * gemms[i]!.n * (gemms[i]!.experts ?? 1) : 0));
    const experts: ParamShare = { trainableParams: share((x) => x.trainableParams), frozenParams: share((x) => x.frozenParams), quantizedBytes: share((x) => x.quantizedBytes), params: 0 };
    experts.params = experts.trainableParams + experts.frozenParams + qParams;
    epCosts = {
      expertForwardSeconds: share((x) => x.forwardSeconds) * fwdFloor,
      expertBackwardSeconds: segments.filter((x) => x.experts).reduce((a, x) => a + x.seconds, 0),
      dispatchBytes: dispatchBytes(moe, tokens, layer.hiddenSize, ep),
      loadCv: routedLoadCv(moe, tokens, ep),
      experts,
    };
  }

  return {
    ...(epCosts ? { ep: epCosts } : {}),
    forwardSeconds: forwardSeconds * fwdFloor,
    attentionForwardSeconds: attentionForwardSeconds * fwdFloor,
    mlpForwardSeconds: mlpForwardSeconds * fwdFloor,
    recomputeSeconds,
    backwardSegments: segments,
    backwardSeconds,
    forwardFlops: matmulFlops + coreFlops,
    backwardFlops: matmulBackwardFlops + 2.5 * coreFlops,
    params: localParams,
    trainableParams,
    frozenParams,
    quantizedBytes,
    cpKvBlockBytes: attn ? tokens * (Math.ceil(attn.numKvHeads / tp) * (attn.headDim + attn.vHeadDim)) * p : 0,
    hostKernels: { forward: kernelsF, recompute: recomputeKernels, backward: kernelsB },
  };
}

/**
 * Layer costs by the resolved config, the GPU and the layer object itself: the advisor plans each variant
 * three times, cut to 5, 6 and 7 of the same layers (pipeline/layer-extrapolation.ts), and the layers'
 * costs are the same in all three. Weak keys: a config's entries go with it.
 */
const layerCostsByConfig = new WeakMap<ResolvedConfig, WeakMap<GpuSpec, [WeakMap<LayerSpec, LayerCosts>, WeakMap<LayerSpec, LayerCosts>]>>();

function layerCostMemo(cfg: ResolvedConfig, gpu: GpuSpec, frozenBase: boolean): WeakMap<LayerSpec, LayerCosts> {
  let byGpu = layerCostsByConfig.get(cfg);
  if (!byGpu) layerCostsByConfig.set(cfg, (byGpu = new WeakMap()));
  let pair = byGpu.get(gpu);
  if (!pair) byGpu.set(gpu, (pair = [new WeakMap(), new WeakMap()]));
  return pair[frozenBase ? 1 : 0];
}

/**
 * Per-micro-batch kernel times of every decoder layer (once per distinct layer), the embedding and the head
 * (final norm, lm_head, cross-entropy) on one GPU.
 */
export function stepCosts(cfg: ResolvedConfig, model: ModelSpec, gpu: GpuSpec): StepCosts {
  const { tp, cp } = cfg.mesh;
  // The kernels see rows × row tokens (packing, padding: src/config/attention.ts).
  const b = cfg.shape.rows;
  const s = cfg.shape.rowTokens;
  const tokens = (b * s) / cp;
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);
  const h = model.hiddenSize;
  const counts = parameterCounts(model);
  const bySignature = new Map<string, LayerCosts>();
  const frozenBase = model.peft !== undefined && !model.peft.trainsInPlace?.norms;
  const memo = layerCostMemo(cfg, gpu, frozenBase);
  // Packed in every tier (src/util/v8-shapes.ts packedMap): the lowerings index it per layer.
  const layers = packedMap(model.layers, (layer) => {
    let c = bySignature.get(layer.signature) ?? memo.get(layer);
    if (!c) c = layerCosts(layer, cfg, gpu, frozenBase);
    bySignature.set(layer.signature, c);
    memo.set(layer, c);
    return c;
  });

  // Embedding (replicated under TP: transformers' tp plans shard the decoder layers and lm_head, not
  // embed_tokens): a gather of b·s rows forward; backward zeroes and scatter-adds into its V × h gradient —
  // unless it is frozen (PEFT without a trainable copy), when autograd never reaches its weight.
  const peft = model.peft;
  const inPlace = peft?.trainsInPlace;
  const embeddingTrains = !peft || peft.trainableCopies.embedding || inPlace?.embedding === true;
  const embedForward = memoryBoundSeconds(2 * tokens * h * p, gpu, 1);
  const embedBackward = embeddingTrains ? memoryBoundSeconds(2 * model.vocabSize * h * bytesOf(cfg.precision.gradDtype) + 2 * tokens * h * p, gpu, 2) : 0;

  // Head: final norm, lm_head GEMM (V/tp columns) and the loss (src/strategy/head-costs.ts). A frozen
  // lm_head skips its weight gradient.
  const headTrains = lmHeadTrains(model);
  const head = lmHeadGemm(model, tokens, tp);
  const logitsElements = tokens * headWidth(model);
  // Under loss parallel each rank's loss reads only its vocabulary shard (ResolvedConfig.lossParallel).
  const lossVocab = cfg.lossParallel ? Math.ceil(headWidth(model) / tp) : headWidth(model);
  const headTimes = headSeconds(cfg.kernels, head, { tokens, hidden: h, vocab: lossVocab, bytesPerElement: p, weightGrad: headTrains, trainerHead: trainerHead(cfg.trainer), rows: b, ...(cfg.trainer.kind === 'diffusion' ? { maskedFraction: maskedShare(cfg.trainer, cfg.shape) } : {}) }, gpu, dtype);
  const headForward = headTimes.forward;
  const headBackward = headTimes.backward;
  const lmHeadLocal = counts.lmHead / tp;
  const embeddingLocal = counts.embedding + counts.positional;
  // modules_to_save keeps the frozen original and trains a copy (PEFT ModulesToSaveWrapper).
  const vh = model.vocabSize * h;
  const embedding: ParamShare = inPlace?.embedding
    ? { params: embeddingLocal, trainableParams: embeddingLocal, frozenParams: 0, quantizedBytes: 0 }
    : peft
    ? { params: embeddingLocal + (peft.trainableCopies.embedding ? vh : 0), trainableParams: peft.trainableCopies.embedding ? vh : 0, frozenParams: embeddingLocal, quantizedBytes: 0, copyParams: peft.trainableCopies.embedding ? vh : 0 }
    : { params: embeddingLocal, trainableParams: embeddingLocal, frozenParams: 0, quantizedBytes: 0 };
  const headLocal = counts.finalNorm + lmHeadLocal;
  const headCopy = peft && peft.trainableCopies.lmHead ? Math.ceil(headWidth(model) / tp) * h : 0;
  // unfrozen_parameters: the matched lm_head (and the final norm with the norms) train where they are.
  const headInPlace = (inPlace?.lmHead ? lmHeadLocal : 0) + (inPlace?.norms ? counts.finalNorm : 0);
  const headShare: ParamShare = peft
    ? { params: headLocal + headCopy, trainableParams: headCopy + headInPlace, frozenParams: headLocal - headInPlace, quantizedBytes: 0, copyParams: headCopy }
    : { params: headLocal, trainableParams: headLocal, frozenParams: 0, quantizedBytes: 0 };
  const sum = (xs: ParamShare[]): ParamShare => ({
    params: xs.reduce((a, x) => a + x.params, 0),
    trainableParams: xs.reduce((a, x) => a + x.trainableParams, 0),
    frozenParams: xs.reduce((a, x) => a + x.frozenParams, 0),
    quantizedBytes: xs.reduce((a, x) => a + x.quantizedBytes, 0),
    copyParams: xs.reduce((a, x) => a + (x.copyParams ?? 0), 0),
  });
  const root = sum([embedding, headShare]);
  const total = sum([root, ...layers]);

  return {
    layers,
    embedding: { ...embedding, forwardSeconds: embedForward, backwardSeconds: embedBackward },
    head: { ...headShare, forwardSeconds: headForward, backwardSeconds: headBackward, forwardFlops: gemmFlops(head), noGradForwardSeconds: headTimes.noGradForward },
    totalParams: total.params,
    total,
    rootParams: root.params,
    root,
    parallel: {
      tpActivationBytes: tokens * h * p,
      tpLogitsBytes: logitsElements * p,
    },
  };
}

/** Whether lm_head's weight gets a gradient: no PEFT, a trainable copy or in-place match, or tied to a training embedding. */
export function lmHeadTrains(model: ModelSpec): boolean {
  const peft = model.peft;
  const inPlace = peft?.trainsInPlace;
  const embeddingTrains = !peft || peft.trainableCopies.embedding || inPlace?.embedding === true;
  return !peft || peft.trainableCopies.lmHead || inPlace?.lmHead === true || (model.tiedEmbeddings && embeddingTrains);
}
