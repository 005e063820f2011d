import { layerElementwiseTraffic } from '../compute/elementwise.ts';
import { gemmBackwardSeconds, gemmSeconds, flashAttentionShapeSeconds, memoryBoundSeconds, matmulRate, type GpuSpec } from '../compute/kernels.ts';
import { attentionCoreFlops, gemmFlops, layerGemms, lmHeadGemm } from '../model/flops.ts';
import { matmulParamsPerLayer, parameterCounts } from '../model/params.ts';
import type { ModelSpec } from '../model/types.ts';
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
  /** The attention half (norm, q/k/v, the core, o_proj, residual) and the MLP half of the forward. */
  attentionForwardSeconds: number;
  mlpForwardSeconds: number;
  /** What backward re-runs under activation checkpointing (full: the forward; selective: less). */
  recomputeSeconds: number;
  backwardSegments: BackwardSegment[];
  backwardSeconds: number;
  forwardFlops: number;
  backwardFlops: number;
  /** Parameters of one decoder layer on this rank (÷ tp for the sharded matrices). */
  params: number;
}

export interface StepCosts {
  layer: LayerCosts;
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
  /** Parameters per FSDP group on this rank: the root (embedding, final norm, lm_head); layers are `layer.params`. */
  rootParams: number;
  /** Tensor / context parallel traffic per micro-batch (bytes of one collective's payload). */
  parallel: {
    /** b·(s/cp)·h activations: each TP AllReduce (or AllGather + ReduceScatter with sequence parallel). */
    tpActivationBytes: number;
    /** The logits gathered over TP for the loss (HF tp_plan lm_head "colwise_rep"). */
    tpLogitsBytes: number;
    /** One ring-attention K+V block sent to the next CP rank. */
    cpKvBlockBytes: number;
  };
}

/**
 * Per-micro-batch kernel times of one decoder layer, the embedding and the head (final norm, lm_head,
 * cross-entropy) on one GPU, from the model's GEMM shapes and the GPU's measured rates. Under tensor
 * parallelism every layer GEMM is column- or row-sharded (Megatron; transformers' `base_model_tp_plan`:
 * q/k/v/gate/up "colwise", o/down "rowwise"); under context parallelism each rank holds s/cp tokens and its
 * queries attend over all s keys as the K/V blocks come round the ring.
 */
