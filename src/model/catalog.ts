/**
 * The built-in model catalog: one JSON file per Hugging Face id in `./catalog/`, holding the architecture keys
 * of that model's real `config.json` (plus `_id`, `_source` and optional `_aliases`: other ids whose
 * checkpoints share the architecture, such as an -Instruct variant or a re-upload). File names are the id
 * with `/` → `__`.
 */
import { dataFiles } from '../io/files.ts';
import { editDistance } from '../util/errors.ts';

type Entry = { id: string; config: Record<string, unknown>; aliasOf?: string };
let cache: Map<string, Entry> | undefined;

function load(): Map<string, Entry> {
  if (cache) return cache;
  const map = new Map<string, Entry>();
  // The files of src/model/catalog/ (read from disk in Node, inlined at build time in the playground).
  for (const { name: file, text } of dataFiles('src/model/catalog')) {
    const config = JSON.parse(text) as Record<string, unknown>;
    const id = typeof config._id === 'string' ? config._id : file.slice(0, -'.json'.length).replace('__', '/');
    map.set(id.toLowerCase(), { id, config });
  }
  // Aliases never shadow an id that has a file of its own.
  for (const entry of [...map.values()]) {
    const aliases = Array.isArray(entry.config._aliases) ? (entry.config._aliases as unknown[]).filter((a): a is string => typeof a === 'string') : [];
    for (const alias of aliases) if (!map.has(alias.toLowerCase())) map.set(alias.toLowerCase(), { id: alias, config: entry.config, aliasOf: entry.id });
  }
  cache = map;
  return map;
}

/** Every catalog id with a config file of its own, in its canonical Hugging Face spelling, sorted. */
export function catalogIds(): string[] {
  return [...load().values()].filter((e) => !e.aliasOf).map((e) => e.id).sort((a, b) => a.localeCompare(b));
}

/** Every id the catalog answers to (own ids and aliases), sorted. */
export function catalogIdsWithAliases(): string[] {
  return [...load().values()].map((e) => e.id).sort((a, b) => a.localeCompare(b));
}

/** The id whose config an alias shares, or undefined for an own id / unknown id. */
export function catalogAliasOf(id: string): string | undefined {
  return load().get(id.trim().toLowerCase())?.aliasOf;
}

/**
 * The stored config.json of a catalog model (a fresh copy), matching the id case-insensitively;
 * undefined when the id is not in the catalog. `_id`/`_source` are kept (normalisation ignores them).
 */
export function catalogConfig(id: string): Record<string, unknown> | undefined {
  const entry = load().get(id.trim().toLowerCase());
  return entry ? (structuredClone(entry.config) as Record<string, unknown>) : undefined;
}

/** The canonical spelling of a catalog id, or undefined. */
export function canonicalCatalogId(id: string): string | undefined {
  return load().get(id.trim().toLowerCase())?.id;
}

/** Lower-case word/number tokens of an id: "meta-llama/Llama-3.1-13B" → meta, llama, 3.1, 13b. */
function tokens(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9.]+|(?<=[a-z])\.|\.(?=[a-z])/).filter((t) => t.length > 0);
}

/** A size token like "13b", "1.1b", "405b", "124m". */
const SIZE = /^\d+(\.\d+)?[bm]$/;

/** Lower-case without separators, so "gpt-2" and "gpt2" coincide. */
function compact(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** "13b" → 13e9, "124m" → 124e6. */
function sizeOf(t: string): number {
  return parseFloat(t) * (t.endsWith('b') ? 1e9 : 1e6);
}

/**
 * Catalog ids most similar to `name`, best first. Plain edit distance ranks "Llama-3.1-13B" close to
 * "Llama-3.1-8B" but far from "Llama-2-13b-hf", although the size is the strongest hint of what the user
 * wants. So the score mixes: shared tokens (Jaccard), a bonus when the size token ("13b") matches, a bonus
 * when the sizes are near each other, and normalised edit distance on the part after the org.
 */
export function suggestCatalogIds(name: string, limit = 3, candidates: readonly string[] = catalogIdsWithAliases()): string[] {
  const nameTokens = new Set(tokens(name));
  const nameSize = [...nameTokens].filter((t) => SIZE.test(t));
  const nameTail = compact(name.split('/').pop() ?? name);
  const scored = candidates.map((c) => {
    const cTokens = new Set(tokens(c));
    const inter = [...nameTokens].filter((t) => cTokens.has(t)).length;
    const union = new Set([...nameTokens, ...cTokens]).size;
    const jaccard = union === 0 ? 0 : inter / union;
    const sizeMatch = nameSize.some((t) => cTokens.has(t)) ? 1 : 0;
    const tail = compact(c.split('/').pop() ?? c);
    const ed = editDistance(nameTail, tail) / Math.max(nameTail.length, tail.length, 1);
    // Nearness of parameter count (8B is a better guess for 13B than 70B): 1 when equal, 0 at 10× apart.
    const cSize = [...cTokens].filter((t) => SIZE.test(t)).map(sizeOf);
    const nSize = nameSize.map(sizeOf);
    let near = 0;
    for (const a of nSize) for (const b of cSize) near = Math.max(near, 1 - Math.min(1, Math.abs(Math.log10(a / b))));
    return { c, score: jaccard + 0.5 * sizeMatch + 0.2 * near + 0.5 * (1 - ed) };
  });
  return scored
    .sort((x, y) => y.score - x.score || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map((x) => x.c);
}
