import { describe, expect, it } from 'vitest';
import { parseShard, shardIndices } from '../../src/sweep/shard.ts';
import { paretoFront, rankRows, reasonCounts } from '../../src/sweep/rank.ts';
import { heatmapCells } from '../../src/sweep/charts.ts';
import { sweepCsv } from '../../src/sweep/csv.ts';
import { mergeLines } from '../../src/sweep/jsonl.ts';
import type { SweepLine, SweepMeta, SweepRow } from '../../src/sweep/types.ts';

describe('sharding', () => {
  it('partitions the grid exactly: the union is every index, the shards are disjoint', () => {
    for (const total of [0, 1, 7, 24, 1600]) {
      for (const n of [1, 2, 3, 8, 30]) {
        const parts = Array.from({ length: n }, (_, i) => shardIndices(total, { i: i + 1, n }));
        const all = parts.flat();
        expect(all).toHaveLength(total);
        expect(new Set(all).size).toBe(total);
        expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      }
    }
  });

  it('deals indices round-robin (index mod n = i - 1)', () => {
    expect(shardIndices(10, { i: 2, n: 3 })).toEqual([1, 4, 7]);
    expect(shardIndices(10, undefined)).toHaveLength(10);
  });

  it('parses i/n and refuses what is not a shard', () => {
    expect(parseShard('3/8')).toEqual({ i: 3, n: 8 });
    for (const bad of ['0/8', '9/8', '3', 'a/b', '1/0', '-1/2']) expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
  });
});

const row = (index: number, tps: number, fits: boolean, cost: number, peakGiB = 40, values: SweepRow['values'] = {}): SweepRow => ({
  index,
  values,
  hardware: 'dgx-h100',
  nodes: 2,
  status: 'ok',
  metrics: {
    world_size: 16, strategy: 'fsdp2', mesh: { dp_replicate: 1, dp_shard: 16, cp: 1, tp: 1 }, global_batch_size: 16, tokens_per_step: 65536,
    step_time_s: 1, tokens_per_s: tps * 16, tokens_per_s_per_gpu: tps, mfu: 0.4, exposed_communication_s: 0.01, exposed_ratio: 0.01,
    peak_bytes: peakGiB * 2 ** 30, required_bytes: peakGiB * 1.1 * 2 ** 30, capacity_bytes: 80 * 2 ** 30, fits, usd_per_million_tokens: cost,
  },
});
const skipped = (index: number, reason: string, values: SweepRow['values'] = {}): SweepRow => ({ index, values, hardware: 'dgx-h100', nodes: 2, status: 'skipped', reason });

describe('ranking', () => {
  const rows = [row(0, 500, true, 2), row(1, 900, false, 1), row(2, 700, true, 1.5), skipped(3, 'tp: not yet supported'), row(4, 700, true, 1.5), skipped(5, 'tp: not yet supported'), skipped(6, 'bad mesh')];

  it('puts configs that fit first by tokens/s per GPU (ties by index), OOM after, skipped not at all', () => {
    expect(rankRows(rows).map((r) => r.index)).toEqual([2, 4, 0, 1]);
  });

  it('groups skipped configs by reason, most frequent first', () => {
    expect(reasonCounts(rows, 'skipped')).toEqual([{ reason: 'tp: not yet supported', count: 2 }, { reason: 'bad mesh', count: 1 }]);
  });

  it('finds the Pareto front of throughput vs cost among configs that fit', () => {
    const front = paretoFront([row(0, 100, true, 1), row(1, 200, true, 2), row(2, 150, true, 2.5), row(3, 300, true, 3), row(4, 1000, false, 0.5), row(5, 200, true, 2)]);
    expect(front.map((r) => r.index)).toEqual([0, 1, 3]);
  });
});

describe('heatmap cells', () => {
  it('takes the best fitting config per cell and marks OOM and skipped cells', () => {
    const rows = [
      row(0, 500, true, 1, 40, { a: 1, b: true }), row(1, 600, true, 1, 40, { a: 1, b: true }),
      row(2, 900, false, 1, 90, { a: 2, b: true }),
      skipped(3, 'x', { a: 1, b: false }),
      row(4, 400, true, 1, 40, { a: 2, b: false }), row(5, 950, false, 1, 90, { a: 2, b: false }),
    ];
    const cells = heatmapCells(rows, 'a', 'b');
    const at = (x: string, y: string) => cells.find((c) => c.x === x && c.y === y);
    expect(at('1', 'true')).toMatchObject({ state: 'fits', tokens_per_s_per_gpu: 600 });
    expect(at('2', 'true')).toMatchObject({ state: 'OOM', label: 'OOM' });
    expect(at('1', 'false')).toMatchObject({ state: 'skipped' });
    expect(at('2', 'false')).toMatchObject({ state: 'fits', tokens_per_s_per_gpu: 400 });
  });
});

describe('CSV', () => {
  it('has one row per config in grid order, a fits column, and the skip reason', () => {
    const csv = sweepCsv([row(1, 500, false, 2, 40, { micro_batch_size: 2 }), row(0, 400, true, 2, 40, { micro_batch_size: 1 }), skipped(2, 'tensor_parallel_size: not yet supported, sorry', { micro_batch_size: 4 })], ['micro_batch_size']);
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const header = lines[0]!.split(',');
    expect(header.slice(0, 5)).toEqual(['rank', 'index', 'micro_batch_size', 'hardware', 'nodes']);
    const col = (name: string) => header.indexOf(name);
    expect(col('fits')).toBeGreaterThan(0);
    const first = lines[1]!.split(',');
    expect(first[col('index')]).toBe('0');
    expect(first[col('fits')]).toBe('true');
    expect(first[col('rank')]).toBe('1');
    expect(lines[2]!.split(',')[col('fits')]).toBe('false');
    // A reason with a comma is quoted.
    expect(lines[3]).toMatch(/,skipped,"tensor_parallel_size: not yet supported, sorry"$/);
  });
});

describe('merge', () => {
  const meta: SweepMeta = { id: 'abc', base: 'b', total: 3, keys: [] };
  const line = (r: SweepRow, m: SweepMeta = meta): SweepLine => ({ sweep: m, ...r });

  it('orders rows by index, reports missing configs and accepts a repeated identical line', () => {
    const m = mergeLines([{ path: 'p2', lines: [line(row(2, 1, true, 1))] }, { path: 'p1', lines: [line(row(0, 1, true, 1)), line(row(2, 1, true, 1))] }]);
    expect(m.rows.map((r) => r.index)).toEqual([0, 2]);
    expect(m.missing()).toEqual([1]);
    expect(m.missingCount).toBe(1);
  });

  it('refuses shards of another sweep and conflicting results', () => {
    expect(() => mergeLines([{ path: 'a', lines: [line(row(0, 1, true, 1))] }, { path: 'b', lines: [line(row(1, 1, true, 1), { ...meta, id: 'other' })] }])).toThrow(/different sweep/);
    expect(() => mergeLines([{ path: 'a', lines: [line(row(0, 1, true, 1)), line(row(0, 2, true, 1))] }])).toThrow(/twice with different results/);
    expect(() => mergeLines([{ path: 'a', lines: [] }])).toThrow(/no results/);
  });
});
