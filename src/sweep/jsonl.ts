import { ShardsimError } from '../util/errors.ts';
import { readTextFile } from '../util/read-text.ts';
import type { SweepLine, SweepMeta, SweepRow } from './types.ts';

/** One line per config (skipped ones included), each carrying the sweep it belongs to. */
export function toJsonl(meta: SweepMeta, rows: readonly SweepRow[]): string {
  return rows.map((r) => JSON.stringify({ sweep: meta, ...r } satisfies SweepLine)).join('\n') + (rows.length > 0 ? '\n' : '');
}

const STATUSES = new Set(['ok', 'skipped', 'error']);
const isCount = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** What is wrong with a parsed line, or undefined when it is a sweep result line. */
function lineProblem(l: Partial<SweepLine>): string | undefined {
  if (!l || typeof l !== 'object' || Array.isArray(l)) return 'not a JSON object';
  const m = l.sweep;
  if (!m || typeof m !== 'object' || typeof m.id !== 'string' || typeof m.base !== 'string') return 'no "sweep" header (id, base)';
  if (!isCount(m.total, 1)) return `sweep.total must be a whole number ≥ 1, got ${JSON.stringify(m.total)}`;
  if (!Array.isArray(m.keys) || !m.keys.every((k) => typeof k === 'string')) return 'sweep.keys must be a list of key names';
  if (!isCount(l.index, 0) || l.index! >= m.total) return `index must be a whole number in [0, ${m.total}), got ${JSON.stringify(l.index)}`;
  if (typeof l.status !== 'string' || !STATUSES.has(l.status)) return `status must be "ok", "skipped" or "error", got ${JSON.stringify(l.status)}`;
  if (!l.values || typeof l.values !== 'object' || Array.isArray(l.values)) return 'values must be a mapping';
  if (l.status === 'ok') {
    const x = l.metrics as unknown as Record<string, unknown> | undefined;
    if (!x || typeof x !== 'object') return 'an "ok" line needs metrics';
    for (const k of ['step_time_s', 'tokens_per_s_per_gpu', 'peak_bytes', 'required_bytes', 'capacity_bytes', 'mfu']) {
      if (typeof x[k] !== 'number' || !Number.isFinite(x[k])) return `metrics.${k} must be a finite number, got ${JSON.stringify(x[k])}`;
    }
    if (typeof x.fits !== 'boolean') return 'metrics.fits must be true or false';
  }
  return undefined;
}

export function readJsonl(path: string): SweepLine[] {
  // Bounded and UTF-8 only (util/read-text.ts); parsed lines hold ~10 heap bytes per byte of text.
  const text = readTextFile(path, { what: 'shard file', fix: 'check the path of the shard file (written by `shardsim sweep … --shard i/n --jsonl FILE`)', heapBytesPerByte: 10 });
  const out: SweepLine[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      // A killed run can leave its last line half written (no newline after it): keep every whole line.
      if (i === lines.length - 1) {
        process.stderr.write(`warning: ${path}:${i + 1}: ignoring a truncated last line (the shard was interrupted while writing it)\n`);
        return;
      }
      throw new ShardsimError(`${path}:${i + 1}: not a JSON line`, { fix: 'merge only files written by `shardsim sweep --jsonl`' });
    }
    const problem = lineProblem(v as Partial<SweepLine>);
    if (problem) throw new ShardsimError(`${path}:${i + 1}: not a sweep result line (${problem})`, { fix: 'merge only files written by `shardsim sweep --jsonl`' });
    out.push(v as SweepLine);
  });
  return out;
}

export interface Merged {
  meta: SweepMeta;
  rows: SweepRow[];
  /** How many grid indices no file had (a shard missing or interrupted). */
  missingCount: number;
  /** The first few of them. */
  missingSample: number[];
  /** All of them (computed on demand: the grid can be far larger than the rows). */
  missing(): number[];
}

/**
 * Joins shard files: every line must come from the same sweep (same base and axes); a config present
 * twice must have the same result (re-running a shard is harmless), and rows come back in grid order,
 * so the merge of all shards equals the unsharded run.
 */
export function mergeLines(files: { path: string; lines: SweepLine[] }[]): Merged {
  let meta: SweepMeta | undefined;
  let metaFrom = '';
  const rows = new Map<number, SweepRow>();
  for (const { path, lines } of files) {
    for (const { sweep, ...row } of lines) {
      if (!meta) {
        meta = sweep;
        metaFrom = path;
      } else if (sweep.id !== meta.id || sweep.total !== meta.total || sweep.base !== meta.base) {
        throw new ShardsimError(`${path} is from a different sweep (${sweep.base}, ${sweep.total} configs, id ${sweep.id}) than ${metaFrom} (${meta.base}, ${meta.total} configs, id ${meta.id})`, { fix: 'merge the shards of one sweep command at a time' });
      }
      const prev = rows.get(row.index);
      if (prev && JSON.stringify(prev) !== JSON.stringify(row)) {
        throw new ShardsimError(`config ${row.index} appears twice with different results (in ${path})`, { fix: 'merge each shard once; delete stale part files from an older run' });
      }
      rows.set(row.index, row);
    }
  }
  if (!meta) throw new ShardsimError('the shard files hold no results', { fix: 'check that the sweep shards finished (each writes one line per config)' });
  const total = meta.total;
  // Indices are checked to lie in [0, total), so the missing ones are counted, not enumerated.
  const missingCount = total - rows.size;
  const firstMissing = (limit: number) => {
    const out: number[] = [];
    for (let i = 0; i < total && out.length < limit; i++) if (!rows.has(i)) out.push(i);
    return out;
  };
  return { meta, rows: [...rows.values()].sort((a, b) => a.index - b.index), missingCount, missingSample: firstMissing(10), missing: () => firstMissing(missingCount) };
}
