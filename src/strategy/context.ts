import type { ResolvedConfig } from '../config/types.ts';
import type { ModelSpec } from '../model/types.ts';
import type { GroupPlacement } from '../network/index.ts';
import type { StepCosts } from './costs.ts';
import type { PlanBuilder } from './plan.ts';
import type { GpuSpec } from '../compute/kernels.ts';
import type { StepMemory } from '../memory/step-memory.ts';
import type { ParallelLayout } from './layout.ts';

/** Everything a strategy needs to lower one training step into tasks. */
export interface StrategyContext {
  cfg: ResolvedConfig;
  model: ModelSpec;
  costs: StepCosts;
  /** Transient memory sizes of one micro-batch (saved activations, recompute, logits, autocast cache). */
  memory: StepMemory;
  gpu: GpuSpec;
  builder: PlanBuilder;
  /** The data-parallel group gradients are reduced over (the shard group under FSDP). */
  dataParallel: GroupPlacement;
  /** Host side of CPU offload: copy rates over the host link and the CPU optimizer rate one rank gets. */
  host: {
    h2dBytesPerSecond: number;
    d2hBytesPerSecond: number;
    cpuAdamParamsPerSecond: number;
    /** Pinned-buffer rates (activation offloading always pins its host buffers). */
    pinnedH2dBytesPerSecond: number;
    pinnedD2hBytesPerSecond: number;
  };
  /**
   * The micro-batches to lower, in order: all of them, or — for a steady-state run — the first, the second
   * and the last, the second standing for every middle one (they are identical without jitter).
   */
  microBatches: number[];
  /** Every process group of the mesh (dp / replicate / tp / cp) with placement and instance ids. */
  layout: ParallelLayout;
}

export interface StrategyResult {
  persistent: { parameters: number; optimizer_states: number; communication_buffers: number };
  persistentGradientBytes: number;
  /** Optimizer state in CUDA unified memory (bitsandbytes paged optimizers): outside the allocator's peak. */
  pagedBytes?: number;
}
