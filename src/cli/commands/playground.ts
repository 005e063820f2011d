import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { basename, dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument, type Document } from 'yaml';
import { loadScenarioFile, type SimulationOverrides } from '../../config/index.ts';
import { deepSpeedConfigPath, loadDeepSpeedConfig } from '../../config/deepspeed.ts';
import { PYYAML_OPTIONS } from '../../config/yaml.ts';
import { readTextFile } from '../../io/files.ts';
import { canonicalCatalogId } from '../../model/catalog.ts';
import { readLocalConfig } from '../../model/load.ts';
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

/**
 * The scenario's YAML with the CLI overrides written into `simulation:` and every file it names inlined.
 * The files are found as the simulator finds them (config/deepspeed.ts: the working directory first, as
 * Axolotl opens the path; model/load.ts: a folder's config.json), from the values after YAML merge keys.
 */
export function selfContainedYaml(path: string, overrides: SimulationOverrides = {}): string {
  // Validates it and resolves merge keys (bad input: one line, exit 2).
  const loaded = loadScenarioFile(path, overrides);
  const text = readTextFile(path, { what: 'scenario file', fix: 'check the path (e.g. scenarios/llama-3.1-8b-ddp-8xh100.yaml)', heapBytesPerByte: 100 });
  const doc = parseDocument(text, PYYAML_OPTIONS);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) doc.setIn(['simulation', k], v);
  const ds = loaded.input.deepspeed;
  if (typeof ds === 'string') inlineDeepSpeed(doc, ds, loaded.baseDir);
  const base = loaded.input.base_model;
  if (typeof base === 'string' && !canonicalCatalogId(base)) inlineModelFolder(doc, base, loaded.baseDir, loaded.input.model_config);
  const hw = doc.getIn(['simulation', 'hardware']);
  if (typeof hw === 'string' && (hw.endsWith('.json') || hw.includes('/'))) {
    throw new ShardsimError(`the playground has only the bundled hardware profiles, not "${hw}"`, { key: 'simulation.hardware', fix: 'use a profile id (`shardsim list hardware`), or add the file to hardware-profiles/ and run `npm run build`' });
  }
  return doc.toString({ lineWidth: 0 });
}

function inlineDeepSpeed(doc: Document, ds: string, baseDir: string): void {
  const file = deepSpeedConfigPath(ds, baseDir);
  loadDeepSpeedConfig(ds, baseDir); // checked (bounded, UTF-8, valid JSON and DeepSpeed keys) before it moves
  const json = JSON.parse(readTextFile(file, { what: 'DeepSpeed config', key: 'deepspeed', fix: 'give a path to a DeepSpeed JSON file', heapBytesPerByte: 10 })) as Record<string, unknown>;
  // A key set at the top level wins over one from a YAML merge key (`<<: *defaults`), as in PyYAML.
  doc.set('deepspeed', doc.createNode(json));
  doc.commentBefore = `${doc.commentBefore ? `${doc.commentBefore}\n` : ''} deepspeed: inlined from ${ds}`;
}

/** base_model naming a local folder: its config.json becomes model_config (inline keys still win, one level deep as src/model/load.ts merges). */
function inlineModelFolder(doc: Document, base: string, baseDir: string, own: Record<string, unknown> = {}): void {
  const folder = readLocalConfig(base, baseDir);
  if (!folder) return;
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
