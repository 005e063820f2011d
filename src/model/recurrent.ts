/**
 * The work and the saved tensors of the recurrent / convolutional token mixers of hybrid models, besides
 * their projections (which are ordinary GEMMs in the layer's `linears`). Counted per rank for `tokens` tokens
 * (heads and channels split `tp` ways). FLOPs are the tensor-core-friendly products of the chunked
 * algorithms; bytes the HBM traffic of the (memory-bound) kernels; both forward, backward ≈ 2× forward.
 *
 * - Mamba-2 SSD (Dao & Gu 2024, "Transformers are SSMs", §6; mamba_ssm ops/triton/ssd_combined.py): per
 *   chunk of Q tokens, C·Bᵀ within the chunk (2·Q·N per token per group), its product with X (2·Q·P per token
 *   per head), the chunk state Bᵀ·X and its contribution C·state (2·N·P each per token per head); the causal
 *   depthwise conv1d over x, B, C before it, the gated RMSNorm after it. Saved: the in_proj output (z, x, B, C,
 *   dt), the conv output, the chunk states (fp32) and the scan output.
 * - Mamba-1 selective scan (mamba_ssm ops/selective_scan_interface.py, Jamba): a memory-bound scan reading u,
 *   Δ, B, C and writing y per channel, its state kept on chip; x_proj / dt_proj are projections. Saved: the
 *   in_proj output, conv output, x_proj output, Δ and the scan output.
 * - Gated delta rule (Yang et al. 2024, "Gated Delta Networks", chunked form; fla-org flash-linear-attention
 *   `chunk_gated_delta_rule`): per chunk of Q tokens, intra-chunk attention 2·Q·(dk + dv) per token per head and
 *   the state update / readout ≈ 6·dk·dv per token per head (WY representation); short convs on q, k, v first.
 *   Saved: q, k, v after the convs, the gates, the chunk states (fp32) and the output.
 * - Short convolution (LFM2): y = C ⊙ conv(B ⊙ x) over `channels`; saved: the in_proj output and the conv output.
 */
import type { RecurrentMixer } from './types.ts';
import type { ActivationTensor } from './activations.ts';

export interface MixerCoreWork {
  /** Tensor-core (matmul-shaped) FLOPs. */
  forwardFlops: number;
  /** Scalar fp32 FLOPs on the CUDA cores (Mamba-1's scan recurrence). */
  forwardScalarFlops: number;
  forwardBytes: number;
  backwardFlops: number;
  backwardBytes: number;
  forwardKernels: number;
  backwardKernels: number;
  saved: ActivationTensor[];
}

export function recurrentCore(m: RecurrentMixer, tokens: number, tp: number, p: number): MixerCoreWork {
  switch (m.kind) {
    case 'mamba2': {
      const H = m.nHeads / tp;
      const G = Math.max(1, m.nGroups / tp);
      const P = m.headDim;
      const N = m.dState;
      const Q = m.chunk;
      const conv = H * P + 2 * G * N;
      const flops = tokens * (H * (2 * Q * P + 4 * N * P) + G * 2 * Q * N);
      const states = (tokens / Q) * H * P * N * 4;
      const fwdBytes = tokens * (2 * conv * p + (conv + H) * p + H * P * p + 3 * H * P * p) + states;
      return {
        forwardFlops: flops,
        forwardScalarFlops: 0,
        forwardBytes: fwdBytes,
        backwardFlops: 2 * flops,
        backwardBytes: 2 * fwdBytes,
        forwardKernels: 6,
        backwardKernels: 10,
        saved: [
          { name: 'ssm_in_proj_output', bytes: tokens * (2 * H * P + 2 * G * N + H) * p },
          { name: 'ssm_conv_output', bytes: tokens * conv * p },
          { name: 'ssm_chunk_states', bytes: states },
          { name: 'ssm_scan_output', bytes: tokens * H * P * p },
        ],
      };
    }
    case 'mamba1': {
      const D = m.dInner / tp;
      const N = m.dState;
      const flops = tokens * D * N * 9;
      const fwdBytes = tokens * (2 * D * p + 3 * D * p + 2 * N * p) + D * N * 4;
      return {
        forwardFlops: 0,
        forwardScalarFlops: flops,
        forwardBytes: fwdBytes,
        backwardFlops: 0,
        backwardBytes: 2 * fwdBytes,
        forwardKernels: 4,
        backwardKernels: 6,
        saved: [
          { name: 'ssm_in_proj_output', bytes: tokens * 2 * D * p },
          { name: 'ssm_conv_output', bytes: tokens * D * p },
          { name: 'ssm_delta', bytes: tokens * D * p },
          { name: 'ssm_x_proj_output', bytes: tokens * 2 * N * p },
          { name: 'ssm_scan_output', bytes: tokens * D * p },
        ],
      };
    }
    case 'linear_attention': {
      const Hk = m.numKeyHeads / tp;
      const Hv = m.numValueHeads / tp;
      const dk = m.keyDim;
      const dv = m.valueDim;
      const Q = m.chunk;
      const flops = tokens * Hv * (2 * Q * (dk + dv) + 6 * dk * dv);
      const qkv = 2 * Hk * dk + Hv * dv;
      const states = (tokens / Q) * Hv * dk * dv * 4;
      const fwdBytes = tokens * (2 * qkv * p + qkv * p + 2 * Hv * 4 + Hv * dv * p) + states;
      return {
        forwardFlops: flops,
        forwardScalarFlops: 0,
        forwardBytes: fwdBytes,
        backwardFlops: 2 * flops,
        backwardBytes: 2 * fwdBytes,
        forwardKernels: 8,
        backwardKernels: 12,
        saved: [
          { name: 'linear_attn_qkv', bytes: tokens * qkv * p },
          { name: 'linear_attn_gates', bytes: tokens * 2 * Hv * 4 },
          { name: 'linear_attn_chunk_states', bytes: states },
          { name: 'linear_attn_output', bytes: tokens * Hv * dv * p },
        ],
      };
    }
    case 'short_conv': {
      const C = m.channels / tp;
      const fwdBytes = tokens * (3 * C * p + 2 * C * p + 2 * C * p);
      return {
        forwardFlops: 0,
        forwardScalarFlops: 0,
        forwardBytes: fwdBytes,
        backwardFlops: 0,
        backwardBytes: 2 * fwdBytes,
        forwardKernels: 3,
        backwardKernels: 5,
        saved: [
          { name: 'conv_in_proj_output', bytes: tokens * 3 * C * p },
          { name: 'conv_output', bytes: tokens * C * p },
        ],
      };
    }
  }
}
