import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearHardwareProfileCache, hardwareProfilesDir } from '../hardware/index.ts';
import { readValidationRows } from './dataset.ts';
import { validateRows } from './run.ts';

/**
 * The documented global fit of `kernels.sustained_clock_fraction`: for each GPU chip, the one value that
 * minimises the median absolute tokens/s error over every calibration row measured on that chip. One
 * constant per chip, never per row. Profiles of the same chip share it; chips without rows keep theirs.
 *
 *   npm run fit:clock -- ../shared/validation/training-calibration.jsonl
 */
const CHIPS: Record<string, { profiles: string[]; shareWith: string[] }> = {
  'A100 SXM4': { profiles: ['dgx-a100-40gb', 'dgx-a100-80gb'], shareWith: [] },
  'H100 SXM5': { profiles: ['dgx-h100'], shareWith: ['hgx-h200', 'h100-96gb-grand-teton'] },
};

function setFraction(ids: string[], value: number, source?: string): void {
  for (const id of ids) {
    const path = join(hardwareProfilesDir(), `${id}.json`);
    const profile = JSON.parse(readFileSync(path, 'utf8'));
    profile.kernels.sustained_clock_fraction = Number(value.toFixed(3));
    if (source) profile.sources['kernels.sustained_clock_fraction'] = source;
    writeFileSync(path, JSON.stringify(profile, null, 2) + '\n');
  }
  clearHardwareProfileCache();
}

async function main(files: string[]): Promise<void> {
  const rows = files.flatMap((f) => readValidationRows(f));
  for (const [chip, { profiles, shareWith }] of Object.entries(CHIPS)) {
    const mine = rows.filter((r) => profiles.includes(r.hardware) && typeof r.measured.tokens_per_s_per_gpu === 'number');
    if (mine.length === 0) continue;
    const score = async (f: number) => {
      setFraction(profiles, f);
      const report = await validateRows(mine);
      return report.summary.tokens_per_s_per_gpu!;
    };
    // Golden-section search on [0.5, 1] (the median error is unimodal in a global rate factor).
    let [lo, hi] = [0.5, 1.0];
    const g = (Math.sqrt(5) - 1) / 2;
    for (let i = 0; i < 18; i++) {
      const a = hi - g * (hi - lo);
      const b = lo + g * (hi - lo);
      if ((await score(a)).median_abs_error < (await score(b)).median_abs_error) hi = b;
      else lo = a;
    }
    const best = (lo + hi) / 2;
    const s = await score(best);
    const source = `global fit (src/validate/fit-clock.ts) over the ${s.n} tokens/s rows measured on ${chip} in shared/validation/training-calibration.jsonl: ` +
      `${best.toFixed(3)} minimises the median |error| (${(100 * s.median_abs_error).toFixed(1)}%, bias ${(100 * s.bias).toFixed(1)}%). ` +
      'It stands for the clock a power-limited GPU sustains through training below the burst clock of the matmul / attention microbenchmarks ' +
      '(e.g. A100 drops from 1410 to ~1200 MHz under its power limit, liangan1/GPU_travel performance/flash-attn/README.md).';
    setFraction(profiles, best, source);
    if (shareWith.length > 0) setFraction(shareWith, best, `derived: same chip as ${profiles.join(', ')}; ` + source);
    process.stdout.write(`${chip.padEnd(10)} rows ${String(s.n).padStart(4)}  sustained_clock_fraction ${best.toFixed(3)}  median |err| ${(100 * s.median_abs_error).toFixed(1)}%  p90 ${(100 * s.p90_abs_error).toFixed(1)}%  bias ${(100 * s.bias).toFixed(1)}%\n`);
  }
}

await main(process.argv.slice(2));
