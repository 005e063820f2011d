/**
 * A hardware profile as stored in hardware-profiles/<id>.json. SI units everywhere (bytes, seconds,
 * flop/s, bytes/s). Every number has an entry in `sources` keyed by its dotted path (e.g. "gpu.memory_bytes").
 */
export interface HardwareProfile {
  id: string;
  name: string;
  gpu: {
    name: string;
    memory_bytes: number;
    bf16_dense_flops_per_second: number;
    fp32_flops_per_second: number;
    tf32_dense_flops_per_second: number;
    /** Best measured bf16 matmul throughput (MAMF-style microbenchmark, PyTorch torch.mm). */
    achieved_bf16_matmul_flops_per_second: number;
    /** The [m, n, k] at which that rate was measured (anchors the GEMM model's peak, src/compute/gemm-fit.ts). */
    achieved_bf16_matmul_shape: number[];
    /** Best measured fp8 (e4m3) matmul throughput (MAMF, torch._scaled_mm); absent on GPUs without fp8 tensor cores or without a measurement. */
    achieved_fp8_matmul_flops_per_second?: number;
    hbm_bytes_per_second: number;
    /** Measured STREAM-like HBM bandwidth. */
    achieved_hbm_bytes_per_second: number;
    tdp_watts: number;
  };
  node: {
    gpus_per_node: number;
    intra: {
      kind: 'nvswitch' | 'pcie';
      /** Unidirectional bandwidth per GPU into the fabric (NVLink aggregate, or PCIe x16). */
      bytes_per_second_per_gpu: number;
      /** Whether GPU peer-to-peer works (false on GeForce: traffic bounces through host memory). */
      p2p: boolean;
      /** NVLink SHARP (in-switch reduction) available. */
      nvls: boolean;
    };
    host_link: {
      h2d_pinned_bytes_per_second: number;
      d2h_pinned_bytes_per_second: number;
      h2d_pageable_bytes_per_second: number;
      d2h_pageable_bytes_per_second: number;
    };
  };
  scale_out: {
    kind: 'infiniband' | 'roce' | 'ethernet';
    nics_per_node: number;
    /** Unidirectional line rate per NIC. */
    bytes_per_second_per_nic: number;
  };
  /**
   * What NCCL really achieves on this machine, from nccl-tests measurements (collectives-calibration.jsonl)
   * or vendor figures: the collective cost model's few constants.
   */
  nccl: {
    /** Peak ring AllReduce bus bandwidth inside one node at large messages (≥ 1 GiB), bytes/s. */
    intra_ring_busbw_bytes_per_second: number;
    /** Peak NVLS AllReduce bus bandwidth inside a node, bytes/s; 0 when the system has no NVLS. */
    intra_nvls_busbw_bytes_per_second: number;
    /**
     * Peak bus bandwidth across nodes (AllReduce, large messages) per rail NIC, as a share of the NIC's line
     * rate (`scale_out.bytes_per_second_per_nic`): dimensionless, in (0, 1]. A ratio, not an absolute
     * figure, so that the line rate (and `simulation.inter_node_bandwidth`) flows through to the step.
     */
    inter_busbw_efficiency: number;
    /** Per-step latency α of the LL protocol (small messages) inside a node and across nodes, seconds. */
    intra_latency_seconds: number;
    inter_latency_seconds: number;
    /**
     * Size efficiency of the Simple protocol (and NVLS): bandwidth = peak × 1 / (1 + (h / b)^k) where b is
     * the bytes each rank owns (S/n for AllReduce, AllGather, ReduceScatter; S for Broadcast and
     * send/recv), so h is the per-rank size at which it reaches half its peak — per link class, inside a
     * node and across nodes — and k how sharply it rises. With NCCL's LL/Simple choice this keeps mid-size
     * messages far below peak busbw (fitted on collectives-calibration.jsonl).
     */
    intra_half_bandwidth_bytes: number;
    inter_half_bandwidth_bytes: number;
    size_efficiency_exponent: number;
    /** Fixed latency of an NVLS AllReduce (pipeline fill through the switch), seconds; 0 without NVLS. */
    nvls_latency_seconds: number;
    /** Per-rank half-bandwidth size of NVLS AllReduce (as `intra_half_bandwidth_bytes`), bytes; 0 without NVLS. */
    nvls_half_bandwidth_bytes: number;
    /**
     * All-to-all (nccl-tests alltoall_perf) busbw inside a node as a share of `intra_ring_busbw_bytes_per_second`,
     * large messages. Optional: without a measurement the all-to-all runs at the send/recv rate (the ring busbw).
     */
    alltoall_intra_efficiency?: number;
  };
  /**
   * Kernel-level rates the compute model needs, each calibrated on published microbenchmarks (never on
   * end-to-end training rows); see src/compute/.
   */
  kernels: {
    sm_count: number;
    /**
     * SM clock a GPU sustains under a power-limited training load ÷ the clock of the short microbenchmarks
     * behind `gemm` and `flash_attention` (measured with nvidia-smi under load). Scales tensor-core work only:
     * the memory clock does not move under a power cap.
     */
    sustained_clock_ratio: number;
    /** SMs (CTAs, one per NCCL channel) a collective kernel holds while it runs: compute gets the rest. */
    collective_sm_count: number;
    /** GPU-side gap per kernel launch in a stream (launch latency + tail), seconds. */
    launch_seconds: number;
    /** GEMM time as a function of shape (src/compute/gemm.ts), fitted on a per-shape microbenchmark table. */
    gemm: GemmKernelModel;
    /** FlashAttention-2 measured throughput against sequence length and head dim (src/compute/flash-attention.ts). */
    flash_attention: FlashAttentionTable;
    /**
     * Other fused attention kernels a run may have used instead of FlashAttention-2
     * (`simulation.attention_kernel`), each a table in the same benchmark convention. Absent: not measured
     * on this GPU, and a scenario that names the kernel is refused.
     */
    attention_kernels?: Partial<Record<AlternativeAttentionKernel, FlashAttentionTable>>;
  };
  /** Memory the training process holds outside PyTorch's allocator. */
  runtime: {
    /** CUDA context + cuBLAS/cuDNN workspaces + NCCL communicator buffers, bytes. */
    cuda_context_bytes: number;
    /** PyTorch caching allocator: reserved ÷ allocated at the peak (block rounding, fragmentation). */
    allocator_reserved_over_allocated: number;
  };
  /** The host CPUs, as DeepSpeed's ZeRO-Offload uses them. */
  host: {
    /**
     * DeepSpeedCPUAdam throughput of one node's CPUs: fp32 parameters updated per second (Adam on the
     * master weights, momentum and variance in host memory). The GPUs' processes of a node share it.
     */
    cpu_adam_params_per_second: number;
    /** torch.optim.AdamW stepping fp32 parameters on the CPU (FSDP CPU offload), params/s per node. */
    torch_cpu_adam_params_per_second: number;
  };
  /** Host-side costs of the software stack (src/compute/host-overhead.ts). */
  framework: {
    /** Host CPU time eager PyTorch spends per launched kernel in a training step (dispatch + autograd). */
    eager_kernel_host_seconds: number;
    /**
     * The same under torch.no_grad (no autograd graph recorded): strided EBFT's generation and feature
     * forwards. Absent: `eager_kernel_host_seconds`.
     */
    eager_no_grad_kernel_host_seconds?: number;
  };
  price: { usd_per_gpu_hour: number };
  sources: Record<string, string>;
}

