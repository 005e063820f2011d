import { ensureDir, writeFileAtomic } from '../util/output.ts';
import { basename, join } from 'node:path';
import type { SimulationRun } from '../pipeline/simulate.ts';
import { exposedSecondsByKind } from '../metrics/exposure.ts';
import { breakdownRank } from '../metrics/activity.ts';
import { markdownSummary } from './markdown.ts';
import { renderVegaLite } from './render.ts';
import { timelineSpecs, timelineRanks } from './charts/timeline.ts';
import type { DirectRects } from './direct-rects.ts';
import { memoryImageSpec, memorySpec } from './charts/memory.ts';
import { stepBreakdownSpec } from './charts/breakdown.ts';
import { communicationSpec, hasCommunication } from './charts/communication.ts';
import { chromeTraceChunks } from './trace.ts';
import { explain } from './explain.ts';
import { reportHtmlPieces, type HtmlChart } from './html.ts';

export interface WrittenReport {
  dir: string;
  /** Every file written, relative to `dir`. */
  files: string[];
  /** Wall time per stage, seconds (printed by the CLI; never asserted on). */
  timings: Record<string, number>;
}

/**
 * The report folder of one run: summary.json and summary.md, each chart as .vl.json/.svg/.png,
 * trace.json (Perfetto / chrome://tracing) and a self-contained report.html with the explanation.
 * The memory chart needs a run simulated with `recordMemory: true`; without it that chart is skipped.
 */
export async function writeReport(run: SimulationRun, dir: string): Promise<WrittenReport> {
  const files: string[] = [];
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = (now - t) / 1e3;
    t = now;
  };
  const write = (name: string, text: string | Iterable<string>) => {
    writeFileAtomic(join(dir, name), text, '--out');
    files.push(name);
  };

  ensureDir(dir, '--out');
  const r = run.result;
  write('summary.json', JSON.stringify(r, null, 2) + '\n');
  write('summary.md', markdownSummary(r));
  const explanation = explain(run);
  lap('summary');

  const timeline = timelineSpecs(run);
  const specs: { id: string; title: string; spec: object; staticSpec?: object; directRects?: DirectRects[] }[] = [
    { id: 'timeline', title: `Timeline of the step (${timelineRanks(run).map((x) => `rank ${x}`).join(', ')})`, spec: timeline.spec, staticSpec: timeline.image.spec, directRects: timeline.image.rects },
  ];
  if (run.timeline.memorySamples.length > 0) {
    const memory = memorySpec(run);
    specs.push({ id: 'memory', title: 'Memory over the step', spec: memory, staticSpec: memoryImageSpec(memory) });
  }
  specs.push({ id: 'breakdown', title: 'Step-time breakdown', spec: stepBreakdownSpec([{ name: r.scenario, result: r }]) });
  const commRun = { name: r.scenario, result: r, exposedSecondsByKind: exposedSecondsByKind(run.timeline, breakdownRank(run.timeline, run.plan.ranks)) };
  if (hasCommunication([commRun])) specs.push({ id: 'communication', title: 'Communication by collective', spec: communicationSpec([commRun]) });
  lap('specs');

  const charts: HtmlChart[] = [];
  for (const s of specs) {
    const out = await renderVegaLite(s.spec, join(dir, s.id), s.staticSpec, s.directRects);
    files.push(...[out.specPath, out.svgPath, out.pngPath].map((p) => basename(p)));
    charts.push({ id: s.id, title: s.title, spec: s.spec, specJson: out.specJson, png: basename(out.pngPath) });
    lap(`chart ${s.id}`);
  }

  write('trace.json', chromeTraceChunks(run));
  lap('trace');

  write(
    'report.html',
    reportHtmlPieces({
      result: r,
      explanation,
      charts,
      files: [
        { href: 'trace.json', what: 'Chrome trace of the step (one process per rank, one thread per CUDA stream): open it in Perfetto (ui.perfetto.dev, “Open trace file”) or chrome://tracing' },
        { href: 'summary.json', what: 'the JSON result (same as --json)' },
        { href: 'summary.md', what: 'the summary as Markdown' },
        ...charts.map((c) => ({ href: `${c.id}.vl.json`, what: `Vega-Lite spec of the ${c.id} chart` })),
      ],
    }),
  );
  lap('html');
  return { dir, files, timings };
}
