import { createHash } from 'node:crypto';
import { loadScenarioFile, type LoadedScenario } from '../config/index.ts';
import { loadHardwareProfile } from '../hardware/index.ts';
import { buildAxes, gridSize, HARDWARE_KEY, pointAt, type GridSpec } from './grid.ts';
import { shardIndices, type Shard } from './shard.ts';
import { runConfigs, type PoolOptions, type PoolOutcome } from './pool.ts';
import type { ConfigTask } from './run-config.ts';
import type { Axis, SweepMeta } from './types.ts';

export interface PreparedSweep {
  loaded: LoadedScenario;
  axes: Axis[];
  meta: SweepMeta;
  /** The configs this process runs (the whole grid, or one shard of it), in index order. */
  tasks: ConfigTask[];
}

/**
 * Loads the base scenario, builds the grid and picks this shard's configs. The base must itself be a
 * valid scenario file (its errors are the user's to fix once, not per config); hardware ids are checked
 * up front for the same reason.
 */
export function prepareSweep(basePath: string, spec: GridSpec, shard?: Shard): PreparedSweep {
  const loaded = loadScenarioFile(basePath);
  const axes = buildAxes(spec);
  const hw = axes.find((a) => a.key === HARDWARE_KEY);
  for (const id of hw?.values ?? []) loadHardwareProfile(String(id));
  const total = gridSize(axes);
  const keys = axes.map((a) => a.key).filter((k) => k !== HARDWARE_KEY && k !== 'simulation.num_nodes');
  const base = loaded.input as Record<string, unknown>;
  const meta: SweepMeta = { id: sweepId(base, axes), base: loaded.name, total, keys };
  const tasks = shardIndices(total, shard).map((index): ConfigTask => ({
    base,
    name: loaded.name,
    baseDir: loaded.baseDir,
    index,
    assignments: pointAt(axes, index).assignments,
  }));
  return { loaded, axes, meta, tasks };
}

/** Same base scenario and same axes ⇒ same id, so shards of one sweep merge and others do not. */
export function sweepId(base: Record<string, unknown>, axes: readonly Axis[]): string {
  return createHash('sha256').update(JSON.stringify({ base, axes })).digest('hex').slice(0, 12);
}

export function runSweep(prepared: PreparedSweep, opts: PoolOptions): Promise<PoolOutcome> {
  return runConfigs(prepared.tasks, opts);
}