/**
 * bf16 GEMM model: a tile of the output runs on one SM; the grid runs in waves of one tile per SM, and each
 * tile pays a fixed pipeline fill/drain worth `k_overhead_elements` of its reduction dimension:
 *
 *   seconds = 2·m·n·k / (full_wave_flops_per_second · wave_efficiency(m, n) · k / (k + k_overhead_elements)) + fixed_seconds
 *
 * with the wave efficiency of the best of `tile_shapes` (cuBLAS's heuristics pick among several tiles).
 */
export interface GemmKernelModel {
  /** Rate of a GEMM that fills every wave and has a very long k, at the microbenchmark's clock. */
  full_wave_flops_per_second: number;
  /** Fixed per-tile cost in units of k (prologue loads + epilogue store), elements. */
  k_overhead_elements: number;
  /** Fixed latency of one GEMM kernel, seconds. */
  fixed_seconds: number;
  /** Candidate output tiles [rows, columns]. */
  tile_shapes: number[][];
}

/**
 * Fused attention kernels other than FlashAttention-2 with a measured table:
 * - `flash_attention_1`: the FlashAttention (v1) CUDA kernels (flash-attn < 2.0);
 * - `flash_attention_triton`: the FlashAttention Triton kernel (Dao's flash_attn/flash_attn_triton.py on
 *   Triton's pre-MLIR backend, which llm-foundry copied as `attn_impl: triton`).
 */
export type AlternativeAttentionKernel = 'flash_attention_1' | 'flash_attention_triton';
export const ALTERNATIVE_ATTENTION_KERNELS: readonly AlternativeAttentionKernel[] = ['flash_attention_1', 'flash_attention_triton'];

/**
 * FlashAttention-2 throughput in the benchmark convention of its authors (FLOPs = 4·s²·d·heads per forward,
 * half with a causal mask, backward 2.5× forward), by head dim (rows) and sequence length (columns), measured
 * with batch × sequence = 16k tokens. Backward rates follow from forward + backward and forward alone.
 */
export interface FlashAttentionTable {
  head_dims: number[];
  sequence_lengths: number[];
  forward_backward_causal_flops_per_second: number[][];
  forward_backward_flops_per_second: number[][];
  forward_causal_flops_per_second: number[][];
  forward_flops_per_second: number[][];
}
