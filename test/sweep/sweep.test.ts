import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { prepareSweep, runSweep } from '../../src/sweep/sweep.ts';
import { parseShard } from '../../src/sweep/shard.ts';
import { mergeLines, readJsonl, toJsonl } from '../../src/sweep/jsonl.ts';
import { sweepCsv } from '../../src/sweep/csv.ts';
import { sweepTable } from '../../src/sweep/table.ts';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/shardsim.js');
const EXAMPLE_70B = join(import.meta.dirname, '../../scenarios/sweeps/llama-3.1-70b-2node.yaml');

let dir: string;
let base: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardsim-sweep-'));
  base = join(dir, 'small.yaml');
  writeFileSync(base, 'base_model: meta-llama/Llama-3.2-1B\nfsdp_version: 2\nfsdp_config: {reshard_after_forward: true}\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 1\nbf16: true\nflash_attention: true\nsimulation: {hardware: dgx-h100, num_nodes: 1}\n');
});

// 2 × 2 × 2 × 3 = 24 configs; on 8 GPUs only dp_shard_size 8 is a valid mesh, so 3 and 4 are skipped.
const VARY = ['micro_batch_size=1,2', 'gradient_checkpointing=true,false', 'fsdp_config.reshard_after_forward=true,false', 'dp_shard_size=8,3,4'];

describe('sweep (library)', () => {
  it('gives identical rows, in the same order, with 1 and 2 worker threads', async () => {
    const one = await runSweep(prepareSweep(base, { vary: VARY }), { jobs: 1 });
    const two = await runSweep(prepareSweep(base, { vary: VARY }), { jobs: 2 });
    expect(one.interrupted).toBe(false);
    expect(one.rows).toHaveLength(24);
    expect(one.rows.map((r) => r.index)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(two.rows).toEqual(one.rows);
    // The grid really ran: some configs simulated, the invalid mesh skipped with its reason, no internal errors.
    expect(one.rows.filter((r) => r.status === 'ok').length).toBeGreaterThan(0);
    const bad = one.rows.filter((r) => r.values.dp_shard_size === 3);
    expect(bad).toHaveLength(8);
    for (const r of bad) expect(r).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/dp_shard_size/) });
    expect(one.rows.some((r) => r.status === 'error')).toBe(false);
    // The varied values reach the simulation: micro-batch 2 doubles the tokens per step.
    const ok = one.rows.filter((r) => r.status === 'ok');
    const tokens = (mbs: number) => ok.find((r) => r.values.micro_batch_size === mbs && r.values.dp_shard_size === 8)!.metrics!.tokens_per_step;
    expect(tokens(2)).toBe(2 * tokens(1));
  }, 120_000);

  it('merging the JSONL of every shard equals the unsharded run', async () => {
    const whole = await runSweep(prepareSweep(base, { vary: VARY }), { jobs: 1 });
    const files = [];
    for (let i = 1; i <= 5; i++) {
      const prepared = prepareSweep(base, { vary: VARY }, parseShard(`${i}/5`));
      const part = await runSweep(prepared, { jobs: 1 });
      const path = join(dir, `part-${i}.jsonl`);
      writeFileSync(path, toJsonl(prepared.meta, part.rows));
      files.push(path);
    }
    const merged = mergeLines(files.map((path) => ({ path, lines: readJsonl(path) })));
    const meta = prepareSweep(base, { vary: VARY }).meta;
    expect(merged.missingCount).toBe(0);
    expect(merged.meta).toEqual(meta);
    expect(merged.rows).toEqual(whole.rows);
    expect(sweepCsv(merged.rows, merged.meta.keys)).toBe(sweepCsv(whole.rows, meta.keys));
    expect(sweepTable(merged.meta, merged.rows)).toBe(sweepTable(meta, whole.rows));
  }, 120_000);

  it('stops at an abort and returns only finished rows', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = await runSweep(prepareSweep(base, { vary: VARY }), { jobs: 2, signal: controller.signal });
    expect(out.interrupted).toBe(true);
    expect(out.rows.length).toBeLessThan(24);
  }, 60_000);

  it('a different grid is a different sweep', () => {
    expect(prepareSweep(base, { vary: ['micro_batch_size=1,2'] }).meta.id).not.toBe(prepareSweep(base, { vary: ['micro_batch_size=1,4'] }).meta.id);
  });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', [BIN, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const csvRows = (text: string) => text.trimEnd().split('\n').map((l) => l.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/));

