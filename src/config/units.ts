import { ShardsimError } from '../util/errors.ts';

/**
 * Human units at the edge: '25 MB', '400 Gb/s', '1.5 us'. mathjs is loaded from its single-file bundle
 * (the ESM tree costs ~1 s to import) and only when a string actually needs parsing.
 */
type MathJs = { unit: (s: string) => { toNumber: (u: string) => number } };
let mathjs: MathJs | undefined;
async function loadMath(): Promise<MathJs> {
  if (!mathjs) {
    const mod = (await import('mathjs/lib/browser/math.js')) as unknown as { default?: MathJs } & MathJs;
    mathjs = mod.default ?? mod;
  }
  return mathjs;
}

async function parseUnit(value: unknown, key: string, target: string, example: string, what: string): Promise<number> {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value)) throw new ShardsimError(`must be a positive ${what}, got ${value}`, { key, fix: `write it like "${example}"` });
    return value;
  }
  if (typeof value !== 'string') throw new ShardsimError(`must be a ${what} like "${example}"`, { key });
  let n: number;
  try {
    n = (await loadMath()).unit(value.trim()).toNumber(target);
  } catch {
    throw new ShardsimError(`cannot read "${value}" as a ${what}`, { key, fix: `write it like "${example}" (b = bit, B = byte)` });
  }
  if (!(n > 0) || !Number.isFinite(n)) throw new ShardsimError(`must be positive, got "${value}"`, { key, fix: `write it like "${example}"` });
  return n;
}

/** Bytes per second; a bare number is taken as bytes/s. */
export const parseBandwidth = (value: unknown, key: string) => parseUnit(value, key, 'B/s', '400 Gb/s', 'bandwidth');
/** Bytes; a bare number is taken as bytes. */
export const parseBytes = (value: unknown, key: string) => parseUnit(value, key, 'B', '25 MB', 'size');
