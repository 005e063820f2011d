import type { SweepRow } from './types.ts';

export type SimulatedRow = SweepRow & { status: 'ok'; metrics: NonNullable<SweepRow['metrics']> };

export const isSimulated = (r: SweepRow): r is SimulatedRow => r.status === 'ok' && r.metrics !== undefined;

/**
 * Best first: configs that fit by tokens/s per GPU (descending), then the ones that do not fit (OOM),
 * by the same measure. Ties go to the lower grid index, so the order is total and deterministic.
 * Skipped and failed configs are not ranked.
 */
export function rankRows(rows: readonly SweepRow[]): SimulatedRow[] {
  return rows.filter(isSimulated).sort((a, b) => {
    if (a.metrics.fits !== b.metrics.fits) return a.metrics.fits ? -1 : 1;
    const d = b.metrics.tokens_per_s_per_gpu - a.metrics.tokens_per_s_per_gpu;
    return d !== 0 ? d : a.index - b.index;
  });
}

/** 1-based rank by grid index, for the CSV's `rank` column. */
export function rankByIndex(rows: readonly SweepRow[]): Map<number, number> {
  return new Map(rankRows(rows).map((r, i) => [r.index, i + 1]));
}

/** Skipped / failed configs grouped by reason, most frequent first. */
export function reasonCounts(rows: readonly SweepRow[], status: 'skipped' | 'error'): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.status === status) counts.set(r.reason ?? '(no reason)', (counts.get(r.reason ?? '(no reason)') ?? 0) + 1);
  return [...counts.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/**
 * The Pareto front of throughput (tokens/s, higher is better) against cost ($ per million tokens, lower
 * is better) among configs that fit: a config is on it when no other config is both at least as cheap
 * and at least as fast (and strictly better in one). Returned cheapest first.
 */
export function paretoFront(rows: readonly SweepRow[]): SimulatedRow[] {
  const fit = rows.filter(isSimulated).filter((r) => r.metrics.fits);
  const byCost = [...fit].sort((a, b) => a.metrics.usd_per_million_tokens - b.metrics.usd_per_million_tokens || b.metrics.tokens_per_s - a.metrics.tokens_per_s || a.index - b.index);
  const front: SimulatedRow[] = [];
  let best = -Infinity;
  for (const r of byCost) {
    if (r.metrics.tokens_per_s > best) {
      front.push(r);
      best = r.metrics.tokens_per_s;
    }
  }
  return front;
}
