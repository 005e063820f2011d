import { layerElementwiseTraffic } from '../compute/elementwise.ts';
import { gemmBackwardSeconds, gemmSeconds, flashAttentionSeconds, memoryBoundSeconds, matmulRate, type GpuSpec } from '../compute/kernels.ts';
import { attentionCoreFlops, gemmFlops, layerGemms, lmHeadGemm } from '../model/flops.ts';
import { attentionOf } from '../model/layer.ts';
import { layerParams, matmulParamsOfLayer, parameterCounts } from '../model/params.ts';
import type { LayerSpec, ModelSpec } from '../model/types.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { bytesOf } from '../util/dtype.ts';

/** One slice of a layer's backward: the kernels that produce one parameter tensor's gradient. */
export interface BackwardSegment {
  name: string;
  seconds: number;
  /** Parameters (on this rank) whose gradients are ready when this segment ends. */
  params: number;
  /** Which half of the layer: backward runs the MLP first, then attention. */
  part: 'mlp' | 'attention';
}

export interface LayerCosts {
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
  /** Parameters of this decoder layer on this rank (÷ tp for the sharded matrices). */
  params: number;
  /** One ring-attention K+V block sent to the next CP rank (0 without attention). */
  cpKvBlockBytes: number;
}

export interface StepCosts {
  /** Per decoder layer, in order; identical layers share one object. */
  layers: LayerCosts[];
  embedding: { params: number; forwardSeconds: number; backwardSeconds: number };
  head: {
    /** Final norm + lm_head on this rank (0 lm_head when tied: it lives in the embedding). */
    params: number;
    forwardSeconds: number;
    backwardSeconds: number;
    forwardFlops: number;
  };
  /** Parameters one rank holds before data-parallel sharding (÷ tp for the sharded matrices). */
  totalParams: number;
  /** Parameters per FSDP group on this rank: the root (embedding, final norm, lm_head); layers are `layers[i].params`. */
  rootParams: number;
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
export function layerCosts(layer: LayerSpec, cfg: ResolvedConfig, gpu: GpuSpec): LayerCosts {
  const { tp, cp, sequenceParallel } = cfg.mesh;
  const b = cfg.batch.microBatchSize;
  const s = cfg.batch.sequenceLength;
  const tokens = (b * s) / cp;
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);

  const gemms = layerGemms(layer, tokens, tp);
  const gemmFwd = gemms.map((g) => gemmSeconds(g, gpu, dtype));
  const gemmBwd = gemms.map((g) => gemmBackwardSeconds(g, gpu, dtype));
  const matmulFlops = gemms.reduce((sum, g) => sum + gemmFlops(g), 0);

  // Attention core on this rank: a/tp heads, s/cp queries over all s keys. Flash kernels skip the masked
  // half (and CP's head-tail chunking balances it across ranks); the eager path computes every score as two
  // batched GEMMs and streams the score matrix through softmax (read + write forward; twice in backward).
  const attn = attentionOf(layer);
  let coreFull = 0;
  let attnFwd = 0;
  let attnBwd = 0;
  if (attn) {
    coreFull = attentionCoreFlops(attn, b, s, { causal: false, tp }) / cp;
    if (cfg.flashAttention) {
      attnFwd = flashAttentionSeconds(coreFull / 2, gpu, 'forward');
      attnBwd = flashAttentionSeconds(coreFull / 2, gpu, 'backward');
    } else {
      const scores = (b * (attn.numHeads / tp) * s * s) / cp;
      attnFwd = coreFull / matmulRate(gpu, dtype) + memoryBoundSeconds(3 * scores * p, gpu, 2);
      attnBwd = (2 * coreFull) / matmulRate(gpu, dtype) + memoryBoundSeconds(5 * scores * p, gpu, 3);
    }
  }
  const coreFlops = cfg.flashAttention ? coreFull / 2 : coreFull;

  // Norms, rotary, the MLP activation and residual adds: memory-bound, eager or fused by torch.compile.
  const ew = layerElementwiseTraffic(layer, p, cfg.torchCompile, { tp, sequenceParallel });
  const elementwiseFwd = memoryBoundSeconds(tokens * ew.forwardBytesPerToken, gpu, ew.forwardKernels);
  const elementwiseBwd = memoryBoundSeconds(tokens * ew.backwardBytesPerToken, gpu, ew.backwardKernels);

  const partOf = (i: number) => layer.linears[i]!.part;
  const sumWhere = (pred: (i: number) => boolean) => gemmFwd.reduce((a, t, i) => a + (pred(i) ? t : 0), 0);
  const attentionForwardSeconds = sumWhere((i) => partOf(i) === 'attention') + attnFwd + elementwiseFwd / 2;
  const mlpForwardSeconds = sumWhere((i) => partOf(i) === 'mlp') + elementwiseFwd / 2;
  const forwardSeconds = attentionForwardSeconds + mlpForwardSeconds;

