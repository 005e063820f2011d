import type { LayerSpec } from '../model/types.ts';

/**
 * Memory traffic of a decoder layer's non-matmul kernels (norms, rotary, the MLP activation, residual
 * adds), in bytes per token, forward and backward, and how many kernels they launch. Counted from the
 * modules as Hugging Face writes them in eager PyTorch, one read/write per op; with torch.compile the
 * chains fuse into one kernel that reads its inputs and writes its output once.
 *
 * - RMSNorm, eager (transformers `LlamaRMSNorm.forward`, also Mistral/Qwen2): `x.to(float32)` (r p, w 4),
 *   `pow(2)` (r 4, w 4), `mean(-1)` (r 4), `x * rsqrt(var + eps)` (r 4, w 4), `.to(input_dtype)` (r 4, w p),
 *   `weight * x` (r p, w p): 22 + 3p bytes per element; its autograd backward about twice that.
 * - LayerNorm (`nn.LayerNorm`, MPT's low-precision LayerNorm, GPT-2, GPT-NeoX): one fused kernel each way,
 *   r p w p forward; backward reads x and dy and writes dx.
 * - Rotary (`apply_rotary_pos_emb`: `q*cos + rotate_half(q)*sin`, rotate_half = cat(-x2, x1)): neg (half),
 *   cat, two muls and an add over q and k — ~9.5p bytes per element, similar backward. MPT uses ALiBi inside
 *   the attention kernel and GPT-2 learned positions: no rotary pass.
 * - SwiGLU `act_fn(gate(x)) * up(x)`: silu (r p, w p) + mul (r 2p, w p) per intermediate element; backward
 *   mul (r 3p, w 2p) + silu (r 2p, w p). GELU: one kernel, r p w p; backward r 2p w p.
 * - Two residual adds per layer (r 2p, w p each); backward accumulates the two gradient paths.
 *
 * What torch.compile buys, and what it does not: fusing these memory-bound chains (less traffic, here) and
 * launching fewer kernels (the launch-bound floor of src/compute/host-overhead.ts counts the fused kernels).
 * It does not speed up the GEMMs or the attention kernel: on Llama 3.1 8B at 1 × 8192 on a B200 every
 * compiled mode, max-autotune included, runs the forward+backward at 0.93–0.94× eager speed, while Llama
 * 3.2 1B at 1 × 512, launch-bound, gains 3.9× (stas00/ml-engineering training/performance/README.md
 * 'torch.compile', torch 2.13, measured 2026-08-09). So no GEMM-selection gain is modelled.
 */
/**
 * Which elementwise chains run as one fused kernel: all of them under torch.compile; each by itself with a
 * fused kernel library (Liger's RMSNorm / SwiGLU / RoPE Triton kernels read their inputs and write their
 * outputs once, linkedin/Liger-Kernel src/liger_kernel/ops/rms_norm.py, swiglu.py, rope.py).
 */
export interface Fusion {
  norm: boolean;
  rope: boolean;
  activation: boolean;
}

export const EAGER: Fusion = { norm: false, rope: false, activation: false };
export const COMPILED: Fusion = { norm: true, rope: true, activation: true };

export interface ElementwiseTraffic {
  forwardBytesPerToken: number;
  backwardBytesPerToken: number;
  forwardKernels: number;
  backwardKernels: number;
}

/**
 * Per rank under tensor parallelism: the head- and MLP-column tensors are split tp ways; the h-wide ones
 * (norms, residual adds) are replicated unless sequence parallelism splits them along the sequence.
 */
export function layerElementwiseTraffic(layer: LayerSpec, bytesPerElement: number, fused: boolean | Fusion, par: { tp: number; sequenceParallel: boolean } = { tp: 1, sequenceParallel: false }): ElementwiseTraffic {
  const p = bytesPerElement;
  const f: Fusion = typeof fused === 'boolean' ? (fused ? COMPILED : EAGER) : fused;
  const h = layer.hiddenSize / (par.sequenceParallel ? par.tp : 1);
  const attn = layer.mixer?.kind === 'attention' ? layer.mixer : undefined;
  const qk = attn ? (attn.numHeads / par.tp + Math.ceil(attn.numKvHeads / par.tp)) * attn.headDim : 0;
  const I = ffnWidthPerToken(layer) / par.tp;
  // Partial rotary (gpt_neox rotary_pct) still reads and re-concatenates the whole q and k.
  const rotary = attn !== undefined && attn.rotaryDims > 0;
  // Norms over the hidden size (pre/post norms); per-head q/k norms run over the q and k widths instead.
  const norms = layer.norms.filter((n) => n.width === layer.hiddenSize).length;
  const rmsNorm = layer.norms[0]?.kind === 'rmsnorm';
  const qkNormWidth = attn?.qkNorm ? qk / h : 0;

  let fwd = 0;
  let bwd = 0;
  let kf = 0;
  let kb = 0;
  const add = (f: number, b: number, kernelsF: number, kernelsB: number) => {
    fwd += f;
    bwd += b;
    kf += kernelsF;
    kb += kernelsB;
  };

  const normCount = norms + qkNormWidth;
  const qkKernels = attn?.qkNorm ? 2 : 0;
  if (rmsNorm && !f.norm) add(normCount * h * (22 + 3 * p), normCount * h * 2 * (22 + 3 * p), (norms + qkKernels) * 6, (norms + qkKernels) * 10);
  else add(normCount * h * 2 * p, normCount * h * 3 * p, norms + qkKernels, norms + qkKernels);

  if (rotary) {
    if (f.rope) add(qk * 2 * p, qk * 2 * p, 1, 1);
    else add(qk * 9.5 * p, qk * 9.5 * p, 5, 5);
  }

  if (layer.ffn?.gated) {
    if (f.activation) add(I * 3 * p, I * 5 * p, 1, 1);
    else add(I * 5 * p, I * 8 * p, 2, 2);
  } else if (layer.ffn) add(I * 2 * p, I * 3 * p, 1, 1);

  add(2 * h * 3 * p, 2 * h * 3 * p, 2, 2);
  return { forwardBytesPerToken: fwd, backwardBytesPerToken: bwd, forwardKernels: kf, backwardKernels: kb };
}

/**
 * Intermediate elements one token passes through in the layer's feed-forward: the MLP width, or for routed
 * experts top-k expert widths plus the shared experts' (each routed copy runs the activation).
 */
export function ffnWidthPerToken(layer: LayerSpec): number {
  const f = layer.ffn;
  if (!f) return 0;
  if (f.kind === 'moe') return (f.denseDispatch ? f.numExperts : f.topK) * f.expertIntermediate + f.sharedIntermediate;
  const down = layer.linears.find((l) => l.part === 'mlp' && l.tp === 'rowwise');
  return down ? down.in : f.intermediate;
}
