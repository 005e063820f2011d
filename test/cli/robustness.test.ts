import { describe, expect, it, beforeAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Issue 16's command-line cases: each ends within seconds with a result or one line on stderr (exit 2),
 * never a hang, a stack trace, an internal error or a number that cannot be.
 */
const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/shardsim.js');
const SWEEP_BASE = join(ROOT, 'scenarios/sweeps/llama-3.1-70b-2node.yaml');
const SCENARIO = join(ROOT, 'scenarios/llama-3.1-8b-ddp-8xh100.yaml');
const TRAINING = join(ROOT, '../shared/validation/training-calibration.jsonl');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}, cmd: string[] = ['node', BIN]): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(cmd[0]!, [...cmd.slice(1), ...args], { timeout: 60_000, cwd: dir, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Exit 2, one `error:` line matching `pattern`, nothing on stdout, no stack trace. */
function expectRefusal(r: Run, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('warning: '));
  expect(r.code, r.stderr).toBe(2);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  expect(r.stdout).toBe('');
}

const ok = 'base_model: meta-llama/Llama-3.1-8B\nsequence_len: 2048\nmicro_batch_size: 1\nbf16: true\nflash_attention: true\n';
let dir: string;
const file = (name: string, text: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardsim-robust-'));
  chmodSync(dir, 0o755); // readable by the unprivileged user of the read-only case
  writeFileSync(join(dir, 'existing'), 'x');
});

