import type { ResolvedConfig } from '../config/types.ts';
import type { Cluster } from '../hardware/cluster.ts';

/** A set of scenario edits in dotted Axolotl keys, e.g. {"fsdp_version": 2, "fsdp_config.reshard_after_forward": true}; null removes a key. */
export type ScenarioChange = Record<string, unknown>;

/** One configuration the advisor simulated, as it appears in the JSON result. */
export interface AdviceEntry {
  change: ScenarioChange;
  peak_bytes: number;
  required_bytes: number;
  fits: boolean;
  step_time_s: number;
  tokens_per_s_per_gpu: number;
  global_batch_size: number;
}

export interface AdviceDebug {
  /**
   * 'out_of_memory': the scenario does not fit, the card's checklist was tried; 'headroom': it fits with room
   * to spare, faster configurations were tried; 'fits': neither, nothing was tried.
   */
  mode: 'out_of_memory' | 'headroom' | 'fits';
  /** Configurations simulated (refused ones included). */
  evaluated: number;
  /**
   * Of those, how many were found from three models cut to a few layers, extrapolated to the whole
   * (src/pipeline/layer-extrapolation.ts); the others were simulated whole.
   */
  extrapolated: number;
  /** Candidates the simulator refused (e.g. "not yet supported"), with the reason. */
  skipped: { change: ScenarioChange; reason: string }[];
}

/** What the advisor reads of a simulated variant: its step time and whether it fits, not its timeline. */
export interface VariantOutcome {
  cfg: ResolvedConfig;
  cluster: Cluster;
  stepSeconds: number;
  tokensPerSecondPerGpu: number;
  globalBatchSize: number;
  peakBytes: number;
  requiredBytes: number;
  fits: boolean;
  /** Tasks simulated to find these numbers (the advisor's work bound). */
  tasks: number;
  /** How: the whole model simulated, or cut models extrapolated to its layer count (src/pipeline/layer-extrapolation.ts). */
  method: 'full' | 'layers';
}
