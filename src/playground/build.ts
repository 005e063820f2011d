import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { dataFiles } from '../io/files.ts';
import { DATA_FOLDERS, type DataFile, type DataFolder } from '../io/data-folders.ts';
import { dejavuFontFiles } from '../report/fonts.ts';
import { vegaBundlePaths } from '../report/vega-bundles.ts';
import { projectRoot } from '../util/paths.ts';
import { playgroundHtml } from './page.ts';

/**
 * Builds playground/index.html (`npm run build`, and `shardsim playground` when the sources are newer):
 * esbuild bundles the worker (the whole simulation pipeline) and the page script for the browser, and
 * the page inlines them with vega, vega-lite, vega-embed and the DejaVu fonts.
 *
 * The I/O seam (docs/ARCHITECTURE.md): src/io/files.ts is replaced by files.browser.ts, and every *.json
 * of the data folders (src/io/data-folders.ts) is read now and inlined, so the bundle holds whatever
 * src/model/catalog/ and hardware-profiles/ hold at build time. `node:path` becomes pathe (the same
 * functions for POSIX paths); any other `node:` import fails the build with the module that asked for
 * it — file access in the pipeline goes through src/io/files.ts.
 */

export const PLAYGROUND_DIR = 'playground';
/** Folders whose files end up in the page: the build is stale when any of them is newer. */
const INPUT_DIRS = ['src', 'hardware-profiles', 'scenarios'];

/** The esbuild plugin that makes the pipeline a browser bundle (exported for its test). */
export function browserSeam(root: string): Plugin {
  const browserFiles = join(root, 'src', 'io', 'files.browser.ts');
  const browserHeap = join(root, 'src', 'util', 'heap.browser.ts');
  return {
    name: 'shardsim-browser-seam',
    setup(build) {
      build.onResolve({ filter: /[\\/]io[\\/]files(\.ts)?$/ }, () => ({ path: browserFiles }));
      // The input limits (src/pipeline/limits.ts) read V8's heap statistics through node:v8.
      build.onResolve({ filter: /[\\/]util[\\/]heap(\.ts)?$/ }, () => ({ path: browserHeap }));
      build.onResolve({ filter: /^node:path$/ }, () => ({ path: fileURLToPath(import.meta.resolve('pathe')) }));
      build.onResolve({ filter: /^node:/ }, (args) => ({
        errors: [{ text: `${args.importer} imports ${args.path}, which a browser does not have: read files through src/io/files.ts (the I/O seam)` }],
      }));
    },
  };
}

/** The inlined data: every *.json of every data folder. */
function inlinedData(): Record<DataFolder, DataFile[]> {
  return Object.fromEntries(DATA_FOLDERS.map((f) => [f, dataFiles(f)])) as Record<DataFolder, DataFile[]>;
}

/** The card scenarios offered in the page (scenarios/*.yaml, not the sweep bases). */
function scenarioPresets(root: string): { name: string; text: string }[] {
  const dir = join(root, 'scenarios');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ name: f.slice(0, -'.yaml'.length), text: readFileSync(join(dir, f), 'utf8') }));
}

async function bundle(root: string, entry: string, define: Record<string, string>): Promise<string> {
  // `require`, not `import()`: see render.ts (esbuild is a CommonJS package).
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(root, 'src', 'playground', entry)],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    define,
    plugins: [browserSeam(root)],
  });
  return out.outputFiles[0]!.text;
}

export interface BuiltPlayground {
  file: string;
  bytes: number;
  seconds: number;
}

/** Writes `<outDir>/index.html` (default: playground/ in the project). */
export async function buildPlayground(outDir = join(projectRoot(), PLAYGROUND_DIR)): Promise<BuiltPlayground> {
  const started = performance.now();
  const root = projectRoot();
  const [workerScript, appScript] = await Promise.all([
    bundle(root, 'worker.ts', { __SHARDSIM_DATA_FILES__: JSON.stringify(inlinedData()) }),
    bundle(root, 'app.ts', { __SHARDSIM_SCENARIOS__: JSON.stringify(scenarioPresets(root)) }),
  ]);
  const vega = vegaBundlePaths();
  const fonts = dejavuFontFiles();
  const html = playgroundHtml({
    fontRegularBase64: readFileSync(fonts.regular).toString('base64'),
    fontBoldBase64: readFileSync(fonts.bold).toString('base64'),
    vegaScripts: [vega.vega, vega.vegaLite, vega.vegaEmbed].map((p) => readFileSync(p, 'utf8')),
    appScript,
    workerScript,
  });
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'index.html');
  writeFileSync(file, html);
  return { file, bytes: Buffer.byteLength(html), seconds: (performance.now() - started) / 1e3 };
}

function newestMtimeMs(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}

/** True when playground/index.html is missing or older than a source, profile, catalog entry or scenario. */
export function playgroundIsStale(file = join(projectRoot(), PLAYGROUND_DIR, 'index.html')): boolean {
  let built: number;
  try {
    built = statSync(file).mtimeMs;
  } catch {
    return true;
  }
  const root = projectRoot();
  return INPUT_DIRS.some((d) => newestMtimeMs(join(root, d)) > built);
}

// `tsx src/playground/build.ts` (npm run build:playground).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ? join(process.cwd(), process.argv[2]) : undefined;
  // No top-level await: the CLI bundle that holds this module is CommonJS.
  void buildPlayground(out).then((built) => process.stdout.write(`playground: ${built.file} (${(built.bytes / 2 ** 20).toFixed(1)} MiB, ${built.seconds.toFixed(1)} s)\n`));
}
