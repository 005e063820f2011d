import { loadScenarioObject, DEFAULT_HARDWARE } from '../config/index.ts';
import { simulateLoaded } from '../pipeline/simulate.ts';
import type { ModelSpec } from '../model/index.ts';
import type { SimulationResult } from '../metrics/result.ts';
import { ShardsimError } from '../util/errors.ts';
import { getKeyPath, setKeyPath } from './keys.ts';
import { HARDWARE_KEY, NODES_KEY } from './grid.ts';
import type { Scalar, SweepMetrics, SweepRow } from './types.ts';

/** Everything a worker needs to simulate one config: plain data, so it crosses a thread boundary. */
export interface ConfigTask {
  /** The validated base scenario (LoadedScenario.input). */
  base: Record<string, unknown>;
  name: string;
  baseDir: string;
  index: number;
  assignments: [string, Scalar][];
}

/** The base scenario with this config's values set. */
export function configObject(task: Pick<ConfigTask, 'base' | 'assignments'>): Record<string, unknown> {
  const obj = structuredClone(task.base);
  for (const [key, value] of task.assignments) setKeyPath(obj, key, value);
  return obj;
}

export function metricsOf(r: SimulationResult): SweepMetrics {
  return {
    world_size: r.world_size,
    strategy: r.strategy,
    mesh: { ...r.mesh },
    global_batch_size: r.batch.global_batch_size,
    tokens_per_step: r.batch.tokens_per_step,
    step_time_s: r.step_time_s,
    tokens_per_s: r.throughput.tokens_per_s,
    tokens_per_s_per_gpu: r.throughput.tokens_per_s_per_gpu,
    mfu: r.throughput.mfu,
    exposed_communication_s: r.communication.exposed_s,
    exposed_ratio: r.communication.exposed_ratio,
    peak_bytes: r.memory.peak_bytes,
    required_bytes: r.memory.required_bytes,
    capacity_bytes: r.memory.capacity_bytes,
    fits: r.memory.fits,
    usd_per_million_tokens: r.cost.usd_per_million_tokens,
  };
}

/** This worker's loaded models: a sweep's configs share the base scenario's model (or a few). */
const models = new Map<string, ModelSpec>();

/**
 * Simulates one config. A ShardsimError (invalid mesh, not-yet-supported feature, bad value) makes the
 * row `skipped` with the error's one line as the reason; anything else is a bug and makes it `error`.
 * Never throws, so one bad config cannot sink a sweep.
 */
export async function runConfig(task: ConfigTask): Promise<SweepRow> {
  const values: Record<string, Scalar> = {};
  for (const [k, v] of task.assignments) if (k !== HARDWARE_KEY && k !== NODES_KEY) values[k] = v;
  const row: SweepRow = { index: task.index, values, hardware: DEFAULT_HARDWARE, nodes: 1, status: 'ok' };
  try {
    const obj = configObject(task);
    row.hardware = String(getKeyPath(obj, HARDWARE_KEY) ?? DEFAULT_HARDWARE);
    row.nodes = Number(getKeyPath(obj, NODES_KEY) ?? 1);
    const loaded = loadScenarioObject(obj, { name: `${task.name}[${task.index}]`, baseDir: task.baseDir });
    const run = await simulateLoaded(loaded, { steadyState: true, modelCache: models });
    row.metrics = metricsOf(run.result);
    if (run.result.warnings.length > 0) row.warnings = run.result.warnings.map((w) => w.message);
  } catch (err) {
    if (err instanceof ShardsimError) {
      row.status = 'skipped';
      row.reason = err.message;
    } else {
      row.status = 'error';
      row.reason = `internal error: ${(err as Error)?.message ?? String(err)}`;
    }
  }
  return row;
}
