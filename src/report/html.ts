import { readFileSync } from 'node:fs';
import type { SimulationResult } from '../metrics/result.ts';
import { bytesHuman, count, gib, pct, seconds } from './format.ts';
import { vegaBundlePaths } from './vega-bundles.ts';

/**
 * report.html: one self-contained page — summary table, the explanation, every chart interactive
 * (vega-embed, tooltips, pan/zoom) — that loads nothing from the network: vega, vega-lite and
 * vega-embed are inlined from node_modules (ecosystem.md §1.4). When every chart has rendered the page
 * sets document.title to "rendered"; any error is written into #render-errors (headless checks read both).
 */

export interface HtmlChart {
  id: string;
  title: string;
  spec: object;
  /** `spec` as compact JSON, when already serialised (saves serialising a large spec twice). */
  specJson?: string;
  /** The static PNG next to the page, linked for slides. */
  png?: string;
}

export interface HtmlReport {
  result: SimulationResult;
  explanation: string[];
  charts: HtmlChart[];
  /** Other files of the report folder, linked relative to the page. */
  files: { href: string; what: string }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Inline JavaScript must not contain "</script" or "<!--" (they end or confuse the script element). */
export const inlineScript = (js: string) => js.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');

/** Characters escaped at a time: a 16-GPU timeline spec is ~4 MB, escaped and written piece by piece. */
const ESCAPE_PIECE_CHARS = 1 << 18;

/**
 * The charts' `[{id, spec}, …]` for <script type="application/json">, in pieces, each chart's `specJson`
 * used as is when given: "<" escaped as \u003c is still the same JSON. A spec of several MB is escaped a
 * slice at a time (the escape is per character), so no copy of it is ever made whole.
 */
function* chartSpecsJson(charts: HtmlChart[]): Generator<string> {
  const escape = (s: string) => s.replace(/</g, '\\u003c');
  for (const [i, c] of charts.entries()) {
    yield `${i === 0 ? '[' : ','}{"id":${escape(JSON.stringify(c.id))},"spec":`;
    const json = c.specJson ?? JSON.stringify(c.spec);
    for (let at = 0; at < json.length; at += ESCAPE_PIECE_CHARS) yield escape(json.slice(at, at + ESCAPE_PIECE_CHARS));
    yield '}';
  }
  yield charts.length === 0 ? '[]' : ']';
}

function summaryRows(r: SimulationResult): [string, string][] {
  const m = r.mesh;
  const mem = r.memory;
  return [
    ['model', `${r.model.id} (${(r.model.parameters / 1e9).toFixed(2)} B parameters)`],
    ['hardware', `${r.num_nodes} × ${r.hardware}, ${r.world_size} GPUs`],
    ['strategy', `${r.strategy.toUpperCase()} — dp_replicate ${m.dp_replicate}, dp_shard ${m.dp_shard}, cp ${m.cp}, tp ${m.tp}`],
    ['batch', `micro ${r.batch.micro_batch_size} × accumulation ${r.batch.gradient_accumulation_steps} × dp ${m.dp_shard * m.dp_replicate} = ${r.batch.global_batch_size} sequences × ${r.batch.sequence_len} tokens = ${count(r.batch.tokens_per_step)} tokens`],
    ['precision', `compute ${r.precision.compute}, parameters ${r.precision.parameters}, gather ${r.precision.all_gather}, reduce ${r.precision.reduce}, optimizer ${r.precision.optimizer_bytes_per_parameter} B/parameter`],
    ['step time', r.steps.count > 1 && r.steps.max_s !== r.steps.min_s ? `${seconds(r.step_time_s)} (${r.steps.count} steps: p50 ${seconds(r.steps.p50_s)}, p95 ${seconds(r.steps.p95_s)})` : seconds(r.step_time_s)],
    ['throughput', `${count(r.throughput.tokens_per_s)} tokens/s (${count(r.throughput.tokens_per_s_per_gpu)} per GPU)`],
    ['MFU / HFU', `${pct(r.throughput.mfu)} / ${pct(r.throughput.hfu)} (${r.throughput.tflops_per_gpu.toFixed(1)} model TFLOP/s per GPU)`],
    ['time breakdown', `compute ${seconds(r.time_breakdown_s.compute)}, optimizer ${seconds(r.time_breakdown_s.optimizer)}, exposed communication ${seconds(r.time_breakdown_s.exposed_communication)}, idle ${seconds(r.time_breakdown_s.idle)}`],
    ['communication', `busy ${seconds(r.communication.busy_s)} (${pct(r.communication.busy_ratio)}), exposed ${pct(r.communication.exposed_ratio)} of the step, ${bytesHuman(r.communication.bytes_per_gpu)} sent per GPU`],
    ['peak memory', `${gib(mem.peak_bytes)} allocated, ≈ ${gib(mem.required_bytes)} reserved + context, of ${gib(mem.capacity_bytes)} → ${mem.fits ? 'fits' : 'DOES NOT FIT (OOM)'}`],
    ['cost', `$${r.cost.usd_per_million_tokens.toFixed(3)} per million tokens at $${r.cost.usd_per_gpu_hour}/GPU-hour`],
  ];
}

const STYLE = `
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; line-height: 1.45; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #555; margin-top: 0; }
table.summary { border-collapse: collapse; font-size: 14px; width: 100%; }
table.summary th { text-align: left; padding: 5px 12px 5px 0; white-space: nowrap; vertical-align: top; color: #444; }
table.summary td { padding: 5px 0; }
table.summary tr { border-bottom: 1px solid #eee; }
.explain p { font-size: 14.5px; margin: 8px 0; }
.chart { margin: 12px 0 28px; overflow-x: auto; }
.warn { color: #a33; } .files li { font-size: 14px; }
#render-errors { color: #b00; white-space: pre-wrap; font-size: 13px; }
#render-errors:empty { display: none; }
`;

/** Waits for every chart, then flags the page as rendered; errors go into #render-errors. */
const PAGE_SCRIPT = `
(function () {
  var errors = document.getElementById('render-errors');
  function record(what) { errors.textContent += String(what) + '\\n'; }
  window.addEventListener('error', function (e) { record('error: ' + e.message); });
  window.addEventListener('unhandledrejection', function (e) { record('unhandled: ' + (e.reason && e.reason.message || e.reason)); });
  var charts = JSON.parse(document.getElementById('chart-specs').textContent);
  Promise.all(charts.map(function (c) {
    return vegaEmbed('#' + c.id, c.spec, { mode: 'vega-lite', renderer: 'svg', actions: false });
  })).then(function () {
    document.title = errors.textContent ? 'errors' : 'rendered';
  }, function (e) {
    record('vegaEmbed: ' + (e && e.message || e));
    document.title = 'errors';
  });
})();
`;

/** report.html's text. */
export function reportHtml(report: HtmlReport): string {
  return [...reportHtmlPieces(report)].join('');
}

/** report.html's text in pieces, to be written as they come (the chart specs are most of it). */
export function* reportHtmlPieces(report: HtmlReport): Generator<string> {
  const r = report.result;
  const paths = vegaBundlePaths();
  const libs = [paths.vega, paths.vegaLite, paths.vegaEmbed].map((p) => `<script>${inlineScript(readFileSync(p, 'utf8'))}</script>`).join('\n');
  const rows = summaryRows(r).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  const warnings = r.warnings.length > 0 ? `<ul class="warn">${r.warnings.map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul>` : '';
  const charts = report.charts
    .map((c) => `<h2>${esc(c.title)}</h2>\n<div class="chart" id="${esc(c.id)}"></div>${c.png ? `\n<p class="sub">Static image: <a href="${esc(c.png)}">${esc(c.png)}</a></p>` : ''}`)
    .join('\n');
  const files = report.files.map((f) => `<li><a href="${esc(f.href)}">${esc(f.href)}</a> — ${esc(f.what)}</li>`).join('\n');
  yield `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shardsim · ${esc(r.scenario)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(r.scenario)}</h1>
<p class="sub">shardsim simulation of one training step — ${esc(r.strategy.toUpperCase())} on ${r.world_size} × ${esc(r.hardware)}</p>
<pre id="render-errors"></pre>
<table class="summary">
${rows}
</table>
${warnings}
<h2>What happens in this step</h2>
<div class="explain">
${report.explanation.map((p) => `<p>${esc(p)}</p>`).join('\n')}
</div>
${charts}
<h2>Files</h2>
<ul class="files">
${files}
</ul>
${libs}
<script type="application/json" id="chart-specs">`;
  yield* chartSpecsJson(report.charts);
  yield `</script>
<script>${inlineScript(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}