export function stepCosts(cfg: ResolvedConfig, model: ModelSpec, gpu: GpuSpec): StepCosts {
  const { tp, cp, sequenceParallel } = cfg.mesh;
  const b = cfg.batch.microBatchSize;
  const s = cfg.batch.sequenceLength;
  const tokens = (b * s) / cp;
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);
  const h = model.hiddenSize;
  const counts = parameterCounts(model);

  const gemms = layerGemms(model, tokens, tp);
  const gemmFwd = new Map(gemms.map((g) => [g.name, gemmSeconds(g, gpu, dtype)]));
  const gemmBwd = new Map(gemms.map((g) => [g.name, gemmBackwardSeconds(g, gpu, dtype)]));
  const matmulFlops = gemms.reduce((sum, g) => sum + gemmFlops(g), 0);

  // Attention core on this rank: a/tp heads, s/cp queries over all s keys. Flash kernels skip the masked
  // half (and CP's head-tail chunking balances it across ranks); the eager path computes every score as two
  // batched GEMMs and streams the score matrix through softmax (read + write forward; twice in backward).
  const coreFull = attentionCoreFlops(model, b, s, { causal: false, tp }) / cp;
  const coreCausal = coreFull / 2;
  let attnFwd: number;
  let attnBwd: number;
  if (cfg.flashAttention) {
    attnFwd = flashAttentionShapeSeconds({ batch: b, heads: model.numHeads / tp, queryLen: s / cp, keyLen: s, kernelSeqLen: s / cp, headDim: model.headDim, causal: true }, gpu, 'forward');
    attnBwd = flashAttentionShapeSeconds({ batch: b, heads: model.numHeads / tp, queryLen: s / cp, keyLen: s, kernelSeqLen: s / cp, headDim: model.headDim, causal: true }, gpu, 'backward');
  } else {
    const scores = (b * (model.numHeads / tp) * s * s) / cp;
    attnFwd = coreFull / matmulRate(gpu, dtype) + memoryBoundSeconds(3 * scores * p, gpu, 2);
    attnBwd = (2 * coreFull) / matmulRate(gpu, dtype) + memoryBoundSeconds(5 * scores * p, gpu, 3);
  }

  // Norms, rotary, the MLP activation and residual adds: memory-bound, eager or fused by torch.compile.
  const ew = layerElementwiseTraffic(model, p, cfg.torchCompile, { tp, sequenceParallel });
  const elementwiseFwd = memoryBoundSeconds(tokens * ew.forwardBytesPerToken, gpu, ew.forwardKernels);
  const elementwiseBwd = memoryBoundSeconds(tokens * ew.backwardBytesPerToken, gpu, ew.backwardKernels);

  const sumOf = (names: string[]) => names.reduce((a, n) => a + (gemmFwd.get(n) ?? 0), 0);
  const attentionForwardSeconds = sumOf(['q_proj', 'k_proj', 'v_proj', 'o_proj']) + attnFwd + elementwiseFwd / 2;
  const mlpForwardSeconds = sumOf(['gate_proj', 'up_proj', 'down_proj']) + elementwiseFwd / 2;
  const forwardSeconds = attentionForwardSeconds + mlpForwardSeconds;

  // Recomputation: full checkpointing re-runs the whole forward; torchtitan's op-level selective policy
  // (see src/memory/step-memory.ts) keeps the attention output and every other matmul's output, so backward
  // re-runs the other matmuls and the memory-bound ops only.
  let recomputeSeconds = forwardSeconds;
  if (cfg.activationCheckpointing === 'selective') {
    const recomputed = gemms.filter((_, i) => i % 2 !== 0).map((g) => g.name);
    recomputeSeconds = sumOf(recomputed) + elementwiseFwd;
  }

  // Backward in autograd order: MLP (down, then up/gate), then attention (o_proj, the core, q/k/v).
  const perLinearParams = new Map(gemms.map((g) => [g.name, g.k * g.n]));
  const order = ['down_proj', 'up_proj', 'gate_proj', 'o_proj', 'v_proj', 'k_proj', 'q_proj'].filter((n) => gemmBwd.has(n));
  const segments: BackwardSegment[] = [];
  const elementwiseShare = elementwiseBwd / order.length;
  const mlpNames = new Set(['down_proj', 'up_proj', 'gate_proj']);
  for (const name of order) {
    const part = mlpNames.has(name) ? 'mlp' : 'attention';
    segments.push({ name, seconds: gemmBwd.get(name)! + elementwiseShare, params: perLinearParams.get(name)!, part });
    if (name === 'o_proj') segments.push({ name: 'attention_core', seconds: attnBwd, params: 0, part: 'attention' });
  }
  // Biases and norm weights (replicated across TP): fold the rest of the layer's parameters into the last
  // segment (ready last).
  // Per rank: the local GEMM weights (k/v replicated whole when tp exceeds the KV heads) plus norms and biases.
  const layerParams = gemms.reduce((a, g) => a + g.k * g.n, 0) + (counts.perLayer - matmulParamsPerLayer(model));
  const listed = segments.reduce((a, x) => a + x.params, 0);
  segments[segments.length - 1]!.params += Math.max(0, layerParams - listed);
  const backwardSeconds = segments.reduce((a, x) => a + x.seconds, 0);

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
    layer: {
      forwardSeconds,
      attentionForwardSeconds,
      mlpForwardSeconds,
      recomputeSeconds,
      backwardSegments: segments,
      backwardSeconds,
      forwardFlops: matmulFlops + (cfg.flashAttention ? coreCausal : coreFull),
      backwardFlops: 2 * matmulFlops + 2.5 * (cfg.flashAttention ? coreCausal : coreFull),
      params: layerParams,
    },
    embedding: { params: embeddingLocal, forwardSeconds: embedForward, backwardSeconds: embedBackward },
    head: {
      params: counts.finalNorm + lmHeadLocal,
      forwardSeconds: headForward,
      backwardSeconds: headBackward,
      forwardFlops: gemmFlops(head),
    },
    totalParams: embeddingLocal + model.numLayers * layerParams + counts.finalNorm + lmHeadLocal,
    rootParams: embeddingLocal + counts.finalNorm + lmHeadLocal,
    parallel: {
      tpActivationBytes: tokens * h * p,
      tpLogitsBytes: logitsElements * p,
      cpKvBlockBytes: 2 * tokens * (Math.ceil(model.numKvHeads / tp) * model.headDim) * p,
    },
  };
}
