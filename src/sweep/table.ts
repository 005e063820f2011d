import { count, pct } from '../report/format.ts';
import { rankRows, reasonCounts, type SimulatedRow } from './rank.ts';
import type { Scalar, SweepMeta, SweepRow } from './types.ts';

/** A table row, or a line of text spanning the whole row ("… 12 more"). */
export type TableLine = string[] | { span: string };

/** Right-aligned columns, a header and a rule: a plain-text table for the terminal. */
export function textTable(header: string[], body: TableLine[], leftAligned: Set<number> = new Set()): string {
  const cellsOnly = body.filter((r): r is string[] => Array.isArray(r));
  const widths = header.map((h, i) => Math.max(h.length, ...cellsOnly.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (leftAligned.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map((r) => (Array.isArray(r) ? line(r) : r.span))].join('\n');
}

/** Short column titles: the last part of a key path unless two keys share it. */
export function shortKeyNames(keys: readonly string[]): string[] {
  const last = keys.map((k) => k.split('.').pop()!);
  return keys.map((k, i) => (last.filter((l) => l === last[i]).length > 1 ? k : last[i]!));
}

/** Column titles for common keys, so a table of seven varied keys still fits a terminal. */
const ABBREV: Record<string, string> = {
  tensor_parallel_size: 'tp', context_parallel_size: 'cp', dp_shard_size: 'shard', dp_replicate_size: 'rep',
  micro_batch_size: 'mbs', gradient_accumulation_steps: 'ga', sequence_len: 'seq', gradient_checkpointing: 'ckpt',
  reshard_after_forward: 'reshard', num_nodes: 'nodes', hardware: 'hw', fsdp_version: 'fsdp', flash_attention: 'flash',
};

export function abbreviatedKeyNames(keys: readonly string[]): string[] {
  return shortKeyNames(keys).map((n) => ABBREV[n] ?? n);
}

const show = (v: Scalar | undefined) => (v === undefined ? '' : String(v));

export interface TableOptions {
  /** Rows to show in each section (fit, OOM); 0 = all. */
  top?: number;
}

/**
 * The sweep table, best first: configs that fit by tokens/s per GPU, then configs that do not fit
 * (marked OOM), then one "skipped N: reason" line per distinct reason.
 */
export function sweepTable(meta: Pick<SweepMeta, 'base' | 'keys' | 'total'>, rows: readonly SweepRow[], opts: TableOptions = {}): string {
  const top = opts.top ?? 25;
  const ranked = rankRows(rows);
  const fit = ranked.filter((r) => r.metrics.fits);
  const oom = ranked.filter((r) => !r.metrics.fits);
  const hardware = [...new Set(rows.map((r) => r.hardware))];
  const nodes = [...new Set(rows.map((r) => r.nodes))];
  const showHw = hardware.length > 1;
  const showNodes = nodes.length > 1;
  const skipped = rows.filter((r) => r.status === 'skipped').length;
  const failed = rows.filter((r) => r.status === 'error').length;

  const out: string[] = [];
  const where = `${showNodes ? '' : `${nodes[0]} × `}${showHw ? 'several hardware profiles' : hardware[0] ?? ''}`;
  out.push(`sweep ${meta.base} on ${where}: ${meta.total} configs — ${ranked.length} simulated (${fit.length} fit, ${oom.length} out of memory), ${skipped} skipped${failed ? `, ${failed} failed` : ''}${rows.length < meta.total ? `, ${meta.total - rows.length} not run` : ''}`);
  out.push('');

  const keyTitles = abbreviatedKeyNames(meta.keys);
  const legend = meta.keys.map((k, i) => [keyTitles[i]!, k] as const).filter(([t, k]) => t !== k).map(([t, k]) => `${t} = ${k}`);
  const header = ['#', ...keyTitles, ...(showHw ? ['hardware'] : []), ...(showNodes ? ['nodes'] : []), 'GPUs', 'step', 'tok/s/GPU', 'MFU', 'exp.comm', 'peak GiB', '$/M tok', 'fits'];
  const hwCol = 1 + keyTitles.length;
  const left = new Set(showHw ? [hwCol] : []);
  left.add(header.length - 1);
  const line = (r: SimulatedRow, rank: number): string[] => {
    const m = r.metrics;
    return [
      String(rank),
      ...meta.keys.map((k) => show(r.values[k])),
      ...(showHw ? [r.hardware] : []),
      ...(showNodes ? [String(r.nodes)] : []),
      String(m.world_size),
      `${m.step_time_s.toFixed(3)} s`,
      count(m.tokens_per_s_per_gpu),
      pct(m.mfu),
      pct(m.exposed_ratio),
      (m.peak_bytes / 2 ** 30).toFixed(1),
      m.usd_per_million_tokens.toFixed(3),
      m.fits ? 'yes' : 'OOM',
    ];
  };
  const body: TableLine[] = [];
  const limit = (n: number) => (top > 0 ? Math.min(n, top) : n);
  fit.slice(0, limit(fit.length)).forEach((r, i) => body.push(line(r, i + 1)));
  if (fit.length > limit(fit.length)) body.push({ span: `… ${fit.length - limit(fit.length)} more that fit` });
  oom.slice(0, limit(oom.length)).forEach((r, i) => body.push(line(r, fit.length + i + 1)));
  if (oom.length > limit(oom.length)) body.push({ span: `… ${oom.length - limit(oom.length)} more that do not fit` });
  if (body.length > 0) out.push(textTable(header, body, left));
  else out.push('no config could be simulated');
  if (legend.length > 0 && body.length > 0) out.push(legend.join(', '));
  const reasons = [...reasonCounts(rows, 'skipped').map((x) => `skipped ${x.count}: ${x.reason}`), ...reasonCounts(rows, 'error').map((x) => `failed ${x.count}: ${x.reason}`)];
  if (reasons.length > 0) out.push('', ...reasons);
  return out.join('\n');
}
