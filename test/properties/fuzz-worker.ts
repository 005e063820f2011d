/**
 * Runs the scenario property in a worker thread with a small heap (the parent sets resourceLimits): the
 * simulator's limits scale with the heap (src/pipeline/limits.ts), so every accepted case stays small and
 * fast, and the parent can stop a case that does not end. Posts each case before running it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { loadScenarioObject } from '../../src/config/index.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';
import { ShardsimError } from '../../src/util/errors.ts';
import { scenario } from './fuzz-arbitraries.ts';
import { resultProblems } from './result-checks.ts';

const { seed, numRuns, timeLimitMs, baseDir } = workerData as { seed: number; numRuns: number; timeLimitMs: number; baseDir: string };
const outcomes = { ok: 0, refused: 0 };

const property = fc.asyncProperty(scenario, fc.boolean(), async (s, steadyState) => {
  parentPort!.postMessage({ type: 'case', scenario: s, steadyState });
  let run;
  try {
    run = await simulateLoaded(loadScenarioObject(s as Record<string, unknown>, { name: 'fuzz', baseDir }), { steadyState });
  } catch (e) {
    if (e instanceof ShardsimError) {
      if (e.message.includes('\n') || e.message.trim() === '') throw new Error(`refusal is not one line: ${JSON.stringify(e.message)}`);
      outcomes.refused++;
      return;
    }
    throw e;
  }
  const problems = resultProblems(run.result);
  if (problems.length > 0) throw new Error(`inconsistent result: ${problems.join('; ')}`);
  outcomes.ok++;
});

const report = await fc.check(property, { seed, numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false });
parentPort!.postMessage({
  type: 'done',
  failed: report.failed,
  numRuns: report.numRuns,
  outcomes,
  counterexample: report.counterexample ? JSON.stringify(report.counterexample) : undefined,
  error: report.errorInstance ? String((report.errorInstance as Error).message ?? report.errorInstance) : undefined,
});
