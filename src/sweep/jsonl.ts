import { readFileSync } from 'node:fs';
import { ShardsimError } from '../util/errors.ts';
import type { SweepLine, SweepMeta, SweepRow } from './types.ts';

/** One line per config (skipped ones included), each carrying the sweep it belongs to. */
export function toJsonl(meta: SweepMeta, rows: readonly SweepRow[]): string {
  return rows.map((r) => JSON.stringify({ sweep: meta, ...r } satisfies SweepLine)).join('\n') + (rows.length > 0 ? '\n' : '');
}

export function readJsonl(path: string): SweepLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ShardsimError(`cannot read "${path}"`, { fix: 'check the path of the shard file (written by `shardsim sweep … --shard i/n --jsonl FILE`)' });
  }
  const out: SweepLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new ShardsimError(`${path}:${i + 1}: not a JSON line`, { fix: 'merge only files written by `shardsim sweep --jsonl` (a truncated last line means the shard did not finish)' });
    }
    const l = v as Partial<SweepLine>;
    if (!l || typeof l !== 'object' || !l.sweep || typeof l.sweep.id !== 'string' || typeof l.index !== 'number' || typeof l.status !== 'string') {
      throw new ShardsimError(`${path}:${i + 1}: not a sweep result line`, { fix: 'merge only files written by `shardsim sweep --jsonl`' });
    }
    out.push(l as SweepLine);
  });
  return out;
}

export interface Merged {
  meta: SweepMeta;
  rows: SweepRow[];
  /** Grid indices no file had (a shard missing or interrupted). */
  missing: number[];
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
      } else if (sweep.id !== meta.id) {
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
  const missing: number[] = [];
  for (let i = 0; i < meta.total; i++) if (!rows.has(i)) missing.push(i);
  return { meta, rows: [...rows.values()].sort((a, b) => a.index - b.index), missing };
}
