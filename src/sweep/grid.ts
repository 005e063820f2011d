import { ShardsimError } from '../util/errors.ts';
import { parseVary } from './keys.ts';
import type { Axis, Scalar, SweepPoint } from './types.ts';

export const HARDWARE_KEY = 'simulation.hardware';
export const NODES_KEY = 'simulation.num_nodes';

export interface GridSpec {
  /** `KEY=v1,v2,…` strings, as given to `--vary`. */
  vary?: string[];
  /** `--hardware a,b` */
  hardware?: string;
  /** `--nodes 1,2,4` */
  nodes?: string;
}

/**
 * The axes of a sweep, outermost first: hardware, nodes, then the `--vary` keys in the order given. The
 * last axis changes fastest (like nested loops), so a config's index is a mixed-radix number over the
 * axes. `--vary simulation.hardware=…` and `--vary simulation.num_nodes=…` are the same axes as
 * `--hardware` / `--nodes`, which always come first.
 */
export function buildAxes(spec: GridSpec): Axis[] {
  const varied = (spec.vary ?? []).map(parseVary);
  const seen = new Set<string>();
  for (const a of varied) {
    if (seen.has(a.key)) throw new ShardsimError(`--vary ${a.key} is given twice`, { fix: 'list all its values in one --vary KEY=v1,v2' });
    seen.add(a.key);
  }
  const take = (key: string, flag: string, list: string | undefined, parse: (s: string) => Scalar): Axis | undefined => {
    const fromVary = varied.find((a) => a.key === key);
    if (fromVary && list !== undefined) throw new ShardsimError(`both ${flag} and --vary ${key} are given`, { fix: `use one of them` });
    if (fromVary) return fromVary;
    if (list === undefined) return undefined;
    const values = list.split(',').map((s) => parse(s.trim()));
    if (new Set(values).size !== values.length) throw new ShardsimError(`${flag} lists a value twice`, { fix: 'list each value once' });
    return { key, values };
  };
  const hardware = take(HARDWARE_KEY, '--hardware', spec.hardware, (s) => {
    if (s === '') throw new ShardsimError('--hardware has an empty id', { fix: 'e.g. --hardware dgx-h100,dgx-a100-80gb' });
    return s;
  });
  const nodes = take(NODES_KEY, '--nodes', spec.nodes, (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new ShardsimError(`--nodes must list positive whole numbers, got "${s}"`, { fix: 'e.g. --nodes 1,2,4' });
    return n;
  });
  for (const a of [hardware, nodes]) {
    if (a && a.values.some((v) => typeof v !== (a === hardware ? 'string' : 'number'))) {
      throw new ShardsimError(`--vary ${a.key}: every value must be ${a === hardware ? 'a profile id' : 'a whole number'}`, { fix: a === hardware ? 'e.g. dgx-h100' : 'e.g. 1,2,4' });
    }
  }
  const rest = varied.filter((a) => a.key !== HARDWARE_KEY && a.key !== NODES_KEY);
  return [...(hardware ? [hardware] : []), ...(nodes ? [nodes] : []), ...rest];
}

export function gridSize(axes: readonly Axis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** The config at `index` of the full grid (last axis fastest). */
export function pointAt(axes: readonly Axis[], index: number): SweepPoint {
  const assignments: [string, Scalar][] = new Array(axes.length);
  let rest = index;
  for (let i = axes.length - 1; i >= 0; i--) {
    const a = axes[i]!;
    assignments[i] = [a.key, a.values[rest % a.values.length]!];
    rest = Math.floor(rest / a.values.length);
  }
  return { index, assignments };
}

/** Every config of the grid, in index order. */
export function expandGrid(axes: readonly Axis[]): SweepPoint[] {
  const n = gridSize(axes);
  return Array.from({ length: n }, (_, i) => pointAt(axes, i));
}
