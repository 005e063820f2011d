import type { ValidationReport } from '../validate/index.ts';

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
