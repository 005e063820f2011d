import { readFileSync } from 'node:fs';
import { ensureDir, writeFileAtomic } from '../util/output.ts';
import { join } from 'node:path';
import type { MetricName, ValidationReport } from '../validate/index.ts';
import { renderVegaLite } from './render.ts';
import { errorBySpec, scatterSpec } from './validation-charts.ts';
import { validationTable } from './validation-table.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The validation report folder: for each metric with data, a predicted-vs-measured scatter and error by
 * model size / GPU count (Vega-Lite → SVG + PNG), and `validation.html` with the SVGs inline (no script,
 * nothing loaded from the network) plus the full table.
 */
export async function writeValidationReport(report: ValidationReport, dir: string): Promise<string[]> {
  ensureDir(dir, '--out');
  const svgs: { title: string; svg: string }[] = [];
  const written: string[] = [];
  for (const metric of Object.keys(report.summary) as MetricName[]) {
    for (const [name, spec] of [
      [`${metric}-scatter`, scatterSpec(report.rows, metric)],
      [`${metric}-by-size`, errorBySpec(report.rows, metric, 'parameters')],
      [`${metric}-by-gpus`, errorBySpec(report.rows, metric, 'gpus')],
    ] as const) {
      const out = await renderVegaLite(spec, join(dir, name));
      written.push(out.pngPath);
      svgs.push({ title: name, svg: readFileSync(out.svgPath, 'utf8') });
    }
  }
  const summaryRows = Object.entries(report.summary)
    .map(([m, s]) => `<tr><td>${m}</td><td>${s.n}</td><td>${(100 * s.median_abs_error).toFixed(1)}%</td><td>${(100 * s.p90_abs_error).toFixed(1)}%</td><td>${(100 * s.bias).toFixed(1)}%</td></tr>`)
    .join('\n');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>shardsim validation</title>
<style>body{font-family:'DejaVu Sans',sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}pre{font-size:11px;overflow-x:auto}figure{display:inline-block;margin:1em}</style></head>
<body><h1>shardsim validation against published runs</h1>
<table><tr><th>metric</th><th>n</th><th>median |err|</th><th>p90 |err|</th><th>bias</th></tr>${summaryRows}</table>
${svgs.map((s) => `<figure>${s.svg}<figcaption>${esc(s.title)}</figcaption></figure>`).join('\n')}
<h2>Every row</h2><pre>${esc(validationTable(report))}</pre></body></html>`;
  const htmlPath = join(dir, 'validation.html');
  writeFileAtomic(htmlPath, html, '--out');
  writeFileAtomic(join(dir, 'validation.json'), JSON.stringify(report, null, 2) + '\n', '--out');
  return [htmlPath, ...written];
}
