import type { Cluster } from '../hardware/cluster.ts';
import { memoryBoundSeconds, type GpuSpec } from '../compute/kernels.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { usesDeepSpeedCpuAdam, type DeepSpeedConfig } from '../config/deepspeed.ts';
import type { LayerSpec } from '../model/types.ts';
import { bytesOf, type Dtype } from '../util/dtype.ts';
import { optimizerStep } from './optimizer.ts';

/** Dtypes and byte sizes of one ZeRO configuration (src/config/deepspeed.ts `deepspeedPrecision`). */
export interface ZeroDtypes {
  /** Model dtype: parameters and gradients on the GPU. */
  model: Dtype;
  /** Master weights (partitioned). */
  master: Dtype;
  /** Each Adam state (partitioned). */
  state: Dtype;
  /** Persistent gradient (partition) dtype for this stage. */
  grad: Dtype;
  /** Collective dtype. */
  comm: Dtype;
}

export function zeroDtypes(cfg: ResolvedConfig): ZeroDtypes {
  const p = cfg.precision;
  const masterBytes = p.optimizerBytesPerParam >= 12 ? 4 : 2;
  const stateBytes = (p.optimizerBytesPerParam - masterBytes) / 2;
  return { model: p.paramDtype, master: masterBytes === 4 ? 'fp32' : 'bf16', state: stateBytes === 4 ? 'fp32' : 'bf16', grad: p.gradDtype, comm: p.reduceDtype };
}

/** GPU-resident model states of one rank, bytes (the ZeRO paper's arithmetic, Rajbhandari et al. 2020 §5). */
export interface ZeroModelStates {
  parameters: number;
  gradients: number;
  optimizerStates: number;
}

/**
 * ZeRO model states per GPU for Ψ parameters on N ranks (no padding): stage 1 keeps full params and grads and
 * 1/N of the master weights + Adam states (2Ψ + 2Ψ + 12Ψ/N with bf16 and fp32 master), stage 2 also
 * partitions the grads (2Ψ + 14Ψ/N), stage 3 the params too (16Ψ/N). Offloaded states live in host memory.
 * `persistentParams`: stage-3 tensors under `stage3_param_persistence_threshold`, kept whole on every GPU.
 */
export function zeroModelStates(
  psi: number,
  n: number,
  stage: 1 | 2 | 3,
  d: ZeroDtypes,
  opts: { offloadOptimizer: boolean; offloadParam: boolean; persistentParams?: number },
): ZeroModelStates {
  const local = Math.ceil(psi / n);
  const P = bytesOf(d.model);
  const optimizerStates = opts.offloadOptimizer ? 0 : local * (bytesOf(d.master) + 2 * bytesOf(d.state));
  if (stage === 1) return { parameters: psi * P, gradients: psi * bytesOf(d.grad), optimizerStates };
  if (stage === 2) return { parameters: psi * P, gradients: opts.offloadOptimizer ? 0 : local * bytesOf(d.grad), optimizerStates };
  const persistent = (opts.persistentParams ?? 0) * P;
  return {
    parameters: (opts.offloadParam ? 0 : local * P) + persistent,
    gradients: opts.offloadOptimizer ? 0 : local * bytesOf(d.grad),
    optimizerStates,
  };
}

/** One tensor's gradient becoming ready in backward, in execution order (a backward segment). */
export interface GradSegment {
  params: number;
}

/** A gradient bucket of the ZeRO reducer and the segment whose gradient hook launches its reduction. */
export interface ZeroBucket {
  elements: number;
  /** Index of the segment after which the reduction is launched. */
  launchAfter: number;
}

/**
 * DeepSpeed's bucketing (stage_1_and_2.py and stage3.py `reduce_independent_p_g_buckets_and_remove_grads`):
 * when a gradient arrives and would overflow `reduce_bucket_size` elements, the bucket so far is reduced
 * first (at that gradient's hook), then the gradient joins the next bucket; a gradient larger than the
 * bucket travels alone. The last bucket is reduced by the epilogue at the end of backward.
 */
export function zeroBuckets(segments: GradSegment[], bucketElements: number): ZeroBucket[] {
  const buckets: ZeroBucket[] = [];
  let cur = 0;
  segments.forEach((s, i) => {
    if (s.params === 0) return;
    if (cur > 0 && cur + s.params > bucketElements) {
      buckets.push({ elements: cur, launchAfter: i });
      cur = 0;
    }
    cur += s.params;
  });
  if (cur > 0) buckets.push({ elements: cur, launchAfter: segments.length - 1 });
  return buckets;
}