describe('sweep, merge (CLI)', () => {
  const VARY_70B = ['--vary', 'tensor_parallel_size=1,2,4,8', '--vary', 'dp_replicate_size=1,2', '--vary', 'micro_batch_size=1,2,4'];

  it('sweeps 70B on 2 × dgx-h100 over TP × dp_replicate × micro-batch into 24 CSV rows, skipped configs with their reason; shards merge to the same CSV', async () => {
    const csv = join(dir, 'full.csv');
    const full = await cli(['sweep', EXAMPLE_70B, ...VARY_70B, '--csv', csv, '--no-report', '--jobs', '2']);
    expect(full.stderr).not.toMatch(/error/);
    expect(full.code).toBe(0);
    const rows = csvRows(readFileSync(csv, 'utf8'));
    const header = rows[0]!;
    const col = (name: string) => header.indexOf(name);
    expect(rows).toHaveLength(1 + 24);
    for (const k of ['tensor_parallel_size', 'dp_replicate_size', 'micro_batch_size', 'hardware', 'nodes', 'step_time_s', 'tokens_per_s', 'tokens_per_s_per_gpu', 'mfu', 'peak_bytes', 'fits', 'usd_per_million_tokens', 'exposed_ratio', 'skipped_reason']) {
      expect(header).toContain(k);
    }
    const combos = new Set(rows.slice(1).map((r) => `${r[col('tensor_parallel_size')]}/${r[col('dp_replicate_size')]}/${r[col('micro_batch_size')]}`));
    expect(combos.size).toBe(24);
    for (const r of rows.slice(1)) {
      expect(r[col('hardware')]).toBe('dgx-h100');
      expect(r[col('nodes')]).toBe('2');
      const status = r[col('status')];
      expect(['ok', 'skipped']).toContain(status);
      if (status === 'ok') expect(['true', 'false']).toContain(r[col('fits')]);
      else expect(r[col('skipped_reason')]!.length).toBeGreaterThan(10);
    }
    // Plain FSDP2 (tp 1, no replication) is always supported.
    expect(rows.slice(1).filter((r) => r[col('tensor_parallel_size')] === '1' && r[col('dp_replicate_size')] === '1').every((r) => r[col('status')] === 'ok')).toBe(true);
    // The table: one header, ranked rows, and a "skipped N: reason" line per reason.
    expect(full.stdout).toMatch(/24 configs/);
    const skippedCount = rows.slice(1).filter((r) => r[col('status')] === 'skipped').length;
    const reported = [...full.stdout.matchAll(/^skipped (\d+): /gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(reported).toBe(skippedCount);

    // The same sweep as a 2-task job array, merged.
    const parts = [join(dir, 'p1.jsonl'), join(dir, 'p2.jsonl')];
    for (let i = 1; i <= 2; i++) {
      const r = await cli(['sweep', EXAMPLE_70B, ...VARY_70B, '--shard', `${i}/2`, '--jsonl', parts[i - 1]!, '--jobs', '1']);
      expect(r.code).toBe(0);
      expect(readFileSync(parts[i - 1]!, 'utf8').trimEnd().split('\n')).toHaveLength(12);
    }
    const mergedCsv = join(dir, 'merged.csv');
    const merged = await cli(['merge', ...parts, '--csv', mergedCsv, '--no-report']);
    expect(merged.code).toBe(0);
    expect(readFileSync(mergedCsv, 'utf8')).toBe(readFileSync(csv, 'utf8'));
    expect(merged.stdout).toBe(full.stdout);
  }, 240_000);

  it('refuses a bad --vary key with exit code 2 and one line', async () => {
    const r = await cli(['sweep', EXAMPLE_70B, '--vary', 'micro_batch=1,2', '--no-report']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/micro_batch_size/);
  }, 60_000);
});
