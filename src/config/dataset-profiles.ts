/**
 * Sample-length profiles of public datasets (src/config/datasets/*.json, one file per Hugging Face dataset id
 * with `/` → `__`): the log-normal of their tokenised sample lengths and the longest sample, each with its
 * `sources`. They decide how long an unpacked micro-batch is (padded to its longest sample) and how long the
 * longest row of a run gets (the memory peak), and how many documents a packed row holds.
 */
import { dataFiles } from '../io/files.ts';

export interface DatasetProfile {
  id: string;
  aliases: string[];
  /** Log-normal sample lengths in tokens; `max_tokens` is the longest sample of the dataset. */
  documentLength: { meanTokens: number; sigma: number; maxTokens?: number };
  sources: string[];
}

let cache: Map<string, DatasetProfile> | undefined;

function load(): Map<string, DatasetProfile> {
  if (cache) return cache;
  const map = new Map<string, DatasetProfile>();
  for (const { name, text } of dataFiles('src/config/datasets')) {
    const raw = JSON.parse(text) as { id?: string; aliases?: string[]; document_length: { mean_tokens: number; sigma: number; max_tokens?: number }; sources?: string[] };
    const id = raw.id ?? name.slice(0, -'.json'.length).replace('__', '/');
    const dl = raw.document_length;
    const profile: DatasetProfile = {
      id,
      aliases: raw.aliases ?? [],
      documentLength: { meanTokens: dl.mean_tokens, sigma: dl.sigma, ...(dl.max_tokens !== undefined ? { maxTokens: dl.max_tokens } : {}) },
      sources: raw.sources ?? [],
    };
    map.set(id.toLowerCase(), profile);
  }
  // Aliases never shadow an id that has a file of its own.
  for (const p of [...map.values()]) for (const a of p.aliases) if (!map.has(a.toLowerCase())) map.set(a.toLowerCase(), p);
  cache = map;
  return map;
}

/** The profile of a dataset id or alias (case-insensitive), or undefined. */
export function datasetProfile(id: string): DatasetProfile | undefined {
  return load().get(id.trim().toLowerCase());
}

/** Every id and alias a profile answers to, longest first (so a longer name wins a text search). */
export function datasetNames(): string[] {
  return [...load().keys()].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/**
 * The one profile every entry of Axolotl's `datasets:` list names (`path:` of each entry, or a bare string),
 * or undefined when the list is empty, names an unprofiled dataset, or mixes datasets with different profiles
 * (a mixture's lengths are not modelled: the default distribution applies).
 */
export function profileOfDatasets(datasets: unknown): DatasetProfile | undefined {
  if (!Array.isArray(datasets) || datasets.length === 0) return undefined;
  const profiles = datasets.map((d) => {
    const path = typeof d === 'string' ? d : d !== null && typeof d === 'object' ? (d as { path?: unknown }).path : undefined;
    return typeof path === 'string' ? datasetProfile(path) : undefined;
  });
  const first = profiles[0];
  return first && profiles.every((p) => p === first) ? first : undefined;
}