/**
 * Parameters of one decoder layer that stay whole on every GPU under ZeRO-3: tensors with at most
 * `stage3_param_persistence_threshold` elements are not partitioned (stage3.py / parameter_offload.py
 * `ds_persist`). Tensor by tensor as the transformers modules hold them: norm weights (and biases),
 * linear biases, and weight matrices small enough (rare: routers of small MoEs, low-rank projections).
 */
export function persistentParamsOfLayer(layer: LayerSpec, threshold: number): number {
  const tensors: number[] = [];
  for (const n of layer.norms) tensors.push(...(n.kind === 'layernorm' && n.bias ? [n.width, n.width] : [n.width]));
  for (const l of layer.linears) {
    const e = l.experts?.count ?? 1;
    // transformers stores routed experts as one 3-D parameter per projection (all experts together).
    tensors.push(e * l.in * l.out);
    if (l.bias) tensors.push(e * l.out);
  }
  if (layer.extraParams > 0) tensors.push(layer.extraParams);
  return tensors.filter((n) => n <= threshold).reduce((a, n) => a + n, 0);
}

/** What the host offers one rank: its PCIe link and its share of the node's CPU Adam throughput. */
export interface HostShare {
  h2dBytesPerSecond: number;
  d2hBytesPerSecond: number;
  cpuAdamParamsPerSecond: number;
}

/**
 * Pinned buffers copy at the link's pinned rate, pageable ones through the CPU staging copy
 * (profile node.host_link). Every GPU process of a node runs its own CPU optimizer (DeepSpeedCPUAdam, or
 * torch's AdamW, see `usesDeepSpeedCpuAdam`) on the node's CPUs, all at once after backward, so each gets
 * 1/gpusPerNode of the node's throughput (profile host).
 */
export function hostShare(cluster: Cluster, pinned: boolean, ds: DeepSpeedConfig): HostShare {
  const link = cluster.profile.node.host_link;
  const host = cluster.profile.host;
  const rate = usesDeepSpeedCpuAdam(ds) ? host.cpu_adam_params_per_second : host.torch_cpu_adam_params_per_second;
  return {
    h2dBytesPerSecond: pinned ? link.h2d_pinned_bytes_per_second : link.h2d_pageable_bytes_per_second,
    d2hBytesPerSecond: pinned ? link.d2h_pinned_bytes_per_second : link.d2h_pageable_bytes_per_second,
    cpuAdamParamsPerSecond: rate / cluster.gpusPerNode,
  };
}

/**
 * The GPU side of a ZeRO optimizer step on `local` parameters (stage_1_and_2.py `step`, stage3.py `step`):
 * the gradient-norm pass (`get_grad_norm_direct` upcasts each gradient to fp64), the flat master-dtype
 * gradient built from the partition (flatten + cast; BF16_Optimizer already holds it), `unscale_and_clip_grads`
 * (read + write), Adam over the master weights, and the copy back into the model-dtype partition.
 * Returns seconds and the transient master-dtype gradient it allocates.
 */
export function zeroGpuStep(
  cfg: ResolvedConfig,
  ds: DeepSpeedConfig,
  d: ZeroDtypes,
  local: number,
  gpu: GpuSpec,
  opts: { gradIsMasterView: boolean },
): { normSeconds: number; stepSeconds: number; temporaryBytes: number } {
  const G = bytesOf(d.grad);
  const P = bytesOf(d.model);
  const M = bytesOf(d.master);
  const normSeconds = memoryBoundSeconds(local * (G + 16), gpu, 2);
  const build = opts.gradIsMasterView ? 0 : memoryBoundSeconds(local * (2 * G + (G !== M ? G + M : 0)), gpu, 2);
  const clip = memoryBoundSeconds(local * 2 * M, gpu, 1);
  // DeepSpeed builds FusedAdam (multi-tensor, one pass) from an "optimizer" section; otherwise the Trainer's own.
  const fused = ds.hasOptimizerSection || cfg.optimizer.fused;
  const adamCfg = { ...cfg, optimizer: { ...cfg.optimizer, fused }, precision: { ...cfg.precision, paramDtype: d.master, gradDtype: d.master, optimizerBytesPerParam: 2 * bytesOf(d.state) } };
  const adam = optimizerStep(adamCfg, local, gpu);
  const copyBack = memoryBoundSeconds(local * (M + P), gpu, 1);
  return {
    normSeconds,
    stepSeconds: build + clip + adam.seconds + copyBack,
    temporaryBytes: (opts.gradIsMasterView ? 0 : local * M) + adam.temporaryBytes,
  };
}

