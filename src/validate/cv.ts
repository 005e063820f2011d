import { fitAllocatorFactor, withAllocatorFactor } from './allocator-fit.ts';
import { summarise, type Comparison, type MetricName, type MetricSummary, type ValidationReport } from './run.ts';

/**
 * Validation that cannot flatter itself: leave-one-source-out. For every source (repository or paper) the
 * constants fitted on validation rows are refitted on the OTHER sources' rows and the held-out source is
 * scored with them. Today only `runtime.allocator_reserved_over_allocated` is fitted on validation rows
 * (src/validate/allocator-fit.ts); compute rates come from microbenchmarks and NCCL constants from
 * nccl-tests points (collectives-calibration.jsonl), neither from training runs, so throughput is
 * out-of-sample as it stands. A source whose rows can inform no fit (no reserved-memory rows elsewhere)
 * is scored with the factor at its neutral value 1.
 */
export interface Fold {
  source: string;
  /** The allocator factor fitted without this source, and on how many reserved rows. */
  allocatorFactor: number;
  allocatorRows: number;
}

export interface CrossValidation {
  kind: 'leave-one-source-out';
  /** Every comparison, each scored by the fold that held its source out. */
  rows: Comparison[];
  folds: Fold[];
  summary: Partial<Record<MetricName, MetricSummary>>;
  bySource: Record<string, Partial<Record<MetricName, MetricSummary>>>;
  byHardware: Record<string, Partial<Record<MetricName, MetricSummary>>>;
}

/** The sources in a report, each with the rows it holds out. */
export function splitBySource(rows: readonly Comparison[]): Map<string, Comparison[]> {
  const out = new Map<string, Comparison[]>();
  for (const r of rows) out.set(r.source, [...(out.get(r.source) ?? []), r]);
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function groupSummary(rows: readonly Comparison[], key: (c: Comparison) => string): Record<string, Partial<Record<MetricName, MetricSummary>>> {
  const groups = new Map<string, Comparison[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return Object.fromEntries([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, rs]) => [k, summarise(rs)]));
}

export function leaveOneSourceOut(report: Pick<ValidationReport, 'rows'>): CrossValidation {
  const bySource = splitBySource(report.rows);
  const folds: Fold[] = [];
  const scored: Comparison[] = [];
  for (const [source, held] of bySource) {
    const training = report.rows.filter((r) => r.source !== source);
    const fit = fitAllocatorFactor(training);
    folds.push({ source, allocatorFactor: fit.factor, allocatorRows: fit.rows });
    scored.push(...held.map((c) => withAllocatorFactor(c, fit.factor)));
  }
  return {
    kind: 'leave-one-source-out',
    rows: scored,
    folds,
    summary: summarise(scored),
    bySource: groupSummary(scored, (c) => c.source),
    byHardware: groupSummary(scored, (c) => c.hardware),
  };
}
