import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileWithCodeCache } from '../util/code-cache.ts';

/**
 * The single-file UMD builds of vega, vega-lite and vega-embed. report.html inlines them, and the PNG
 * renderer loads the same two files into Node, so a chart is drawn by the same code in both places.
 *
 * Why not `import('vega')`: the ESM entry pulls in ~40 packages, which under tsx takes 0.5–0.6 s for
 * vega and as long again for vega-lite; the UMD files load in ~50 ms each. The packages are ESM-only
 * with strict `exports`, so the files are found from the resolved entry point (ecosystem.md §1.4).
 */
export interface VegaBundlePaths {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
}

export function vegaBundlePaths(): VegaBundlePaths {
  const buildDir = (pkg: string) => fileURLToPath(new URL('.', import.meta.resolve(pkg)));
  return {
    vega: `${buildDir('vega')}vega.min.js`,
    vegaLite: `${buildDir('vega-lite')}vega-lite.min.js`,
    vegaEmbed: `${buildDir('vega-embed')}vega-embed.min.js`,
  };
}

export interface VegaModules {
  vega: typeof import('vega');
  vegaLite: typeof import('vega-lite');
}

let loaded: VegaModules | undefined;

/**
 * Runs a UMD file through its CommonJS branch with our own `exports` and `require`. Not `require()`:
 * the packages say "type": "module", so Node ≥ 20.19 would load the file as an ES module, where the
 * UMD wrapper finds no `exports` and writes to globalThis instead. Compiled through V8's code cache
 * (util/code-cache.ts): parsing and compiling the two files was ~50–90 ms of a report.
 */
function evaluateUmd(path: string, deps: Record<string, unknown>): Record<string, unknown> {
  const exportsObject: Record<string, unknown> = {};
  type Factory = (e: object, m: object, r: (id: string) => unknown) => void;
  const { fn: factory } = compileWithCodeCache<Factory>(path, readFileSync(path, 'utf8'), ['exports', 'module', 'require'], 'umd');
  factory(exportsObject, { exports: exportsObject }, (id) => {
    if (id in deps) return deps[id];
    throw new Error(`${path} asked for "${id}"`);
  });
  return exportsObject;
}

/** vega and vega-lite from their UMD builds (loaded once per process). */
export function loadVegaBundles(): VegaModules {
  if (loaded) return loaded;
  const paths = vegaBundlePaths();
  const vega = evaluateUmd(paths.vega, {}) as unknown as typeof import('vega');
  // vega-lite's bundle requires "vega": hand it the same UMD vega, not the ESM entry.
  const vegaLite = evaluateUmd(paths.vegaLite, { vega }) as unknown as typeof import('vega-lite');
  loaded = { vega, vegaLite };
  return loaded;
}
