import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { cachedDataVersionTag } from 'node:v8';
import { Script } from 'node:vm';
import { projectRoot } from './paths.ts';

/**
 * V8's code cache for the large scripts a run compiles: the CLI bundle (dist/main.cjs, ~3 MB) and vega's
 * UMD builds (~1 MB). Node 22 keeps such a cache for every module (`module.enableCompileCache()`); Node 20
 * has only `vm.Script`'s `cachedData`, hence this module. A cache is the bytecode of the script's
 * functions, taken when the first run exits, so it holds every function that run compiled lazily, not
 * only the top level; later runs deserialise it instead of parsing and compiling. It changes how fast
 * code starts, never what it computes.
 *
 * One file per script (its name and a digest of its folder), caller's variant and V8 configuration, named by
 * - the script's size and mtime: V8 itself checks only the source's length, and a cache of another
 *   source of the same length would run the wrong code;
 * - `v8.cachedDataVersionTag()`: V8's version, its flags (bin/shardsim.js raises the tier-up budget of
 *   `simulate`, which V8 would otherwise reject the cache for) and the CPU's features;
 * - the variant: the CLI's command, since each command compiles different functions.
 * A cache that cannot be read or written (a read-only install, a full disk) leaves the run uncached.
 * `SHARDSIM_CODE_CACHE=0` turns it off; `SHARDSIM_CODE_CACHE_DIR` moves it.
 */

export type CodeCacheState = 'off' | 'hit' | 'miss' | 'rejected';

export interface CachedScript<F> {
  fn: F;
  /** Whether the compile used a cache: `miss` and `rejected` write one at exit (or at `flushCodeCaches`). */
  state: CodeCacheState;
}

/** Where the caches live: node_modules/.cache, the usual place for a package's derived files. */
export function codeCacheDir(): string {
  return process.env.SHARDSIM_CODE_CACHE_DIR || join(projectRoot(), 'node_modules', '.cache', 'shardsim-code');
}

interface Pending {
  compiled: Script;
  dir: string;
  /** The cache file's name: `${prefix}${variant}-${build}-${tag}.bin`. */
  name: string;
  /** What every cache of the same script starts with, whatever its variant. */
  prefix: string;
  /** `${size}-${mtime}` of the script this cache is of. */
  build: string;
}

const pending: Pending[] = [];
let exitHook = false;

/**
 * `source` compiled as `(function (params) { source })`, from a cache of an earlier run when there is a
 * valid one. The function runs in this context; the script must not use dynamic `import()` (a script
 * compiled from a cache has no dynamic-import callback in Node 20).
 */
export function compileWithCodeCache<F extends (...args: never[]) => unknown>(file: string, source: string, params: readonly string[], variant: string): CachedScript<F> {
  const wrapped = `(function (${params.join(', ')}) {${source}\n})`;
  if (process.env.SHARDSIM_CODE_CACHE === '0') return { fn: new Script(wrapped, { filename: file }).runInThisContext() as F, state: 'off' };
  const { size, mtimeMs } = statSync(file);
  // The folder's digest keeps apart copies of the same file in two checkouts that share a cache folder.
  const prefix = `${basename(file)}-${fnv1a(dirname(file))}-`;
  const build = `${size}-${Math.floor(mtimeMs)}`;
  const name = `${prefix}${variant}-${build}-${cachedDataVersionTag()}.bin`;
  const dir = codeCacheDir();
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(join(dir, name));
  } catch {
    cachedData = undefined;
  }
  const compiled = new Script(wrapped, { filename: file, cachedData });
  const state: CodeCacheState = cachedData === undefined ? 'miss' : compiled.cachedDataRejected ? 'rejected' : 'hit';
  if (state !== 'hit') {
    pending.push({ compiled, dir, name, prefix, build });
    if (!exitHook) {
      exitHook = true;
      process.once('exit', flushCodeCaches);
    }
  }
  return { fn: compiled.runInThisContext() as F, state };
}

/** 32-bit FNV-1a of a string's UTF-16 units, as 8 hex digits: node:crypto would cost its load at every start. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** Writes the caches this process still owes (on exit, so they hold what the run compiled), and removes stale ones. */
export function flushCodeCaches(): void {
  for (const p of pending.splice(0)) {
    try {
      mkdirSync(p.dir, { recursive: true });
      // Written whole, then renamed: a concurrent run reads the old file or the new one, never a part.
      const tmp = join(p.dir, `${p.name}.${process.pid}.tmp`);
      writeFileSync(tmp, p.compiled.createCachedData());
      renameSync(tmp, join(p.dir, p.name));
      // A cache of the same file with another size or mtime, whatever its variant, is of an older build.
      for (const other of readdirSync(p.dir)) {
        if (other.startsWith(p.prefix) && other.endsWith('.bin') && other.split('-').slice(-3, -1).join('-') !== p.build) unlinkSync(join(p.dir, other));
      }
    } catch {
      // No cache this time: the next run compiles as usual.
    }
  }
}

/** Runs a CommonJS file (the CLI bundle) as `require` would, compiled through the code cache. */
export function runCommonJsWithCodeCache(file: string, variant: string): CodeCacheState {
  type Wrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const { fn, state } = compileWithCodeCache<Wrapper>(file, readFileSync(file, 'utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], variant);
  const module = { exports: {} };
  // `this` at a CommonJS file's top level is its exports.
  Reflect.apply(fn, module.exports, [module.exports, createRequire(file), module, file, dirname(file)]);
  return state;
}
