import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveSharedValidation, headline, MARGINS, MEMORY_FILE, PEFT_FILE, regressions, sharedValidationDir, toBaseline, TRAINING_FILE, type Baseline } from '../../src/validate/headline.ts';

const base = JSON.parse(readFileSync(join(import.meta.dirname, 'baseline.json'), 'utf8')) as Baseline;
const dir = sharedValidationDir();

describe('regression check against the committed validation baseline', () => {
  it('flags a worse median or p90 beyond the margins, and lost rows', () => {
    const same = structuredClone(base);
    expect(regressions(same, base)).toEqual([]);
    const worse = structuredClone(base);
    worse.tokens_per_s_per_gpu.median_abs_error += MARGINS.median + 0.001;
    worse.peak_memory_bytes.p90_abs_error += MARGINS.p90 + 0.001;
    worse.peak_memory_bytes.n -= 1;
    worse.peft_peak_memory_bytes!.median_abs_error += MARGINS.median + 0.001;
    expect(regressions(worse, base)).toHaveLength(4);
    // A baseline metric that is no longer scored is a regression too.
    const { peft_tokens_per_s_per_gpu: _gone, ...partial } = same;
    expect(regressions(partial, base)).toEqual([expect.stringMatching(/^peft_tokens_per_s_per_gpu: not scored/)]);
    const better = structuredClone(base);
    better.tokens_per_s_per_gpu.median_abs_error -= 0.05;
    expect(regressions(better, base)).toEqual([]);
  });

  it.skipIf(!haveSharedValidation(dir))(`leave-one-source-out on ${TRAINING_FILE}, ${MEMORY_FILE} and ${PEFT_FILE} stays within the margins of test/validate/baseline.json`, async () => {
    const now = toBaseline(await headline(join(dir, TRAINING_FILE), join(dir, MEMORY_FILE), join(dir, PEFT_FILE)));
    // To accept a change in accuracy on purpose: npm run validate:baseline -- ../shared/validation --write
    expect(regressions(now, base)).toEqual([]);
  }, 120_000);
});

if (!haveSharedValidation(dir)) console.warn(`skipping the validation regression check: ${dir} is absent (the calibration data lives in ../shared/validation)`);
