import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { scenario, simulateFlags } from './fuzz-arbitraries.ts';
import { resultProblems } from './result-checks.ts';

/**
 * Issue 16: a seeded, time-bounded fuzz over scenario keys and CLI flags. Every run ends within a bound
 * with a result whose numbers are finite and consistent, or with a one-line refusal (exit 2). A failure
 * prints the seed and the case; FUZZ_SEED and FUZZ_RUNS replay or widen it.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 16);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
/** One case may take this long before it counts as a hang (the worker's small heap keeps plans small). */
const CASE_MS = 20_000;
const HEAP_MB = 256;

describe('fuzz: scenario keys', () => {
  it(`every scenario ends in a consistent result or a one-line refusal (seed ${SEED}, ${RUNS} runs)`, { timeout: 180_000 }, async () => {
    // A worker cannot start from a .ts file: its entry registers tsx's loader, then imports the worker.
    // (The ESM build of tsx's API, resolved from this file as an import would resolve it.)
    const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
    const entry = new URL('./fuzz-worker.ts', import.meta.url).href;
    const worker = new Worker(`import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
      workerData: { seed: SEED, numRuns: RUNS, timeLimitMs: 120_000, baseDir: tmpdir() },
    });
    let last: unknown;
    const report = await new Promise<{ failed: boolean; numRuns: number; outcomes: { ok: number; refused: number }; counterexample?: string; error?: string }>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          void worker.terminate();
          reject(new Error(`a case did not end within ${CASE_MS / 1e3} s (seed ${SEED}): ${JSON.stringify(last)}`));
        }, CASE_MS);
      };
      arm();
      worker.on('message', (m: { type: string }) => {
        if (m.type === 'case') {
          last = m;
          arm();
        } else {
          clearTimeout(timer);
          resolve(m as never);
        }
      });
      worker.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`the worker died (seed ${SEED}) on ${JSON.stringify(last)}: ${e.message}`));
      });
    });
    await worker.terminate();
    expect(report.failed, `seed ${SEED}: ${report.error}\ncounterexample: ${report.counterexample}`).toBe(false);
    expect(report.numRuns).toBeGreaterThan(20);
    // The generator must reach both outcomes, or the property says little.
    expect(report.outcomes.ok).toBeGreaterThan(0);
    expect(report.outcomes.refused).toBeGreaterThan(0);
  });
});

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/shardsim.js');

describe('fuzz: command-line flags', () => {
  it(`simulate with random flags on random scenarios exits 0 with sane JSON or 2 with one line (seed ${SEED})`, { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-fuzz-'));
    const cases = fc.sample(fc.tuple(scenario, simulateFlags, fc.constantFrom('--json', '--report', '--explain')), { seed: SEED, numRuns: Number(process.env.FUZZ_CLI_RUNS ?? 12) });
    const problems: string[] = [];
    // Two at a time: the machine has two cores.
    for (let i = 0; i < cases.length; i += 2) {
      await Promise.all(
        cases.slice(i, i + 2).map(async ([s, flags, mode], j) => {
          const file = join(dir, `case-${i + j}.yaml`);
          writeFileSync(file, JSON.stringify(s));
          const args = ['simulate', file, ...Object.entries(flags).flatMap(([k, v]) => [k, v])];
          if (mode === '--json') args.push('--json', '--no-report');
          else if (mode === '--report') args.push('--out', join(dir, `report-${i + j}`));
          else args.push('--explain', '--no-report');
          const started = Date.now();
          let code = 0;
          let stdout = '';
          let stderr = '';
          try {
            ({ stdout, stderr } = await exec('node', [BIN, ...args], { timeout: 60_000, env: { ...process.env, NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` } }));
          } catch (e) {
            const err = e as { code: number | null; signal?: string; stdout: string; stderr: string };
            code = err.code ?? -1;
            stdout = err.stdout;
            stderr = err.stderr;
            if (err.signal) problems.push(`case ${i + j} killed by ${err.signal} after ${Date.now() - started} ms: ${args.join(' ')}`);
          }
          const errors = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('warning: '));
          if (code === 2) {
            if (errors.length !== 1 || !errors[0]!.startsWith('error: ')) problems.push(`case ${i + j}: exit 2 without one error line: ${JSON.stringify(stderr)} (${args.join(' ')})`);
          } else if (code === 0) {
            if (mode === '--json') {
              const found = resultProblems(JSON.parse(stdout));
              if (found.length > 0) problems.push(`case ${i + j}: ${found.join('; ')} (${args.join(' ')})`);
            } else if (!/step time/.test(stdout + stderr)) problems.push(`case ${i + j}: exit 0 without a summary`);
          } else problems.push(`case ${i + j}: exit ${code}: ${stderr.slice(0, 300)} (${args.join(' ')}, scenario ${JSON.stringify(s)})`);
        }),
      );
    }
    expect(problems, `seed ${SEED}`).toEqual([]);
  });
});
