import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/shardsim.js');
const DATA = join(ROOT, '../shared/validation/collectives-calibration.jsonl');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', [BIN, 'collective', ...args], { timeout: 60_000, cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('shardsim collective', () => {
  it('--json prints time, algbw, busbw (nccl-tests definitions) and the algorithm', async () => {
    const r = await cli(['allreduce', '--bytes', '64MiB', '--gpus', '8', '--hardware', 'dgx-h100', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { time_s: number; algbw_GBps: number; busbw_GBps: number; algorithm: string };
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['time_s', 'algbw_GBps', 'busbw_GBps', 'algorithm']));
    expect(j.algbw_GBps).toBeCloseTo(2 ** 26 / j.time_s / 1e9, 6);
    expect(j.busbw_GBps).toBeCloseTo(j.algbw_GBps * 1.75, 6);
    expect(j.algorithm).toBe('nvls');
  }, 60_000);

  it('--bytes takes units: "1 GB" is 10^9 bytes', async () => {
    const a = JSON.parse((await cli(['allgather', '--bytes', '1 GB', '--gpus', '16', '--nodes', '2', '--hardware', 'dgx-a100-80gb', '--json'])).stdout);
    const b = JSON.parse((await cli(['allgather', '--bytes', '1000000000', '--gpus', '16', '--nodes', '2', '--hardware', 'dgx-a100-80gb', '--json'])).stdout);
    expect(a).toEqual(b);
    expect(a.algorithm).toBe('ring');
  }, 60_000);

  it('--sweep prints an nccl-tests style table, 8 B to 8 GiB', async () => {
    const r = await cli(['reducescatter', '--gpus', '8', '--hardware', 'dgx-a100-80gb', '--sweep']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const header = lines.filter((l) => l.startsWith('#'));
    const rows = lines.filter((l) => !l.startsWith('#')).map((l) => l.trim().split(/\s+/));
    expect(header.some((l) => /size.*count.*type.*time.*algbw.*busbw.*algorithm/.test(l))).toBe(true);
    expect(rows).toHaveLength(31);
    expect(rows[0]!.slice(0, 3)).toEqual(['8', '2', 'float']);
    expect(rows[30]![0]).toBe(String(8 * 2 ** 30));
    const busbw = rows.map((c) => Number(c[5]));
    for (let i = 1; i < busbw.length; i++) expect(busbw[i]!).toBeGreaterThanOrEqual(busbw[i - 1]!);
    expect(rows[0]![6]).toBe('ring/LL');
    expect(rows[30]![6]).toBe('ring/Simple');
  }, 60_000);

  it.skipIf(!existsSync(DATA))('--validate prints the table and a passing summary (default data path relative to the working directory)', async () => {
    const r = await cli(['--validate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/# summary/);
    for (const id of ['dgx-a100-80gb', 'dgx-b200', 'dgx-h100', 'hgx-h200']) expect(r.stdout).toMatch(new RegExp(`\\n\\s+${id}\\s+\\d+.*pass`));
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/PASS$/);
    const explicit = await cli(['--validate', '--data', DATA, '--json']);
    const j = JSON.parse(explicit.stdout) as { results: unknown[]; summary: { pass: boolean }[] };
    expect(j.results.length).toBeGreaterThan(60);
    expect(j.summary.every((s) => s.pass)).toBe(true);
  }, 60_000);

  it.each([
    ['unknown collective', ['alltoallv', '--bytes', '1MiB', '--gpus', '8', '--hardware', 'dgx-h100'], /unknown collective "alltoallv"/],
    ['bad size', ['allreduce', '--bytes', 'lots', '--gpus', '8', '--hardware', 'dgx-h100'], /--bytes: cannot read "lots"/],
    ['too many GPUs per node', ['allreduce', '--bytes', '1MiB', '--gpus', '16', '--nodes', '1', '--hardware', 'dgx-h100'], /16 GPUs per node, but a dgx-h100 node has 8/],
    ['no hardware', ['allreduce', '--bytes', '1MiB', '--gpus', '8'], /--hardware is required/],
    ['unknown hardware', ['allreduce', '--bytes', '1MiB', '--gpus', '8', '--hardware', 'dgx-h10'], /unknown hardware profile "dgx-h10"/],
    ['missing data', ['--validate', '--data', '/nonexistent/c.jsonl'], /calibration file not found/],
    ['bad algo', ['allreduce', '--bytes', '1MiB', '--gpus', '8', '--hardware', 'dgx-h100', '--algo', 'butterfly'], /unknown algorithm "butterfly"/],
  ])('%s: one line, exit 2', async (_name, args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
