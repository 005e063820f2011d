import { ShardsimError } from '../util/errors.ts';
import type { SimulationOverrides } from '../config/index.ts';

/** Shared option parsers: commander hands us strings; bad values are ShardsimErrors (exit 2). */
export function positiveInt(name: string) {
  return (v: string) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isSafeInteger(n) || n < 1) {
      const why = Number.isInteger(n) && n > 0 ? 'at most 2^53 − 1' : 'a positive whole number';
      throw new ShardsimError(`--${name} must be ${why}, got "${v}"`, { fix: `e.g. --${name} 2` });
    }
    return n;
  };
}

export function simulationOverrides(o: Record<string, unknown>): SimulationOverrides {
  const out: SimulationOverrides = {};
  if (o.hardware !== undefined) out.hardware = String(o.hardware);
  if (o.nodes !== undefined) out.num_nodes = o.nodes as number;
  if (o.gpus !== undefined) out.gpus = o.gpus as number;
  if (o.seed !== undefined) out.seed = String(o.seed);
  if (o.steps !== undefined) out.steps = o.steps as number;
  if (o.jitter !== undefined) {
    // Number("") and Number("  ") are 0: an empty flag is a mistake, not "no jitter".
    const text = String(o.jitter).trim();
    const j = text === '' ? NaN : Number(text);
    if (!Number.isFinite(j)) throw new ShardsimError(`--jitter must be a number, got "${String(o.jitter)}"`, { fix: 'e.g. --jitter 0.02 (a relative standard deviation, 0 to 0.5)' });
    out.jitter = j;
  }
  if (o.interNodeBandwidth !== undefined) out.inter_node_bandwidth = String(o.interNodeBandwidth);
  return out;
}

