import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/shardsim.js');
const SCENARIO = join(ROOT, 'scenarios/llama-3.1-8b-ddp-8xh100.yaml');

describe('shardsim simulate --out', () => {
  it('writes the full report: summary, ≥ 3 charts as SVG + PNG, trace.json, report.html', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'shardsim-cli-')), 'out');
    const started = performance.now();
    const { stdout } = await exec('node', [BIN, 'simulate', SCENARIO, '--out', dir], { timeout: 120_000 });
    console.log(`simulate + report of ${SCENARIO.split('/').pop()}: ${((performance.now() - started) / 1e3).toFixed(1)} s wall`);
    expect(stdout).toContain(`report: ${dir}/`);
    const files = readdirSync(dir);
    for (const f of ['summary.json', 'summary.md', 'report.html', 'trace.json']) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.svg')).length).toBeGreaterThanOrEqual(3);
    expect(files.filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(3);
    for (const png of files.filter((f) => f.endsWith('.png'))) expect(statSync(join(dir, png)).size).toBeGreaterThan(20_000);
    const trace = JSON.parse(readFileSync(join(dir, 'trace.json'), 'utf8'));
    expect(trace.traceEvents.filter((e: { ph: string }) => e.ph === 'X').length).toBeGreaterThan(50);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).scenario).toBe('llama-3.1-8b-ddp-8xh100');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('DDP keeps a full replica');
  }, 120_000);

  it('--no-report writes nothing; --explain --json keeps stdout pure JSON and explains on stderr', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'shardsim-cli-')), 'out');
    const { stdout, stderr } = await exec('node', [BIN, 'simulate', SCENARIO, '--out', dir, '--no-report', '--json', '--explain'], { timeout: 120_000 });
    expect(existsSync(dir)).toBe(false);
    expect(JSON.parse(stdout).scenario).toBe('llama-3.1-8b-ddp-8xh100');
    expect(stderr.replace(/\s+/g, ' ')).toContain('Effective batch = micro_batch_size × gradient_accumulation_steps × dp_shard × dp_replicate = 8 × 2 × 1 × 8 = 128 sequences');
  }, 120_000);
});
