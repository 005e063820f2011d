import { beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachedDataVersionTag } from 'node:v8';

// Each compile runs in a fresh process (test/helpers/code-cache-child.ts): within one process V8 reuses
// what it compiled before and never reads the cache file again.
const child = fileURLToPath(new URL('../helpers/code-cache-child.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let dir: string;
let cacheDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardsim-code-cache-'));
  cacheDir = join(dir, 'cache');
});

function run(args: string[], env: Record<string, string> = {}): { state: string; result?: number } {
  const out = execFileSync(process.execPath, ['--import', tsx, child, ...args], { encoding: 'utf8', env: { ...process.env, SHARDSIM_CODE_CACHE_DIR: cacheDir, SHARDSIM_CODE_CACHE: '', ...env } });
  return JSON.parse(out) as { state: string; result?: number };
}

/** A script of 50 small functions returning Σ (base × factor + i). */
function script(file: string, factor: number): string {
  const source = `${Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x * ${factor} + ${i}; }`).join('\n')}\nreturn [${Array.from({ length: 50 }, (_, i) => `f${i}`).join(', ')}].reduce((s, f) => s + f(base), 0);`;
  writeFileSync(file, source);
  return source;
}
const sum = (base: number, factor: number) => 50 * base * factor + (49 * 50) / 2;

describe('compileWithCodeCache', () => {
  it('compiles without a cache and writes one; the next process compiles from it, with the same result', () => {
    const file = join(dir, 'a.js');
    script(file, 3);
    expect(run(['compile', file, '2'])).toEqual({ state: 'miss', result: sum(2, 3) });
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^a\\.js-[0-9a-f]{8}-test-\\d+-\\d+-${cachedDataVersionTag()}\\.bin$`));
    expect(run(['compile', file, '2'])).toEqual({ state: 'hit', result: sum(2, 3) });
  });

  it('never uses the cache of an older version of the file, even one of the same length, and removes it', () => {
    const file = join(dir, 'b.js');
    const old = script(file, 3);
    utimesSync(file, new Date(1_000_000), new Date(1_000_000));
    run(['compile', file, '2']);
    const stale = readdirSync(cacheDir);
    // Same length, another constant: V8 alone would accept the old bytecode for it.
    expect(script(file, 7).length).toBe(old.length);
    expect(run(['compile', file, '2'])).toEqual({ state: 'miss', result: sum(2, 7) });
    const now = readdirSync(cacheDir);
    expect(now).toHaveLength(1);
    expect(now).not.toEqual(stale);
  });

  it('treats a corrupt cache file as none and replaces it', () => {
    const file = join(dir, 'c.js');
    script(file, 2);
    run(['compile', file, '1']);
    const [name] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, name!), 'not V8 code cache data');
    expect(run(['compile', file, '1'])).toEqual({ state: 'rejected', result: sum(1, 2) });
    expect(run(['compile', file, '1'])).toEqual({ state: 'hit', result: sum(1, 2) });
  });

  it('runs uncached when the cache folder cannot be written, and when turned off', () => {
    const file = join(dir, 'd.js');
    script(file, 1);
    writeFileSync(cacheDir, 'a file where the folder should be');
    expect(run(['compile', file, '0'])).toEqual({ state: 'miss', result: sum(0, 1) });
    expect(run(['compile', file, '1'], { SHARDSIM_CODE_CACHE: '0' })).toEqual({ state: 'off', result: sum(1, 1) });
  });
});

describe('runCommonJsWithCodeCache', () => {
  it('runs a CommonJS file with its own require, module, __filename and __dirname and `this`, from the cache the second time', () => {
    const file = join(dir, 'm.cjs');
    const out = join(dir, 'out.json');
    writeFileSync(file, `const { writeFileSync } = require('node:fs');\nmodule.exports.x = 1;\nwriteFileSync(${JSON.stringify(out)}, JSON.stringify({ file: __filename, dir: __dirname, thisIsExports: this === module.exports }));`);
    expect(run(['commonjs', file])).toEqual({ state: 'miss' });
    expect(run(['commonjs', file])).toEqual({ state: 'hit' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ file, dir, thisIsExports: true });
  });
});
