/**
 * Typed reads of Hugging Face config.json keys with the transformers defaults, raising a one-line
 * ShardsimError that names the key (as `model_config.<key>`) when a value is missing or malformed.
 */
import { ShardsimError } from '../util/errors.ts';

export type HfConfig = Record<string, unknown>;

export function keyName(key: string): string {
  return `model_config.${key}`;
}

/** A reader bound to one config and the model id used in messages. */
export class ConfigReader {
  constructor(
    readonly cfg: HfConfig,
    readonly id: string,
  ) {}

  has(key: string): boolean {
    return this.cfg[key] !== undefined && this.cfg[key] !== null;
  }

  /** A required positive integer (key missing or null → error naming it). */
  reqInt(key: string): number {
    const v = this.cfg[key];
    if (v === undefined || v === null) {
      throw new ShardsimError(`missing required key "${key}" in the config of ${this.id}`, {
        key: keyName(key),
        fix: `add "${key}" (a positive integer) to model_config or the model's config.json`,
      });
    }
    return this.checkInt(v, key);
  }

  /** An optional positive integer: absent or null → fallback. */
  optInt(key: string, fallback: number): number {
    const v = this.cfg[key];
    return v === undefined || v === null ? fallback : this.checkInt(v, key);
  }

  /** An optional non-negative integer (0 allowed): absent or null → fallback. */
  optCount(key: string, fallback: number): number {
    const v = this.cfg[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ShardsimError(`must be a whole number ≥ 0, got ${JSON.stringify(v)} (config of ${this.id})`, { key: keyName(key) });
    }
    return v;
  }

  checkInt(v: unknown, key: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ShardsimError(`must be a positive integer, got ${JSON.stringify(v)} (config of ${this.id})`, { key: keyName(key) });
    }
    return v;
  }

  optBool(key: string, fallback: boolean): boolean {
    const v = this.cfg[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      throw new ShardsimError(`must be true or false, got ${JSON.stringify(v)} (config of ${this.id})`, { key: keyName(key) });
    }
    return v;
  }

  optNumber(key: string, fallback: number): number {
    const v = this.cfg[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !(v > 0)) {
      throw new ShardsimError(`must be a positive number, got ${JSON.stringify(v)} (config of ${this.id})`, { key: keyName(key) });
    }
    return v;
  }

  optString(key: string, fallback: string): string {
    const v = this.cfg[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw new ShardsimError(`must be a string, got ${JSON.stringify(v)} (config of ${this.id})`, { key: keyName(key) });
    return v;
  }

  /** A nested object (absent → {}). */
  optObject(key: string): HfConfig {
    const v = this.cfg[key];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new ShardsimError(`must be an object (config of ${this.id})`, { key: keyName(key) });
    return v as HfConfig;
  }

  /** head_dim given → used as is; else hidden must split evenly into heads. */
  headDim(hidden: number, heads: number, hiddenKey: string, headsKey: string): number {
    if (this.has('head_dim')) return this.checkInt(this.cfg.head_dim, 'head_dim');
    if (hidden % heads !== 0) {
      throw new ShardsimError(`${hiddenKey}=${hidden} is not divisible by ${headsKey}=${heads} (config of ${this.id})`, {
        key: keyName(headsKey),
        fix: 'give head_dim explicitly or fix the head count',
      });
    }
    return hidden / heads;
  }

  checkKvHeads(heads: number, kv: number, kvKey: string): void {
    if (heads % kv !== 0) {
      throw new ShardsimError(`${kvKey}=${kv} must divide the number of attention heads (${heads}) (config of ${this.id})`, { key: keyName(kvKey) });
    }
  }
}