describe.concurrent('outputs are checked before any work', { timeout: 60_000 }, () => {
  it.each([
    ['simulate --out to an existing file', ['simulate', SCENARIO, '--no-advice', '--out', 'existing'], /--out "existing": is a file, not a folder/],
    ['simulate --out /dev/null', ['simulate', SCENARIO, '--no-advice', '--out', '/dev/null'], /--out "\/dev\/null": is a device or special file, not a folder/],
    ['simulate --out /proc/x (hung ~30 min)', ['simulate', SCENARIO, '--no-advice', '--out', '/proc/x'], /--out "\/proc\/x": cannot create the folder/],
    ['sweep --jsonl into a missing folder', ['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--jsonl', '/nonexistent/dir/p.jsonl'], /--jsonl "\/nonexistent\/dir\/p.jsonl": the folder \/nonexistent\/dir does not exist/],
    ['sweep --csv to a folder', ['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--csv', '.'], /--csv ".": is a folder, not a file/],
    ['sweep --out /proc/x', ['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--out', '/proc/x'], /--out "\/proc\/x": cannot create the folder/],
    ['sweep --csv - --json (two formats on stdout)', ['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--csv', '-', '--json'], /--csv - and --json both write to stdout/],
    ['sweep --csv over its own base scenario', ['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--csv', SWEEP_BASE], /is also an input of this command/],
    ['compare --out /dev/null', ['compare', SCENARIO, SCENARIO, '--out', '/dev/null'], /--out "\/dev\/null": is a device/],
    ['validate --out to an existing file', ['validate', '--data', TRAINING, '--out', 'existing'], /--out "existing": is a file, not a folder/],
  ])('%s', async (_name, args, pattern) => {
    expectRefusal(await cli(args), pattern);
  });

  it('a run refuses a folder another live run holds, and takes over the lock of a dead one', async () => {
    const held = join(dir, 'held');
    mkdirSync(held);
    writeFileSync(join(held, '.shardsim.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    expectRefusal(await cli(['simulate', SCENARIO, '--no-advice', '--out', held]), new RegExp(`another shardsim run \\(pid ${process.pid} on .*\\) is writing there`));
    const stale = join(dir, 'stale');
    mkdirSync(stale);
    writeFileSync(join(stale, '.shardsim.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), started: 'long ago' }));
    const r = await cli(['simulate', SCENARIO, '--no-advice', '--out', stale]);
    expect(r.code).toBe(0);
    expect(existsSync(join(stale, 'report.html'))).toBe(true);
    expect(existsSync(join(stale, '.shardsim.lock'))).toBe(false);
  });
});

describe('merge', { timeout: 60_000 }, () => {
  let part: string;
  beforeAll(async () => {
    part = join(dir, 'part.jsonl');
    const r = await cli(['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--vary', 'tensor_parallel_size=1,2', '--shard', '1/2', '--jsonl', part, '--jobs', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(`${part}.part`)).toBe(false);
  });
  const first = () => readFileSync(part, 'utf8').split('\n')[0]!;

  it.each([
    ['an absurd total', (l: string) => l.replace(/"total":\d+/, '"total":1e300'), /sweep.total must be a whole number ≥ 1, got 1e\+300/],
    ['an index outside the grid', (l: string) => l.replace(/"index":\d+/, '"index":-5'), /index must be a whole number in \[0, 4\), got -5/],
    ['an unknown status', (l: string) => l.replace(/"status":"ok"/, '"status":"weird"'), /status must be "ok", "skipped" or "error"/],
    ['a non-numeric metric', (l: string) => l.replace(/"step_time_s":[^,]+/, '"step_time_s":"x"'), /metrics.step_time_s must be a finite number, got "x"/],
    ['a JSON array', () => '[1,2]', /not a JSON object/],
  ])('refuses %s with one line naming file:line', async (_name, edit, pattern) => {
    expectRefusal(await cli(['merge', file(`bad-${_name.replace(/\W+/g, '-')}.jsonl`, edit(first()) + '\n'), '--no-report']), new RegExp(`:1: not a sweep result line \\(${pattern.source}`));
  });

  it('a huge total is counted, not enumerated: the merge ends at once', async () => {
    const r = await cli(['merge', file('huge.jsonl', first().replace(/"total":\d+/, '"total":1000000000000000') + '\n'), '--no-report', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.missing).toEqual({ count: 1e15 - 1, first: expect.any(Array) });
  });

  it('keeps every whole line of a shard killed while writing its last one', async () => {
    const lines = readFileSync(part, 'utf8').trim().split('\n');
    const r = await cli(['merge', file('cut.jsonl', `${lines[0]}\n${lines[1]!.slice(0, 40)}`), '--no-report', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ignoring a truncated last line/);
    expect(JSON.parse(r.stdout).rows).toHaveLength(1);
  });
});

describe.concurrent('huge values end in one line, before simulating', { timeout: 60_000 }, () => {
  it('gradient_accumulation_steps: 1000000000', async () => {
    expectRefusal(await cli(['simulate', file('ga.yaml', ok + 'gradient_accumulation_steps: 1000000000\n'), '--no-report']), /the step needs at least 6.40·10\^10 tasks .* more than this process can hold/);
  });

  it('--steps 1000000000 without jitter is one step repeated: a result at once', async () => {
    const r = await cli(['simulate', SCENARIO, '--no-report', '--no-advice', '--json', '--steps', '1000000000']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.steps.count).toBe(1e9);
    expect(j.steps.p95_s).toBe(j.step_time_s);
  });

  it('--steps 1000000000 with jitter is refused with the most that fits', async () => {
    expectRefusal(await cli(['simulate', SCENARIO, '--no-report', '--steps', '1000000000', '--jitter', '0.02']), /simulation.steps: 1.00·10\^9 jittered steps .* use at most [\d,]+ steps/);
  });

  it('a scenario larger than the heap can parse (a huge datasets: list) is refused before parsing', async () => {
    const big = ok + 'datasets:\n' + '  - {path: tatsu-lab/alpaca, type: alpaca}\n'.repeat(60_000);
    const r = await cli(['simulate', file('datasets.yaml', big), '--no-report'], { NODE_OPTIONS: '--max-old-space-size=96' });
    expectRefusal(r, /scenario file ".*datasets.yaml" is .* GB; parsing it needs ~.* more than this process can hold/);
  });

  it('--bytes 0.4 and a buffer larger than the GPU', async () => {
    expectRefusal(await cli(['collective', 'allreduce', '--bytes', '0.4', '--gpus', '8', '--hardware', 'dgx-h100']), /--bytes must be at least 1 byte/);
    expectRefusal(await cli(['collective', 'allreduce', '--bytes', '1e30', '--gpus', '8', '--hardware', 'dgx-h100']), /does not fit in the .* of one NVIDIA H100/);
  });
});

describe.concurrent('silent-wrong cases are refused at their cause', { timeout: 60_000 }, () => {
  it.each([
    ['--algo nvls on a PCIe box', ['collective', 'allreduce', '--bytes', '64MiB', '--gpus', '8', '--hardware', '8x-l40s-pcie', '--algo', 'nvls'], /--algo nvls leaves no algorithm .* 8x-l40s-pcie has no NVLink SHARP .* choose from ring/],
    ['--algo tree on one node', ['collective', 'allreduce', '--bytes', '64MiB', '--gpus', '8', '--hardware', 'dgx-h100', '--algo', 'tree'], /--algo tree leaves no algorithm .* tree runs across nodes — choose from ring, nvls/],
    ['--jitter ""', ['simulate', SCENARIO, '--no-report', '--jitter', ''], /--jitter must be a number, got ""/],
  ])('%s', async (_name, args, pattern) => {
    expectRefusal(await cli(args), pattern);
  });

  it.each([
    ['gpt2 beyond its learned positions', 'base_model: gpt2\nsequence_len: 2048\nmicro_batch_size: 1\n', /sequence_len: 2048 is beyond the 1024 learned positions of gpt2/],
    ['DeepSpeed fp16 against bf16: true', ok + 'deepspeed: {zero_optimization: {stage: 2}, fp16: {enabled: true}}\n', /deepspeed.fp16.enabled: true (contradicts bf16: true|disagrees with fp16 \(false\))/],
    ['a straggler rank listed twice', ok + 'simulation: {stragglers: [{rank: 1, compute_slowdown: 2}, {rank: 1, link_slowdown: 2}]}\n', /simulation.stragglers.1.rank: rank 1 is listed twice/],
    ['bf16: maybe', ok.replace('bf16: true', 'bf16: maybe'), /bf16: must be true, false or "auto" \(got "maybe"\)/],
    ['gradient_checkpointing: "full"', ok + 'gradient_checkpointing: "full"\n', /gradient_checkpointing: must be true, false, "selective"(, "[a-z_]+")* or "[a-z_]+" \(got "full"\)/],
    ['micro_batch_size: 1e30', ok.replace('micro_batch_size: 1', 'micro_batch_size: 1e30'), /micro_batch_size: must be at most 2\^53 − 1 .* \(got 1e\+30\)/],
    ['a UTF-16 file', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ok, 'utf16le')]), /is UTF-16 \(little-endian\) text; UTF-8 is expected/],
  ])('%s', async (name, text, pattern) => {
    expectRefusal(await cli(['simulate', file(`${name.replace(/\W+/g, '-')}.yaml`, text), '--no-report']), pattern);
  });

  it('YAML merge keys apply as in Axolotl: FSDP2 with checkpointing, not DDP', async () => {
    const text = 'defaults: &d\n  fsdp_version: 2\n  gradient_checkpointing: true\n' + ok + '<<: *d\n';
    const r = await cli(['simulate', file('merge-keys.yaml', text), '--no-report', '--no-advice', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.strategy).toBe('fsdp2');
    expect(j.throughput.hfu).toBeGreaterThan(j.throughput.mfu);
  });

  it('validate reports rows whose measured value it cannot compare', async () => {
    const row = JSON.parse(readFileSync(TRAINING, 'utf8').split('\n')[0]!);
    const data = [0, -3, 'fast'].map((v, i) => JSON.stringify({ ...row, id: `bad${i}`, measured: { tokens_per_s_per_gpu: v } })).join('\n');
    const r = await cli(['validate', '--data', file('measured.jsonl', data + '\n'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.rows).toHaveLength(0);
    expect(j.skipped.map((s: { reason: string }) => s.reason)).toEqual([
      'measured.tokens_per_s_per_gpu is 0, not a positive number: not compared',
      'measured.tokens_per_s_per_gpu is -3, not a positive number: not compared',
      'measured.tokens_per_s_per_gpu is "fast", not a positive number: not compared',
    ]);
  });
});

describe('a read-only folder, as a user who cannot write there', { timeout: 60_000 }, () => {
  // Root writes anywhere: as root, drop to `nobody` with setpriv in a folder root owns; otherwise run as
  // ourselves in a folder without write permission.
  const root = process.getuid?.() === 0;
  const runner = root ? (existsSync('/usr/bin/setpriv') ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'node', BIN] : undefined) : ['node', BIN];
  it.skipIf(!runner)('simulate, sweep, compare, validate and merge refuse before working', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, root ? 0o755 : 0o555);
    const cases: [string[], RegExp][] = [
      [['simulate', SCENARIO, '--no-advice', '--out', join(ro, 'r')], /cannot create the folder \(permission denied\)/],
      [['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--jsonl', join(ro, 'p.jsonl')], /cannot write there \(permission denied\)/],
      [['compare', SCENARIO, SCENARIO, '--out', join(ro, 'c')], /cannot create the folder \(permission denied\)/],
      [['validate', '--data', TRAINING, '--out', join(ro, 'v')], /cannot create the folder \(permission denied\)/],
    ];
    const part = join(dir, 'ro-part.jsonl');
    expect((await cli(['sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2', '--jsonl', part, '--no-report', '--jobs', '1'])).code).toBe(0);
    chmodSync(part, 0o644);
    cases.push([['merge', part, '--out', join(ro, 'm')], /cannot create the folder \(permission denied\)/]);
    for (const [args, pattern] of cases) expectRefusal(await cli(args, {}, runner!), pattern);
    expect(readdirSync(ro)).toEqual([]);
  });
});

describe('a sweep stopped by SIGTERM (Slurm time limit) keeps what finished', { timeout: 60_000 }, () => {
  it('streams rows to <jsonl>.part, then writes the JSONL and CSV and exits 143', async () => {
    const jsonl = join(dir, 'term.jsonl');
    const csv = join(dir, 'term.csv');
    const child = spawn('node', [BIN, 'sweep', SWEEP_BASE, '--vary', 'micro_batch_size=1,2,4,8', '--vary', 'gradient_accumulation_steps=1,2,4,8,16,32', '--vary', 'sequence_len=2048,4096,8192', '--jobs', '1', '--jsonl', jsonl, '--csv', csv, '--out', join(dir, 'term-report')], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const code = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    // Wait for a few streamed rows, then send what Slurm sends at the time limit.
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 200));
      if (existsSync(`${jsonl}.part`) && readFileSync(`${jsonl}.part`, 'utf8').split('\n').length > 3) break;
    }
    child.kill('SIGTERM');
    expect(await code).toBe(143);
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThan(72);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(lines.length + 1);
    expect(existsSync(`${jsonl}.part`)).toBe(false);
    expect(existsSync(join(dir, 'term-report'))).toBe(false);
    expect(stderr).toMatch(/interrupted: \d+ of 72 configs finished, kept in/);
  });
});