  // Recomputation: full checkpointing re-runs the whole forward; torchtitan's op-level selective policy
  // (see src/memory/step-memory.ts) keeps the attention output and every other matmul's output, so backward
  // re-runs the other matmuls and the memory-bound ops only.
  let recomputeSeconds = forwardSeconds;
  if (cfg.activationCheckpointing === 'selective') recomputeSeconds = sumWhere((i) => i % 2 !== 0) + elementwiseFwd;

  // Backward in autograd order: the reverse of forward — the MLP's projections, then the mixer's output
  // projection, the attention core, and its input projections.
  const order = gemms.map((_, i) => i).reverse();
  const segments: BackwardSegment[] = [];
  const elementwiseShare = elementwiseBwd / order.length;
  const lastAttentionLinear = Math.max(-1, ...layer.linears.map((l, i) => (l.part === 'attention' ? i : -1)));
  for (const i of order) {
    const g = gemms[i]!;
    segments.push({ name: g.name, seconds: gemmBwd[i]! + elementwiseShare, params: g.k * g.n * (g.experts ?? 1), part: partOf(i) === 'mlp' ? 'mlp' : 'attention' });
    if (i === lastAttentionLinear && attn) segments.push({ name: 'attention_core', seconds: attnBwd, params: 0, part: 'attention' });
  }
  // Biases and norm weights (replicated across TP): fold the rest of the layer's parameters into the last
  // segment (ready last).
  // Per rank: the local GEMM weights (k/v replicated whole when tp exceeds the KV heads) plus norms and biases.
  const localParams = segments.reduce((a, x) => a + x.params, 0) + (layerParams(layer) - matmulParamsOfLayer(layer));
  const listed = segments.reduce((a, x) => a + x.params, 0);
  segments[segments.length - 1]!.params += Math.max(0, localParams - listed);
  const backwardSeconds = segments.reduce((a, x) => a + x.seconds, 0);

  return {
    forwardSeconds,
    attentionForwardSeconds,
    mlpForwardSeconds,
    recomputeSeconds,
    backwardSegments: segments,
    backwardSeconds,
    forwardFlops: matmulFlops + coreFlops,
    backwardFlops: 2 * matmulFlops + 2.5 * coreFlops,
    params: localParams,
    cpKvBlockBytes: attn ? tokens * (Math.ceil(attn.numKvHeads / tp) * (attn.headDim + attn.vHeadDim)) * p : 0,
  };
}

/**
 * Per-micro-batch kernel times of every decoder layer (once per distinct layer), the embedding and the head
 * (final norm, lm_head, cross-entropy) on one GPU.
 */
export function stepCosts(cfg: ResolvedConfig, model: ModelSpec, gpu: GpuSpec): StepCosts {
  const { tp, cp } = cfg.mesh;
  const b = cfg.batch.microBatchSize;
  const s = cfg.batch.sequenceLength;
  const tokens = (b * s) / cp;
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);
  const h = model.hiddenSize;
  const counts = parameterCounts(model);
  const bySignature = new Map<string, LayerCosts>();
  const layers = model.layers.map((layer) => {
    let c = bySignature.get(layer.signature);
    if (!c) bySignature.set(layer.signature, (c = layerCosts(layer, cfg, gpu)));
    return c;
  });

  // Embedding (replicated under TP: transformers' tp plans shard the decoder layers and lm_head, not
  // embed_tokens): a gather of b·s rows forward; backward zeroes and scatter-adds into its V × h gradient.
  const embedForward = memoryBoundSeconds(2 * tokens * h * p, gpu, 1);
  const embedBackward = memoryBoundSeconds(2 * model.vocabSize * h * bytesOf(cfg.precision.gradDtype) + 2 * tokens * h * p, gpu, 2);

  // Head: final norm, lm_head GEMM (V/tp columns), cross-entropy over the gathered fp32 logits (upcast,
  // log-softmax, gather, and its gradient): ~5 passes over b·s·V fp32 forward and 3 backward.
  const head = lmHeadGemm(model, tokens, tp);
  const logitsElements = tokens * model.vocabSize;
  const headForward = gemmSeconds(head, gpu, dtype) + memoryBoundSeconds(4 * tokens * h * p + logitsElements * (p + 5 * 4), gpu, 6);
  const headBackward = gemmBackwardSeconds(head, gpu, dtype) + memoryBoundSeconds(4 * tokens * h * p + logitsElements * (p + 3 * 4), gpu, 5);
  const lmHeadLocal = counts.lmHead / tp;
  const embeddingLocal = counts.embedding + counts.positional;

  return {
    layers,
    embedding: { params: embeddingLocal, forwardSeconds: embedForward, backwardSeconds: embedBackward },
    head: {
      params: counts.finalNorm + lmHeadLocal,
      forwardSeconds: headForward,
      backwardSeconds: headBackward,
      forwardFlops: gemmFlops(head),
    },
    totalParams: embeddingLocal + layers.reduce((a, l) => a + l.params, 0) + counts.finalNorm + lmHeadLocal,
    rootParams: embeddingLocal + counts.finalNorm + lmHeadLocal,
    parallel: {
      tpActivationBytes: tokens * h * p,
      tpLogitsBytes: logitsElements * p,
    },
  };
}
