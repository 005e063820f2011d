import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.ts';
import { leaveOneSourceOut, type CrossValidation } from './cv.ts';
import { readValidationRows } from './dataset.ts';
import { validateRows, type MetricSummary, type Skipped } from './run.ts';

/**
 * The headline numbers README and docs/VALIDATION.md state and CI guards: leave-one-source-out errors of
 * tokens/s per GPU on training-calibration.jsonl and of peak memory on memory-calibration.jsonl.
 */
export const TRAINING_FILE = 'training-calibration.jsonl';
export const MEMORY_FILE = 'memory-calibration.jsonl';
/** LoRA / QLoRA / 8-bit / packing / Liger / CCE runs: tokens/s and memory, guarded beside the headline. */
export const PEFT_FILE = 'peft-calibration.jsonl';

/** ../shared/validation next to the project, where the calibration data lives (absent in a bare clone). */
export function sharedValidationDir(): string {
  return join(projectRoot(), '..', 'shared', 'validation');
}

export const haveSharedValidation = (dir = sharedValidationDir()) => existsSync(join(dir, TRAINING_FILE)) && existsSync(join(dir, MEMORY_FILE));

export interface Headline {
  tokens_per_s_per_gpu: MetricSummary;
  peak_memory_bytes: MetricSummary;
  skipped: { training: Skipped[]; memory: Skipped[] };
  training: CrossValidation;
  memory: CrossValidation;
  /** Leave-one-source-out on the PEFT runs, when that file is given. */
  peft?: CrossValidation;
}

export async function headline(trainingFile: string, memoryFile: string, peftFile?: string): Promise<Headline> {
  const t = await validateRows(readValidationRows(trainingFile));
  const m = await validateRows(readValidationRows(memoryFile));
  const training = leaveOneSourceOut(t);
  const memory = leaveOneSourceOut(m);
  const peft = peftFile && existsSync(peftFile) ? leaveOneSourceOut(await validateRows(readValidationRows(peftFile))) : undefined;
  return {
    tokens_per_s_per_gpu: training.summary.tokens_per_s_per_gpu!,
    peak_memory_bytes: memory.summary.peak_memory_bytes!,
    skipped: { training: t.skipped, memory: m.skipped },
    training,
    memory,
    ...(peft ? { peft } : {}),
  };
}

/** The committed baseline the CI check compares with (test/validate/baseline.json). */
type Scored = { n: number; median_abs_error: number; p90_abs_error: number };
export interface Baseline {
  tokens_per_s_per_gpu: Scored;
  peak_memory_bytes: Scored;
  /** The PEFT runs (peft-calibration.jsonl), leave one source out. */
  peft_tokens_per_s_per_gpu?: Scored;
  peft_peak_memory_bytes?: Scored;
}

/**
 * Allowed regression before CI fails, in absolute error (0.01 = one percentage point): the median may
 * worsen by 1 point and the p90 by 2 points; no row may be lost.
 */
export const MARGINS = { median: 0.01, p90: 0.02 } as const;

export function regressions(now: Baseline, base: Baseline): string[] {
  const out: string[] = [];
  for (const metric of ['tokens_per_s_per_gpu', 'peak_memory_bytes', 'peft_tokens_per_s_per_gpu', 'peft_peak_memory_bytes'] as const) {
    const [a, b] = [now[metric], base[metric]];
    if (!b) continue;
    if (!a) {
      out.push(`${metric}: not scored (its data file is missing), baseline ${b.n} rows`);
      continue;
    }
    const pp = (x: number) => `${(100 * x).toFixed(1)}%`;
    if (a.n < b.n) out.push(`${metric}: ${a.n} rows scored, baseline ${b.n} (rows are now skipped)`);
    if (a.median_abs_error > b.median_abs_error + MARGINS.median) out.push(`${metric}: median |error| ${pp(a.median_abs_error)} > baseline ${pp(b.median_abs_error)} + ${pp(MARGINS.median)}`);
    if (a.p90_abs_error > b.p90_abs_error + MARGINS.p90) out.push(`${metric}: p90 |error| ${pp(a.p90_abs_error)} > baseline ${pp(b.p90_abs_error)} + ${pp(MARGINS.p90)}`);
  }
  return out;
}

export const toBaseline = (h: Pick<Headline, 'tokens_per_s_per_gpu' | 'peak_memory_bytes' | 'peft'>): Baseline => {
  const pick = (s: MetricSummary) => ({ n: s.n, median_abs_error: Number(s.median_abs_error.toFixed(4)), p90_abs_error: Number(s.p90_abs_error.toFixed(4)) });
  const p = h.peft?.summary;
  return {
    tokens_per_s_per_gpu: pick(h.tokens_per_s_per_gpu),
    peak_memory_bytes: pick(h.peak_memory_bytes),
    ...(p?.tokens_per_s_per_gpu ? { peft_tokens_per_s_per_gpu: pick(p.tokens_per_s_per_gpu) } : {}),
    ...(p?.peak_memory_bytes ? { peft_peak_memory_bytes: pick(p.peak_memory_bytes) } : {}),
  };
};
