import { basename, dirname, extname, resolve as resolvePath } from 'node:path';
import { pathKind, readTextFile } from '../io/files.ts';
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { closest, ShardsimError } from '../util/errors.ts';
import { PYYAML_OPTIONS } from './yaml.ts';
import { DEPRECATED_ALIASES, KEY_FATES, isOff } from './key-fates.ts';
import { MODELLED_KEYS, scenarioSchema, simulationSchema, type ScenarioInput } from './schema.ts';
import { refuseEbftStructured } from './ebft.ts';

export interface LoadedScenario {
  name: string;
  path?: string;
  baseDir: string;
  input: ScenarioInput;
  warnings: string[];
}

/** Flags from the CLI that override the scenario's `simulation:` block. */
export interface SimulationOverrides {
  hardware?: string;
  num_nodes?: number;
  gpus?: number;
  seed?: string | number;
  steps?: number;
  jitter?: number;
  inter_node_bandwidth?: string;
}

export function loadScenarioFile(path: string, overrides: SimulationOverrides = {}): LoadedScenario {
  // YAML's document model holds ~75 bytes of heap per byte of text (a 20 MB `datasets:` list: 1.5 GB RSS).
  const text = readTextFile(path, { what: 'scenario file', fix: 'check the path (e.g. scenarios/llama-3.1-8b-ddp-8xh100.yaml)', heapBytesPerByte: 100 });
  const name = basename(path, extname(path));
  return loadScenarioText(text, { name, path, baseDir: dirname(resolvePath(path)), overrides });
}

