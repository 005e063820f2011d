import { ShardsimError } from '../util/errors.ts';

export interface Shard {
  /** 1-based shard number (Slurm's SLURM_ARRAY_TASK_ID with --array=1-n). */
  i: number;
  n: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || i < 1 || i > n) {
    throw new ShardsimError(`--shard must be i/n with 1 ≤ i ≤ n, got "${text}"`, { fix: 'e.g. --shard 3/8 (Slurm: --shard ${SLURM_ARRAY_TASK_ID}/8 with --array=1-8)' });
  }
  return { i, n };
}

/**
 * The grid indices shard i of n runs: round-robin, `index mod n == i - 1`. Round-robin rather than
 * contiguous blocks because neighbouring configs differ only in the fastest axes and so cost about the
 * same: dealing them out balances the shards' wall time. The shards partition the grid exactly.
 */
export function shardIndices(total: number, shard: Shard | undefined): number[] {
  const out: number[] = [];
  const n = shard?.n ?? 1;
  const first = (shard?.i ?? 1) - 1;
  for (let idx = first; idx < total; idx += n) out.push(idx);
  return out;
}
