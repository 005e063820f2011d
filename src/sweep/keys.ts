import { parse as parseYaml } from 'yaml';
import { PYYAML_OPTIONS } from '../config/yaml.ts';
import { closest, ShardsimError } from '../util/errors.ts';
import { KEY_FATES } from '../config/key-fates.ts';
import { MODELLED_KEYS, fsdpConfigSchema, simulationSchema } from '../config/schema.ts';
import type { Scalar } from './types.ts';

/**
 * Scenario key paths (`fsdp_config.reshard_after_forward`) for `--vary`: checked against the schema up
 * front so a typo fails once with "did you mean" instead of skipping every config of the grid.
 */
const SIMULATION_KEYS = Object.keys(simulationSchema.shape);
const FSDP_KEYS = Object.keys(fsdpConfigSchema.shape);
/** Keys that hold a mapping of further keys; every other top-level key is a scalar. */
const MAPPING_KEYS = new Set(['simulation', 'fsdp_config', 'model_config']);

/** The closest key, preferring one that contains the typed name (`nodes` → `num_nodes`). */
function suggest(name: string, candidates: readonly string[]): string {
  const containing = candidates.filter((c) => c.includes(name) || name.includes(c));
  return closest(name, containing.length > 0 ? containing : candidates, 1)[0] ?? '';
}

export function checkKeyPath(path: string): void {
  const parts = path.split('.');
  if (parts.some((p) => p === '')) {
    throw new ShardsimError(`--vary: "${path}" is not a key path`, { fix: 'write keys separated by dots, e.g. fsdp_config.reshard_after_forward' });
  }
  const [top, second] = parts as [string, string | undefined];
  if (!MODELLED_KEYS.includes(top)) {
    const fate = KEY_FATES.get(top);
    if (fate) {
      throw new ShardsimError(`--vary: "${top}" is an Axolotl key ${fate.fate === 'no-effect' ? 'that does not change a step' : 'the simulator does not model'}, so varying it changes nothing`, { fix: `vary a modelled key (${closest(top, MODELLED_KEYS, 3).join(', ')}, …)` });
    }
    throw new ShardsimError(`--vary: unknown key "${top}"`, { fix: `did you mean "${suggest(top, MODELLED_KEYS)}"?` });
  }
  if (MAPPING_KEYS.has(top) && second === undefined) {
    throw new ShardsimError(`--vary: "${top}" is a mapping; vary one of its keys`, { fix: `e.g. --vary ${top}.${top === 'simulation' ? 'num_nodes' : top === 'fsdp_config' ? 'reshard_after_forward' : 'num_hidden_layers'}=…` });
  }
  if (!MAPPING_KEYS.has(top) && second !== undefined) {
    throw new ShardsimError(`--vary: "${top}" takes a single value, not keys below it`, { fix: `write --vary ${top}=v1,v2` });
  }
  if (top === 'simulation' && second !== undefined) {
    if (!SIMULATION_KEYS.includes(second)) throw new ShardsimError(`--vary: unknown key "simulation.${second}"`, { fix: `did you mean "simulation.${suggest(second, SIMULATION_KEYS)}"?` });
    if (parts.length > 2 || second === 'stragglers') throw new ShardsimError(`--vary: "${path}" is not a scalar key`, { fix: 'vary a scalar such as simulation.num_nodes or simulation.inter_node_bandwidth' });
  }
  if (top === 'fsdp_config' && second !== undefined) {
    // accelerate's legacy `fsdp_` prefix is accepted by the loader too (config/resolve.ts normaliseFsdpConfig).
    const bare = second.startsWith('fsdp_') ? second.slice(5) : second;
    if (!FSDP_KEYS.includes(bare)) throw new ShardsimError(`--vary: unknown key "fsdp_config.${second}"`, { fix: `did you mean "fsdp_config.${suggest(bare, FSDP_KEYS)}"?` });
    if (parts.length > 2 && bare !== 'mixed_precision_policy') throw new ShardsimError(`--vary: "fsdp_config.${second}" takes a single value`, { fix: `write --vary fsdp_config.${second}=v1,v2` });
  }
}

/** Parses one `--vary` value as a YAML scalar, as scenarios are read: `4` → 4, `true`/`yes` → true, `1e-3` → 0.001, `bf16` → "bf16". */
export function parseScalar(text: string, key: string): Scalar {
  const t = text.trim();
  if (t === '') throw new ShardsimError(`--vary ${key}: empty value`, { fix: `list values separated by commas without gaps, e.g. ${key}=1,2,4` });
  let v: unknown;
  try {
    v = parseYaml(t, PYYAML_OPTIONS);
  } catch {
    throw new ShardsimError(`--vary ${key}: "${t}" is not a YAML scalar`, { fix: 'quote nothing; write plain values such as 4, true or bf16' });
  }
  if (v !== null && typeof v === 'object') {
    throw new ShardsimError(`--vary ${key}: "${t}" is a list or mapping, not a single value`, { fix: 'give scalar values separated by commas' });
  }
  return v as Scalar;
}

/** Parses `KEY=v1,v2,…` into a key path and its values (duplicates refused: they would repeat configs). */
export function parseVary(spec: string): { key: string; values: Scalar[] } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new ShardsimError(`--vary "${spec}" needs KEY=v1,v2,…`, { fix: 'e.g. --vary micro_batch_size=1,2,4' });
  const key = spec.slice(0, eq).trim();
  checkKeyPath(key);
  const values = spec.slice(eq + 1).split(',').map((v) => parseScalar(v, key));
  const seen = new Set<string>();
  for (const v of values) {
    const id = JSON.stringify(v);
    if (seen.has(id)) throw new ShardsimError(`--vary ${key}: value ${String(v)} is listed twice`, { fix: 'list each value once' });
    seen.add(id);
  }
  return { key, values };
}

/**
 * Sets `path` (dot-separated) in a scenario object, creating intermediate mappings. Mutates `obj`.
 * A non-mapping in the way is a user error (e.g. the base has `fsdp_config: true`).
 */
export function setKeyPath(obj: Record<string, unknown>, path: string, value: Scalar): void {
  const parts = path.split('.');
  let cur: Record<string, unknown> = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const next = cur[p];
    if (next === undefined || next === null) {
      cur[p] = {};
    } else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new ShardsimError(`cannot set ${path}: ${parts.slice(0, i + 1).join('.')} is not a mapping in the base scenario`, { key: parts.slice(0, i + 1).join('.'), fix: 'make it a mapping (or remove it) in the base scenario' });
    }
    cur = cur[p] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  // The loader folds accelerate's `fsdp_<key>` spelling into `<key>`; drop the other spelling so the
  // varied value is the only one.
  if (parts[0] === 'fsdp_config' && parts.length === 2) {
    const other = last.startsWith('fsdp_') ? last.slice(5) : `fsdp_${last}`;
    delete cur[other];
  }
  cur[last] = value;
}

/** Reads a key path (undefined when absent). */
export function getKeyPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
