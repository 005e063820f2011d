import { ensureDir, writeFileAtomic } from '../util/output.ts';
import { join } from 'node:path';
import { renderVegaLite } from '../report/render.ts';
import { ShardsimError } from '../util/errors.ts';
import { heatmapSpec, paretoSpec, variedKeys } from './charts.ts';
import { sweepCsv } from './csv.ts';
import { HARDWARE_KEY, NODES_KEY } from './grid.ts';
import type { SweepMeta, SweepRow } from './types.ts';

/** `--heatmap x,y`: accepts `hardware` and `nodes` for the two simulation axes. */
export function heatmapKeys(meta: SweepMeta, rows: readonly SweepRow[], requested?: string): [string, string | undefined] | undefined {
  const all = [HARDWARE_KEY, NODES_KEY, ...meta.keys];
  if (requested !== undefined) {
    const alias = (k: string) => (k === 'hardware' ? HARDWARE_KEY : k === 'nodes' ? NODES_KEY : k);
    const parts = requested.split(',').map((s) => alias(s.trim()));
    if (parts.length < 1 || parts.length > 2 || parts.some((p) => !all.includes(p))) {
      throw new ShardsimError(`--heatmap "${requested}" must name one or two swept keys`, { fix: `choose from ${['hardware', 'nodes', ...meta.keys].join(', ')}` });
    }
    return [parts[0]!, parts[1]];
  }
  const varied = variedKeys(meta.keys, rows);
  if (varied.length === 0) return undefined;
  return [varied[0]!, varied[1]];
}

/**
 * The report folder of a sweep: `sweep.csv`, a heatmap of tokens/s per GPU over two keys and the
 * throughput-vs-cost Pareto chart, each as `.vl.json`, `.svg` and `.png`. Returns the files written.
 */
export async function writeSweepReport(dir: string, meta: SweepMeta, rows: readonly SweepRow[], opts: { heatmap?: string } = {}): Promise<string[]> {
  ensureDir(dir, '--out');
  const files: string[] = [];
  const csvPath = join(dir, 'sweep.csv');
  writeFileAtomic(csvPath, sweepCsv(rows, meta.keys), '--out');
  files.push(csvPath);
  const charts: [string, object][] = [];
  const hk = heatmapKeys(meta, rows, opts.heatmap);
  if (hk) charts.push(['heatmap', heatmapSpec(rows, meta.keys, hk[0], hk[1], meta.base)]);
  if (rows.some((r) => r.metrics?.fits)) charts.push(['pareto', paretoSpec(rows, meta.keys, meta.base)]);
  files.push(...(await writeCharts(dir, charts)));
  return files;
}

/**
 * Writes each spec as `<name>.vl.json` and renders it to `.svg` and `.png`. The spec is written first
 * so that a rendering failure (reported on stderr) still leaves the chart's data and definition behind
 * and never loses the simulation results printed before it.
 */
export async function writeCharts(dir: string, charts: [name: string, spec: object][]): Promise<string[]> {
  ensureDir(dir, '--out');
  const files: string[] = [];
  for (const [name, spec] of charts) {
    const base = join(dir, name);
    writeFileAtomic(`${base}.vl.json`, JSON.stringify(spec, null, 2) + '\n', '--out');
    try {
      const r = await renderVegaLite(spec, base);
      files.push(r.pngPath, r.svgPath, r.specPath);
    } catch (err) {
      process.stderr.write(`warning: could not render ${base}.png (${(err as Error)?.message ?? String(err)}); the Vega-Lite spec is in ${base}.vl.json\n`);
      files.push(`${base}.vl.json`);
    }
  }
  return files;
}