/** Parses scenario YAML (or JSON) text; errors carry `file:line:col`. */
export function loadScenarioText(
  text: string,
  opts: { name: string; path?: string; baseDir?: string; overrides?: SimulationOverrides },
): LoadedScenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...PYYAML_OPTIONS, lineCounter: lines, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined || !opts.path) return opts.path ?? opts.name;
    const p = lines.linePos(offset);
    return `${opts.path}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const msg = e.message.split('\n')[0];
    throw new ShardsimError(`${where(e.pos[0])}: malformed YAML: ${msg}`, { fix: 'fix the YAML syntax (indentation, colons, quotes)' });
  }
  if (!isMap(doc.contents)) {
    throw new ShardsimError(`${where(0)}: a scenario must be a YAML mapping of Axolotl keys`, { fix: 'start with e.g. `base_model: meta-llama/Llama-3.1-8B`' });
  }
  let raw: Record<string, unknown>;
  try {
    raw = doc.toJS() as Record<string, unknown>;
  } catch (e) {
    // The yaml package stops alias expansion that would blow up (a "billion laughs" document).
    throw new ShardsimError(`${where(0)}: the YAML cannot be expanded: ${(e as Error).message.split('\n')[0]}`, { fix: 'use fewer nested aliases (*anchor) in the scenario' });
  }
  return fromObject(raw, { ...opts, doc, where });
}

/** Validates an already-parsed scenario object (validation rows carry scenarios as JSON). */
export function loadScenarioObject(
  raw: Record<string, unknown>,
  opts: { name: string; baseDir?: string; overrides?: SimulationOverrides },
): LoadedScenario {
  return fromObject(structuredClone(raw), { ...opts, where: () => opts.name });
}

function fromObject(
  raw: Record<string, unknown>,
  opts: { name: string; path?: string; baseDir?: string; overrides?: SimulationOverrides; doc?: Document; where: (o?: number) => string },
): LoadedScenario {
  const warnings: string[] = [];
  // A key left empty (`deepspeed:`) is YAML null, which Axolotl's schema reads as unset (its fields are
  // `… | None`, and DictDefault answers None for a missing key alike): drop it, as in the nested blocks.
  dropNulls(raw);
  for (const block of ['simulation', 'fsdp_config']) {
    const b = raw[block];
    if (b && typeof b === 'object' && !Array.isArray(b)) dropNulls(b as Record<string, unknown>);
  }
  applyAxolotlKeyFates(raw, warnings);

  const overrides = Object.fromEntries(Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined));
  if (Object.keys(overrides).length > 0) {
    const sim = (raw.simulation ?? {}) as Record<string, unknown>;
    if (typeof sim !== 'object' || sim === null || Array.isArray(sim)) {
      throw new ShardsimError('must be a mapping', { key: 'simulation', fix: 'write `simulation:` followed by indented keys such as `hardware: dgx-h100`' });
    }
    raw.simulation = { ...sim, ...overrides };
  }

  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.map(String).join('.') || '(top level)';
    const node = opts.doc?.getIn(issue.path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
    const loc = opts.doc ? `${opts.where(node?.range?.[0])}: ` : '';
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const bad = (issue as { keys: string[] }).keys[0]!;
      const parent = issue.path.map(String).join('.');
      throw new ShardsimError(`${loc}unknown key "${parent ? parent + '.' : ''}${bad}"`, { fix: hintForUnknown(bad, parent) });
    }
    const got = getPath(raw, issue.path);
    const allowed = allowedValues(issue);
    // zod's default texts start with "Invalid"; a message the schema chose already names the values.
    if (allowed) message = issue.message.startsWith('Invalid') ? `must be ${allowed} (got ${describe(got)})` : `${issue.message} (got ${describe(got)})`;
    else if (issue.code !== 'custom') message = `${message} (got ${describe(got)})`;
    throw new ShardsimError(`${loc}${key}: ${message}`, { fix: fixFor(key) });
  }
  return { name: opts.name, ...(opts.path ? { path: opts.path } : {}), baseDir: opts.baseDir ?? process.cwd(), input: parsed.data, warnings };
}

function dropNulls(obj: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) if (v === null) delete obj[k];
}

/**
 * Every top-level key meets its fate (src/config/key-fates.ts) before the schema sees the config: deprecated
 * spellings become the key Axolotl maps them to, keys that change nothing are dropped, unmodelled keys that are
 * set become warnings, out-of-scope ones a refusal, and a key Axolotl does not know a "did you mean" warning.
 */
function applyAxolotlKeyFates(raw: Record<string, unknown>, warnings: string[]): void {
  // EBFT's structured modes carry `trl` / `vllm` keys too: refuse them by their own name first.
  refuseEbftStructured(raw);
  const modelled = new Set(MODELLED_KEYS);
  for (const [old, key] of Object.entries(DEPRECATED_ALIASES)) {
    if (!(old in raw)) continue;
    if (raw[key] === undefined || raw[key] === null) raw[key] = raw[old];
    delete raw[old];
  }
  for (const key of Object.keys(raw)) {
    if (modelled.has(key)) continue;
    const fate = KEY_FATES.get(key);
    const value = raw[key];
    delete raw[key];
    if (!fate) {
      const guess = closest(key, [...MODELLED_KEYS, ...KEY_FATES.keys()], 1)[0];
      warnings.push(`unknown key "${key}" ignored (not an Axolotl key)${guess ? ` — did you mean "${guess}"?` : ''}`);
    } else if (fate.fate === 'warn' && !isOff(value)) {
      warnings.push(`${key}: ${fate.assumed}`);
    } else if (fate.fate === 'refuse' && !isOff(value)) {
      throw new ShardsimError(fate.reason, { key, fix: 'simulate the supervised fine-tuning step: remove the key' });
    }
  }
}

function hintForUnknown(bad: string, parent: string): string {
  if (parent === 'simulation') {
    const guess = closest(bad, Object.keys(simulationSchema.shape), 1)[0];
    return `did you mean "${guess}"?`;
  }
  return 'remove it or check its spelling';
}

function fixFor(key: string): string {
  if (/size|steps|len|num_nodes|gpus/.test(key)) return `set ${key} to a positive whole number`;
  if (key === 'fsdp_version') return 'use fsdp_version: 2 (FSDP2) or 1 (FSDP1)';
  return `see the README's scenario keys`;
}

/**
 * The values a failed enum, literal or union check allows, read from the zod issue (so they follow the
 * schema): `true, false or "auto"`. Undefined for other checks.
 */
export function allowedValues(issue: z.core.$ZodIssue): string | undefined {
  const options: string[] = [];
  const collect = (i: z.core.$ZodIssue): boolean => {
    if (i.code === 'invalid_value') {
      options.push(...i.values.map((v) => JSON.stringify(v)));
      return true;
    }
    if (i.code === 'invalid_type' && i.path.length === 0) {
      const kind = { boolean: 'true, false', number: 'a number', int: 'a whole number', string: 'a string', array: 'a list', object: 'a mapping', record: 'a mapping' }[i.expected as string];
      options.push(kind ?? String(i.expected));
      return true;
    }
    if (i.code === 'invalid_union') return i.errors.every((branch) => branch.length > 0 && branch.every(collect));
    return false;
  };
  if (issue.code !== 'invalid_value' && issue.code !== 'invalid_union') return undefined;
  if (!collect(issue) || options.length === 0) return undefined;
  const unique = [...new Set(options.join(', ').split(', '))];
  return unique.length === 1 ? unique[0] : `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const p of path) cur = (cur as Record<PropertyKey, unknown> | undefined)?.[p];
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  return Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : String(v);
}
