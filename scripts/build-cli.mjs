// npm run build:cli — the CLI's esbuild bundles in dist/ (run by `npm install` through the prepare script):
// - dist/main.cjs: the whole CLI as one CommonJS file, which bin/shardsim.js runs compiled through V8's
//   code cache (src/util/code-cache.ts; Node 20 has a code cache only for scripts, not ES modules);
// - dist/code-cache.cjs: that loader, on its own so bin/shardsim.js can load it first;
// - dist/worker.js: the sweep's worker thread (an ES module, as piscina starts it).
// Packages with files read at run time (vega's UMD builds, resvg's native addon) stay outside.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const external = ['@resvg/resvg-js', 'vega', 'vega-lite', 'vega-embed', 'piscina', 'tsx', 'esbuild'];
const common = { bundle: true, platform: 'node', target: 'node20', external, logLevel: 'warning' };

// Outputs of older builds (the ES-module bundle's chunks) would otherwise pile up.
rmSync(dist, { recursive: true, force: true });

await Promise.all([
  ...[
    ['src/cli/main.ts', 'main.cjs'],
    ['src/util/code-cache.ts', 'code-cache.cjs'],
  ].map(([entry, out]) =>
    build({
      ...common,
      entryPoints: [join(root, entry)],
      outfile: join(dist, out),
      format: 'cjs',
      // What `import.meta` gives the sources as ES modules, from CommonJS's __filename and require.
      inject: [join(root, 'scripts', 'cjs-import-meta.js')],
      define: { 'import.meta.url': 'importMetaUrl', 'import.meta.resolve': 'importMetaResolve' },
    }),
  ),
  build({
    ...common,
    entryPoints: [join(root, 'src', 'sweep', 'worker.ts')],
    outfile: join(dist, 'worker.js'),
    format: 'esm',
    // Bundled CommonJS dependencies call require().
    banner: { js: "import { createRequire as __shardsimCreateRequire } from 'node:module'; const require = __shardsimCreateRequire(import.meta.url);" },
  }),
]);

// A script compiled from V8's code cache has no dynamic-import callback in Node 20: an `import()` left in
// a CommonJS bundle (esbuild keeps those of external packages and node: modules) would fail at run time,
// and only once the cache exists. The sources `require` such modules through createRequire instead.
for (const out of ['main.cjs', 'code-cache.cjs']) {
  const text = readFileSync(join(dist, out), 'utf8');
  const found = /\bimport\(\s*["'`][^"'`]*["'`]\s*\)/.exec(text);
  if (found) {
    console.error(`build-cli: dist/${out} keeps a dynamic ${found[0]}: require it through createRequire (src/util/code-cache.ts says why)`);
    process.exit(1);
  }
}
