import type { ValidationReport } from '../validate/index.ts';
import type { CrossValidation } from '../validate/cv.ts';

const fmt = (metric: string, v: number) =>
  metric === 'peak_memory_bytes' ? `${(v / 2 ** 30).toFixed(2)} GiB` : metric === 'step_time_s' ? `${v.toFixed(3)} s` : v.toFixed(0);

/** The `validate` table: one line per compared metric, the skipped rows with reasons, the summary. */
export function validationTable(report: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`${'id'.padEnd(10)} ${'metric'.padEnd(22)} ${'predicted'.padStart(12)} ${'measured'.padStart(12)} ${'error'.padStart(8)}  model · gpus · hardware`);
  for (const r of report.rows) {
    lines.push(`${r.id.padEnd(10)} ${(r.metric + (r.kind ? ` (${r.kind})` : '')).padEnd(22)} ${fmt(r.metric, r.predicted).padStart(12)} ${fmt(r.metric, r.measured).padStart(12)} ${`${(100 * r.error).toFixed(1)}%`.padStart(8)}  ${r.model} · ${r.gpus} · ${r.hardware}`);
  }
  if (report.skipped.length > 0) {
    lines.push('', `skipped (${report.skipped.length}):`);
    for (const s of report.skipped) lines.push(`  ${s.id.padEnd(10)} ${s.reason}`);
  }
  lines.push('', `${'metric'.padEnd(22)} ${'n'.padStart(4)} ${'median |err|'.padStart(13)} ${'p90 |err|'.padStart(10)} ${'bias'.padStart(8)}`);
  for (const [metric, s] of Object.entries(report.summary)) {
    lines.push(`${metric.padEnd(22)} ${String(s.n).padStart(4)} ${`${(100 * s.median_abs_error).toFixed(1)}%`.padStart(13)} ${`${(100 * s.p90_abs_error).toFixed(1)}%`.padStart(10)} ${`${(100 * s.bias).toFixed(1)}%`.padStart(8)}`);
  }
  return lines.join('\n');
}

type Summaries = Partial<Record<string, { n: number; median_abs_error: number; p90_abs_error: number; bias: number }>>;
const pctCell = (x: number) => `${(100 * x).toFixed(1)}%`;

function groupLines(title: string, groups: Record<string, Summaries>): string[] {
  const width = Math.max(title.length, ...Object.keys(groups).map((g) => g.length)) + 2;
  const lines = [`${title.padEnd(width)} ${'metric'.padEnd(22)} ${'n'.padStart(4)} ${'median |err|'.padStart(13)} ${'p90 |err|'.padStart(10)} ${'bias'.padStart(8)}`];
  for (const [g, summaries] of Object.entries(groups)) {
    for (const [metric, s] of Object.entries(summaries)) {
      if (!s) continue;
      lines.push(`${g.padEnd(width)} ${metric.padEnd(22)} ${String(s.n).padStart(4)} ${pctCell(s.median_abs_error).padStart(13)} ${pctCell(s.p90_abs_error).padStart(10)} ${pctCell(s.bias).padStart(8)}`);
    }
  }
  return lines;
}

/** `validate --cv source`: the out-of-sample tables by source and by hardware, the folds, the overall summary. */
export function crossValidationTable(cv: CrossValidation, skipped: ValidationReport['skipped'] = []): string {
  const lines: string[] = [];
  lines.push('leave-one-source-out: every constant fitted on validation rows is refitted without the held-out source, which is then scored');
  lines.push('(compute rates come from microbenchmarks and NCCL constants from nccl-tests: none is fitted on these rows)', '');
  lines.push(...groupLines('held-out source', cv.bySource), '');
  lines.push(...groupLines('hardware', cv.byHardware), '');
  const w = Math.max(16, ...cv.folds.map((f) => f.source.length)) + 2;
  lines.push(`${'fold (held out)'.padEnd(w + 2)} allocator_reserved_over_allocated fitted on the other sources`);
  for (const f of cv.folds) lines.push(`  ${f.source.padEnd(w)} ${f.allocatorRows > 0 ? `${f.allocatorFactor.toFixed(3)} (${f.allocatorRows} reserved rows)` : '1 (no reserved rows elsewhere)'}`);
  if (skipped.length > 0) {
    lines.push('', `skipped (${skipped.length}):`);
    for (const s of skipped) lines.push(`  ${s.id.padEnd(10)} ${s.reason}`);
  }
  lines.push('', ...groupLines('out-of-sample', { all: cv.summary }));
  return lines.join('\n');
}
