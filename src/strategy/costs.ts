import { layerElementwiseTraffic } from '../compute/elementwise.ts';
import { gemmBackwardSeconds, gemmSeconds, flashAttentionSeconds, memoryBoundSeconds, matmulRate, type GpuSpec } from '../compute/kernels.ts';
import { attentionCoreFlops, gemmFlops, layerGemms, lmHeadGemm } from '../model/flops.ts';
import { logitsBytes } from '../model/activations.ts';
import { parameterCounts } from '../model/params.ts';
import type { ModelSpec } from '../model/types.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { bytesOf } from '../util/dtype.ts';

/** One slice of a layer's backward: the kernels that produce one parameter tensor's gradient. */
export interface BackwardSegment {
  name: string;
  seconds: number;
  /** Parameters whose gradients are ready when this segment ends. */
  params: number;
}

export interface LayerCosts {
  forwardSeconds: number;
  backwardSegments: BackwardSegment[];
  backwardSeconds: number;
  forwardFlops: number;
  backwardFlops: number;
  params: number;
}

export interface StepCosts {
  layer: LayerCosts;
  embedding: { params: number; forwardSeconds: number; backwardSeconds: number };
  head: {
    /** Final norm + lm_head (0 when tied: they live in the embedding). */
    params: number;
    forwardSeconds: number;
    backwardSeconds: number;
    forwardFlops: number;
  };
  totalParams: number;
  /** Parameters per FSDP group: the root (embedding, final norm, lm_head) and each decoder block. */
  rootParams: number;
}

/**
 * Per-micro-batch kernel times of one decoder layer, the embedding and the head (final norm, lm_head,
 * cross-entropy) on one GPU, from the model's GEMM shapes and the GPU's measured rates.
 */
export function stepCosts(cfg: ResolvedConfig, model: ModelSpec, gpu: GpuSpec): StepCosts {
  const b = cfg.batch.microBatchSize;
  const s = cfg.batch.sequenceLength;
  const tokens = b * s;
  const dtype = cfg.precision.computeDtype;
  const p = bytesOf(dtype);
  const h = model.hiddenSize;
  const q = model.numHeads * model.headDim;
  const kv = model.numKvHeads * model.headDim;
  const I = model.intermediateSize;
  const counts = parameterCounts(model);

  const gemms = layerGemms(model, tokens);
  const gemmFwd = new Map(gemms.map((g) => [g.name, gemmSeconds(g, gpu, dtype)]));
  const gemmBwd = new Map(gemms.map((g) => [g.name, gemmBackwardSeconds(g, gpu, dtype)]));
  const matmulFlops = gemms.reduce((sum, g) => sum + gemmFlops(g), 0);

  // Attention core: flash kernels skip the masked half; the eager path computes all s² scores as two
  // batched GEMMs and streams the score matrix through softmax (read + write, forward; twice in backward).
  let attnFwd: number;
  let attnBwd: number;
  const attnFlopsFull = attentionCoreFlops(model, b, s, { causal: false });
  if (cfg.flashAttention) {
    const flops = attentionCoreFlops(model, b, s, { causal: true });
    attnFwd = flashAttentionSeconds(flops, gpu, 'forward');
    attnBwd = flashAttentionSeconds(flops, gpu, 'backward');
  } else {
    const scores = b * model.numHeads * s * s;
    attnFwd = attnFlopsFull / matmulRate(gpu, dtype) + memoryBoundSeconds(3 * scores * p, gpu, 2);
    attnBwd = (2 * attnFlopsFull) / matmulRate(gpu, dtype) + memoryBoundSeconds(5 * scores * p, gpu, 3);
  }

  // Norms, rotary, the MLP activation and residual adds: memory-bound, eager or fused by torch.compile.
  const ew = layerElementwiseTraffic(model, p, cfg.torchCompile);
  const elementwiseFwd = memoryBoundSeconds(tokens * ew.forwardBytesPerToken, gpu, ew.forwardKernels);
  const elementwiseBwd = memoryBoundSeconds(tokens * ew.backwardBytesPerToken, gpu, ew.backwardKernels);

  const forwardSeconds = [...gemmFwd.values()].reduce((a, x) => a + x, 0) + attnFwd + elementwiseFwd;

  // Backward in autograd order: MLP (down, then up/gate), then attention (o_proj, the core, q/k/v).
  const perLinearParams = new Map(gemms.map((g) => [g.name, g.k * g.n]));
  const order = ['down_proj', 'up_proj', 'gate_proj', 'o_proj', 'v_proj', 'k_proj', 'q_proj'].filter((n) => gemmBwd.has(n));
  const segments: BackwardSegment[] = [];
  const elementwiseShare = elementwiseBwd / order.length;
  for (const name of order) {
    segments.push({ name, seconds: gemmBwd.get(name)! + elementwiseShare, params: perLinearParams.get(name)! });
    if (name === 'o_proj') segments.push({ name: 'attention_core', seconds: attnBwd, params: 0 });
  }
  // Biases and norm weights: fold the rest of the layer's parameters into the last segment (ready last).
  const listed = segments.reduce((a, x) => a + x.params, 0);
  segments[segments.length - 1]!.params += counts.perLayer - listed;
  const backwardSeconds = segments.reduce((a, x) => a + x.seconds, 0);

  // Embedding: a gather of b·s rows forward; backward zeroes and scatter-adds into a V×h gradient.
  const embedForward = memoryBoundSeconds(2 * tokens * h * p, gpu, 1);
  const embedBackward = memoryBoundSeconds(2 * model.vocabSize * h * bytesOf(cfg.precision.gradDtype) + 2 * tokens * h * p, gpu, 2);

  // Head: final norm, lm_head GEMM, cross-entropy over fp32 logits (upcast, log-softmax, gather, and its
  // gradient): ~5 passes over b·s·V fp32 forward and 3 backward, plus the bf16 logits.
  const head = lmHeadGemm(model, tokens);
  const logits = logitsBytes(model, b, s);
  const headForward = gemmSeconds(head, gpu, dtype) + memoryBoundSeconds(4 * tokens * h * p + logits.bf16Bytes + 5 * logits.fp32Bytes, gpu, 6);
  const headBackward = gemmBackwardSeconds(head, gpu, dtype) + memoryBoundSeconds(4 * tokens * h * p + 3 * logits.fp32Bytes + logits.bf16Bytes, gpu, 5);
  const headParams = counts.finalNorm + counts.lmHead;

  return {
    layer: {
      forwardSeconds,
      backwardSegments: segments,
      backwardSeconds,
      forwardFlops: matmulFlops + (cfg.flashAttention ? attentionCoreFlops(model, b, s, { causal: true }) : attnFlopsFull),
      backwardFlops: 2 * matmulFlops + 2.5 * (cfg.flashAttention ? attentionCoreFlops(model, b, s, { causal: true }) : attnFlopsFull),
      params: counts.perLayer,
    },
    embedding: { params: counts.embedding + counts.positional, forwardSeconds: embedForward, backwardSeconds: embedBackward },
    head: {
      params: headParams,
      forwardSeconds: headForward,
      backwardSeconds: headBackward,
      forwardFlops: gemmFlops(head),
    },
    totalParams: counts.total,
    rootParams: counts.total - model.numLayers * counts.perLayer,
  };
}
