/** A value a sweep axis takes: a YAML scalar (number, boolean, string, null). */
export type Scalar = number | boolean | string | null;

/** One varied key and the values it takes, in the order the user gave them. */
export interface Axis {
  /** Scenario key path, e.g. `micro_batch_size`, `fsdp_config.reshard_after_forward`, `simulation.num_nodes`. */
  key: string;
  values: Scalar[];
}

/** One point of the grid: the value of every axis, in axis order. */
export interface SweepPoint {
  /** Position in the full (unsharded) grid, 0-based: the identity used by sharding and merge. */
  index: number;
  assignments: [key: string, value: Scalar][];
}

/** What one config produced: a compact, flat slice of the SimulationResult (SI units, snake_case). */
export interface SweepMetrics {
  world_size: number;
  strategy: string;
  mesh: { dp_replicate: number; dp_shard: number; cp: number; tp: number };
  global_batch_size: number;
  tokens_per_step: number;
  step_time_s: number;
  tokens_per_s: number;
  tokens_per_s_per_gpu: number;
  mfu: number;
  exposed_communication_s: number;
  exposed_ratio: number;
  peak_bytes: number;
  required_bytes: number;
  capacity_bytes: number;
  fits: boolean;
  usd_per_million_tokens: number;
}

/**
 * One row of a sweep: `ok` (simulated), `skipped` (the config is invalid or not yet supported: a
 * ShardsimError, with its one-line message as the reason) or `error` (an internal error, a bug).
 */
export interface SweepRow {
  index: number;
  /** The varied keys (not hardware / nodes) with this config's values, in axis order. */
  values: Record<string, Scalar>;
  hardware: string;
  nodes: number;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  metrics?: SweepMetrics;
  warnings?: string[];
}

/** Identifies a sweep so that shards of different sweeps are never merged together. */
export interface SweepMeta {
  /** Hash of the base scenario and the axes. */
  id: string;
  /** Base scenario name (file name without extension). */
  base: string;
  /** Configs in the full grid. */
  total: number;
  /** Varied key names in axis order (hardware and nodes are separate columns). */
  keys: string[];
}

/** A line of a sweep JSONL file: the row plus the sweep it belongs to. */
export interface SweepLine extends SweepRow {
  sweep: SweepMeta;
}
