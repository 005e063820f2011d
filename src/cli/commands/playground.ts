import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMap, parseDocument, type Document } from 'yaml';
import { loadScenarioFile, type SimulationOverrides } from '../../config/index.ts';
import { canonicalCatalogId } from '../../model/catalog.ts';
import { encodeState } from '../../playground/share.ts';
import { ShardsimError } from '../../util/errors.ts';
import { projectRoot } from '../../util/paths.ts';
import { positiveInt, simulationOverrides } from '../options.ts';

/**
 * `shardsim playground [scenario]`: (re)builds playground/index.html when a source is newer, and opens
 * it — with the scenario in the URL fragment when one is given — or, without a display, prints its
 * file:// URL. A page cannot read files, so what the scenario points at (a DeepSpeed JSON, a model
 * folder's config.json) is inlined into the YAML it carries.
 */
export function registerPlayground(program: Command): void {
  program
    .command('playground')
    .description('open the interactive playground (playground/index.html) in a browser, optionally with a scenario loaded')
    .argument('[scenario]', 'Axolotl config YAML to load into the playground')
    .option('--hardware <id>', 'hardware profile id (see `shardsim list hardware`)')
    .option('--nodes <n>', 'number of nodes', positiveInt('nodes'))
    .option('--inter-node-bandwidth <bw>', 'what-if scale-out bandwidth per node, e.g. "400 Gb/s"')
    .option('--no-open', 'only print the URL, even when a display is available')
    .action(async (scenario: string | undefined, o: Record<string, unknown>) => {
      let fragment = '';
      if (scenario) {
        const overrides = simulationOverrides(o);
        // Validates it (bad input: one line, exit 2) before anything is built or opened.
        loadScenarioFile(scenario, overrides);
        const yaml = selfContainedYaml(scenario, overrides);
        fragment = `#${await encodeState({ name: basename(scenario, extname(scenario)), yaml })}`;
      }
      const page = join(projectRoot(), 'playground', 'index.html');
      const { buildPlayground, playgroundIsStale } = await import('../../playground/build.ts').catch(() => {
        throw new ShardsimError('cannot build the playground here', { fix: 'run `npm install` (or `npm run build`) in the shardsim folder first' });
      });
      if (playgroundIsStale(page)) {
        const built = await buildPlayground(dirname(page)).catch((e: Error) => {
          throw new ShardsimError(`cannot build the playground: ${e.message.split('\n')[0]}`, { fix: 'run `npm install` (it installs esbuild and builds playground/index.html)' });
        });
        process.stderr.write(`built ${built.file} (${(built.bytes / 2 ** 20).toFixed(1)} MiB, ${built.seconds.toFixed(1)} s)\n`);
      }
      const url = pathToFileURL(page).href + fragment;
      process.stdout.write(`playground: ${url}\n`);
      if (o.open !== false) openInBrowser(url);
    });
}

/** The scenario's YAML with the CLI overrides written into `simulation:` and every file it names inlined. */
export function selfContainedYaml(path: string, overrides: SimulationOverrides = {}): string {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  const baseDir = dirname(resolve(path));
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) doc.setIn(['simulation', k], v);
  inlineDeepSpeed(doc, baseDir);
  inlineModelFolder(doc, baseDir);
  const hw = doc.getIn(['simulation', 'hardware']);
  if (typeof hw === 'string' && (hw.endsWith('.json') || hw.includes('/'))) {
    throw new ShardsimError(`the playground has only the bundled hardware profiles, not "${hw}"`, { key: 'simulation.hardware', fix: 'use a profile id (`shardsim list hardware`), or add the file to hardware-profiles/ and run `npm run build`' });
  }
  return doc.toString({ lineWidth: 0 });
}

function inlineDeepSpeed(doc: Document, baseDir: string): void {
  const ds = doc.get('deepspeed');
  if (typeof ds !== 'string') return;
  // loadScenarioFile has already read and checked it; here it only moves into the YAML.
  const json = JSON.parse(readFileSync(resolve(baseDir, ds), 'utf8')) as Record<string, unknown>;
  doc.set('deepspeed', doc.createNode(json));
  doc.commentBefore = `${doc.commentBefore ? `${doc.commentBefore}\n` : ''} deepspeed: inlined from ${ds}`;
}

/** base_model naming a local folder: its config.json becomes model_config (inline keys still win, one level deep as src/model/load.ts merges). */
function inlineModelFolder(doc: Document, baseDir: string): void {
  const base = doc.get('base_model');
  if (typeof base !== 'string' || canonicalCatalogId(base)) return;
  const dir = resolve(baseDir, base);
  const file = existsSync(dir) && statSync(dir).isDirectory() ? join(dir, 'config.json') : dir.endsWith('.json') ? dir : undefined;
  if (!file || !existsSync(file)) return;
  const folder = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const inline = doc.get('model_config', true);
  const own = isMap(inline) ? (inline.toJSON() as Record<string, unknown>) : {};
  const merged: Record<string, unknown> = { ...folder };
  for (const [k, v] of Object.entries(own)) {
    const b = merged[k];
    const plain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    merged[k] = plain(b) && plain(v) ? { ...b, ...v } : v;
  }
  doc.set('model_config', doc.createNode(merged));
}

/** xdg-open / open when there is a display; otherwise the printed URL is the answer. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'linux' && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) ? 'xdg-open' : undefined;
  if (!opener) {
    process.stderr.write('no display: open the URL above in a browser\n');
    return;
  }
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => process.stderr.write(`could not run ${opener}: open the URL above in a browser\n`));
  child.unref();
}
