import { rankByIndex } from './rank.ts';
import type { Scalar, SweepRow } from './types.ts';

/** Fixed columns after the varied keys; SI units in the names (hyperfine-style summary CSV). */
const METRIC_COLUMNS = [
  'world_size', 'strategy', 'global_batch_size', 'step_time_s', 'tokens_per_s', 'tokens_per_s_per_gpu', 'mfu',
  'exposed_ratio', 'peak_bytes', 'required_bytes', 'capacity_bytes', 'fits', 'usd_per_million_tokens',
] as const;

export function csvField(v: Scalar | undefined): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One row per config in grid order (skipped and failed configs included, with their reason), with a
 * `rank` column for the best-first order the table uses. Numbers are written at full precision.
 */
export function sweepCsv(rows: readonly SweepRow[], keys: readonly string[]): string {
  const rank = rankByIndex(rows);
  const header = ['rank', 'index', ...keys, 'hardware', 'nodes', ...METRIC_COLUMNS, 'status', 'skipped_reason'];
  const lines = [header.map(csvField).join(',')];
  for (const r of [...rows].sort((a, b) => a.index - b.index)) {
    const m = r.metrics;
    const metric: Record<(typeof METRIC_COLUMNS)[number], Scalar | undefined> = {
      world_size: m?.world_size,
      strategy: m?.strategy,
      global_batch_size: m?.global_batch_size,
      step_time_s: m?.step_time_s,
      tokens_per_s: m?.tokens_per_s,
      tokens_per_s_per_gpu: m?.tokens_per_s_per_gpu,
      mfu: m?.mfu,
      exposed_ratio: m?.exposed_ratio,
      peak_bytes: m?.peak_bytes,
      required_bytes: m?.required_bytes,
      capacity_bytes: m?.capacity_bytes,
      fits: m?.fits,
      usd_per_million_tokens: m?.usd_per_million_tokens,
    };
    const fields: (Scalar | undefined)[] = [
      rank.get(r.index),
      r.index,
      ...keys.map((k) => r.values[k]),
      r.hardware,
      r.nodes,
      ...METRIC_COLUMNS.map((c) => metric[c]),
      r.status,
      r.status === 'ok' ? undefined : r.reason,
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}
