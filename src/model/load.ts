/**
 * Resolve an Axolotl `base_model` (+ optional inline `model_config`) to a ModelSpec.
 *
 * Order: base_model is looked up in the catalog (case-insensitive), else as a local folder holding a
 * config.json (relative to baseDir), else — only when model_config is given — it is just the name of the
 * inline config. Inline model_config keys override the base config's keys (nested objects such as mpt's
 * attn_config are merged one level deep).
 */
import { resolve, join } from 'node:path';
import { pathKind, readTextFile } from '../io/files.ts';
import { ShardsimError } from '../util/errors.ts';
import { canonicalCatalogId, catalogConfig, suggestCatalogIds } from './catalog.ts';
import { specFromHfConfig } from './hf-config.ts';
import type { ModelSpec } from './types.ts';

export interface LoadModelOptions {
  baseModel?: string;
  modelConfig?: Record<string, unknown>;
  /** Folder that relative base_model paths resolve against (the config file's folder); default cwd. */
  baseDir?: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? { ...b, ...v } : v;
  }
  return out;
}

/** The config.json of a local model folder (or a path straight to a .json file); undefined when there is none. */
export function localModelConfigFile(baseModel: string, baseDir: string): string | undefined {
  const path = resolve(baseDir, baseModel);
  const kind = pathKind(path);
  if (kind === 'directory' && pathKind(join(path, 'config.json')) === 'file') return join(path, 'config.json');
  if (kind === 'file' && path.endsWith('.json')) return path;
  return undefined;
}

/** A local model folder's config.json, parsed; undefined when there is none. */
export function readLocalConfig(baseModel: string, baseDir: string): Record<string, unknown> | undefined {
  const file = localModelConfigFile(baseModel, baseDir);
  if (!file) return undefined;
  // Bounded, regular files only, UTF-8 only; its own one-line error (util/read-text.ts).
  const text = readTextFile(file, { what: 'model config', key: 'base_model', fix: 'point base_model at a folder with a config.json', heapBytesPerByte: 10 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ShardsimError(`${file} is not valid JSON: ${(e as Error).message.split('\n')[0]}`, { key: 'base_model', fix: 'fix the JSON syntax of the model config' });
  }
  if (!isPlainObject(parsed)) {
    throw new ShardsimError(`${file} is not a JSON object`, { key: 'base_model' });
  }
  return parsed;
}

export function loadModel(opts: LoadModelOptions): ModelSpec {
  const { baseModel, modelConfig } = opts;
  const baseDir = opts.baseDir ?? process.cwd();
  if (modelConfig !== undefined && !isPlainObject(modelConfig)) {
    throw new ShardsimError('must be a mapping of Hugging Face config.json keys', { key: 'model_config' });
  }
  if (baseModel === undefined || baseModel.trim() === '') {
    if (modelConfig) return specFromHfConfig(modelConfig, 'inline');
    throw new ShardsimError('no model given', {
      key: 'base_model',
      fix: 'set base_model to a catalog id or a folder with a config.json, or give model_config',
    });
  }
  const catalogId = canonicalCatalogId(baseModel);
  let base: Record<string, unknown> | undefined;
  let id = baseModel;
  if (catalogId) {
    base = catalogConfig(catalogId);
    id = catalogId;
  } else {
    base = readLocalConfig(baseModel, baseDir);
  }
  if (!base) {
    if (modelConfig) return specFromHfConfig(modelConfig, baseModel);
    const near = suggestCatalogIds(baseModel, 3);
    throw new ShardsimError(
      `unknown model "${baseModel}" — closest catalog ids: ${near.join(', ')} ` +
        '(or point base_model at a folder with a config.json, or give model_config)',
      { key: 'base_model' },
    );
  }
  return specFromHfConfig(modelConfig ? merge(base, modelConfig) : base, id);
}
