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
  /** Candidates the simulator refused (e.g. "not yet supported"), with the reason. */
  skipped: { change: ScenarioChange; reason: string }[];
}
