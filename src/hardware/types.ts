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
    /** Best measured bf16 matmul throughput (MAMF-style microbenchmark). */
    achieved_bf16_matmul_flops_per_second: number;
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
  };
  /** Software-level achieved rates and shapes the compute model needs (with sources like every number). */
  kernels: {
    sm_count: number;
    /**
     * Tensor-core clock a GPU sustains through a training run relative to the short microbenchmarks
     * behind the matmul and attention rates: power and thermal limits pull the clock below boost.
     */
    sustained_clock_fraction: number;
    /** SMs (CTAs, one per NCCL channel) a collective kernel holds while it runs: compute gets the rest. */
    collective_sm_count: number;
    /** Output tile edge cuBLAS uses for large bf16 GEMMs (wave quantization). */
    gemm_tile: number;
    /** Fixed cost per kernel launch as the GPU sees it (launch + tail), seconds. */
    launch_seconds: number;
    /** FlashAttention-2 achieved throughput (causal, head dim 128), forward and backward. */
    flash_attention_forward_flops_per_second: number;
    flash_attention_backward_flops_per_second: number;
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
  price: { usd_per_gpu_hour: number };
  sources: Record<string, string>;
}
