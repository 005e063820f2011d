import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `shardsim bench` times `simulate --out` children through this preload: it must report the child's own
// CPU (a busy child reports more than an idle one) and its peak RSS (a child holding 200 MB reports more).
describe('bin/bench-probe.cjs', () => {
  const probe = join(import.meta.dirname, '../../bin/bench-probe.cjs');
  const run = (code: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'shardsim-probe-')), 'probe.json');
    const child = spawnSync(process.execPath, ['--require', probe, '-e', code], { env: { ...process.env, SHARDSIM_BENCH_PROBE: file } });
    expect(child.status).toBe(0);
    return JSON.parse(readFileSync(file, 'utf8')) as { cpuSeconds: number; peakRssBytes: number };
  };

  it('writes the child process CPU seconds and peak RSS at exit', () => {
    const idle = run('0');
    const busy = run('const t = Date.now(); let x = 0; while (Date.now() - t < 300) x++; const b = Buffer.alloc(200e6, 1); console.log(b[5] + x > 0)');
    expect(busy.cpuSeconds).toBeGreaterThan(idle.cpuSeconds + 0.15);
    expect(busy.peakRssBytes).toBeGreaterThan(idle.peakRssBytes + 150e6);
  });

  it('is inert without SHARDSIM_BENCH_PROBE (writes nothing, prints nothing)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'shardsim-probe-'));
    const env = { ...process.env };
    delete env.SHARDSIM_BENCH_PROBE;
    const child = spawnSync(process.execPath, ['--require', probe, '-e', '0'], { cwd, env, encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(child.stdout + child.stderr).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });
});