/** One parameter tensor of a decoder layer: its elements, the module that holds it, whether it trains. */
export interface LayerTensor {
  elements: number;
  module: string;
  trainable: boolean;
}

/**
 * The parameter tensors of one decoder layer as the transformers / PEFT modules hold them: each norm (weight,
 * and bias for a LayerNorm with bias), each projection (weight, bias; routed experts as one 3-D tensor), a
 * LoRA adapter's lora_A and lora_B (modules of their own), and the layer's other parameters as one tensor.
 */
export function layerTensors(layer: LayerSpec): LayerTensor[] {
  const baseTrains = !layer.linears.some((l) => l.frozen);
  const out: LayerTensor[] = [];
  layer.norms.forEach((n, i) => {
    const m = `norm${i}`;
    out.push({ elements: n.width, module: m, trainable: baseTrains });
    if (n.kind === 'layernorm' && n.bias) out.push({ elements: n.width, module: m, trainable: baseTrains });
  });
  for (const l of layer.linears) {
    const e = l.experts?.count ?? 1;
    out.push({ elements: e * l.in * l.out, module: l.name, trainable: !l.frozen });
    if (l.bias) out.push({ elements: e * l.out, module: l.name, trainable: !l.frozen });
    if (l.lora) {
      out.push({ elements: l.lora.r * l.in, module: `${l.name}.lora_A`, trainable: true });
      out.push({ elements: l.lora.r * l.out, module: `${l.name}.lora_B`, trainable: true });
    }
  }
  if (layer.extraParams > 0) out.push({ elements: layer.extraParams, module: 'extra', trainable: baseTrains });
  return out;
}

/** Host-side PyTorch calls ZeRO-3 makes for one decoder layer, per event (see `zero3LayerHostOps`). */
export interface Zero3HostOps {
  /** Gathering the layer's partitioned tensors (once per forward, and once more for its backward). */
  fetch: number;
  /** Freeing them after use. */
  release: number;
  /** Moving its gradients through the IPG bucket, the reduce-scatter and into the gradient partition. */
  reduce: number;
}

/**
 * What ZeRO-3 asks of the host for one decoder layer, in PyTorch calls (each goes through the dispatcher like an
 * eager op; the strategy costs each at the profile's `framework.eager_kernel_host_seconds`), counted from
 * DeepSpeed's source (deepspeed/runtime/zero/, v0.18, Dec 2025) for a group of `ranks`:
 *
 * - fetch, per module with partitioned tensors (`all_gather_coalesced` → `_all_gather_dtype`): the flat buffer
 *   (`torch.empty`), one `narrow` per rank, the `torch.cat` of the local partitions, the all-gather launch, the
 *   compute stream's `wait_stream` and the fetch event's `record`: ranks + 5. Per partitioned tensor: its
 *   partition's `.to(device).to(dtype)` (2) and, in `AllGatherCoalescedHandle.wait`, one `narrow` per rank, the
 *   `torch.cat` of the pieces, `.view`, `.to` and one `record_stream` per rank: 2·ranks + 5.
 * - release, per partitioned tensor (`free_param`): `record_stream` and `param.data = torch.empty(0)`: 2.
 * - reduce, per trainable tensor: `__add_grad_to_ipg_bucket` (`wait_stream`, `narrow`, `view_as`, `copy_`,
 *   `record_stream`, the `.data` swap: 6); `reduce_scatter_coalesced` (comm/coalesced_collectives.py: `view`,
 *   one slice per rank, the output `narrow`: ranks + 2); `partition_grads` (`narrow`, `copy_` or `add_`, `.to`,
 *   freeing `param.grad`: 5): ranks + 13.
 *
 * Tensors of at most `stage3_param_persistence_threshold` elements stay whole and are neither fetched nor
 * released. The hooks' Python bookkeeping (trace, status sets, prefetch queue) is not counted, and views cost
 * less than a launching op: the two approximations go opposite ways.
 */
export function zero3LayerHostOps(layer: LayerSpec, thresholdElements: number, ranks: number): Zero3HostOps {
  const tensors = layerTensors(layer);
  const gathered = tensors.filter((t) => t.elements > thresholdElements);
  const modules = new Set(gathered.map((t) => t.module)).size;
  return {
    fetch: modules * (ranks + 5) + gathered.length * (2 * ranks + 5),
    release: gathered.length * 2,
    reduce: tensors.filter((t) => t.trainable).length * (ranks + 13),
  };
}
