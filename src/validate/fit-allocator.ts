import { existsSync } from 'node:fs';
import { listHardwareIds } from '../hardware/index.ts';
import { readProfileJson, writeProfiles } from '../hardware/write.ts';
import { percentile } from '../metrics/result.ts';
import { fitAllocatorFactor, withAllocatorFactor } from './allocator-fit.ts';
import { leaveOneSourceOut } from './cv.ts';
import { readValidationRows } from './dataset.ts';
import { summarise, validateRows } from './run.ts';

/**
 * Fits `runtime.allocator_reserved_over_allocated` (src/validate/allocator-fit.ts) on the reserved-memory
 * rows of the given files and writes it to every profile (it describes PyTorch's allocator, not a GPU).
 *
 *   npm run fit:allocator -- ../shared/validation/memory-calibration.jsonl [--dry-run]
 *
 * Prints the in-sample and the leave-one-source-out errors. Profiles are validated and written once, at
 * the end; --dry-run only prints.
 */
async function main(argv: string[]): Promise<void> {
  const dryRun = argv.includes('--dry-run');
  const files = argv.filter((a) => a !== '--dry-run');
  const unknown = files.filter((f) => f.startsWith('--'));
  if (files.length === 0 || unknown.length > 0) {
    process.stderr.write(`error: ${unknown.length ? `unknown option ${unknown[0]}` : 'give the memory rows to fit on'}\nusage: npm run fit:allocator -- FILE.jsonl [FILE.jsonl …] [--dry-run]\n`);
    process.exit(2);
  }
  for (const f of files) {
    if (!existsSync(f)) {
      process.stderr.write(`error: cannot read ${f}\n`);
      process.exit(2);
    }
  }
  const rows = files.flatMap((f) => readValidationRows(f)).filter((r) => typeof r.measured.peak_memory_bytes === 'number');
  const report = await validateRows(rows);
  const memory = report.rows.filter((r) => r.metric === 'peak_memory_bytes');
  const fit = fitAllocatorFactor(memory);
  if (fit.rows === 0) {
    process.stderr.write('error: no row reports reserved memory (measured.peak_memory_kind: reserved): nothing to fit\n');
    process.exit(2);
  }
  const factor = Number(fit.factor.toFixed(3));
  const inSample = summarise(memory.map((c) => withAllocatorFactor(c, factor))).peak_memory_bytes!;
  const cv = leaveOneSourceOut({ rows: memory }).summary.peak_memory_bytes!;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  process.stdout.write(`${memory.length} memory rows, ${fit.rows} report reserved memory; measured/unscaled ${fit.ratios.map((x) => x.toFixed(3)).join(' ')} (median ${percentile(fit.ratios, 0.5).toFixed(3)})\n`);
  process.stdout.write(`allocator_reserved_over_allocated ${factor}: in-sample median |error| ${pct(inSample.median_abs_error)} (p90 ${pct(inSample.p90_abs_error)}); leave-one-source-out ${pct(cv.median_abs_error)} (p90 ${pct(cv.p90_abs_error)})\n`);
  const source =
    `global fit (src/validate/fit-allocator.ts, least squares in log space = geometric mean of measured / predicted) on the ${fit.rows} reserved-memory rows of ${files.map((f) => f.replace(/^.*shared\//, 'shared/')).join(', ')}: ` +
    `reserved = (sum of the allocator pools' high-water marks: compute stream, FSDP all-gather stream, reduce-scatter stream) x this factor; ratios ${fit.ratios[0]!.toFixed(2)}-${fit.ratios[fit.ratios.length - 1]!.toFixed(2)}. ` +
    `Leave-one-source-out peak-memory error ${pct(cv.median_abs_error)} median, ${pct(cv.p90_abs_error)} p90 over all ${memory.length} memory rows. It stands for fragmentation inside the pools: ` +
    `PyTorch's caching allocator rounds requests (2 MiB / 20 MiB segments) and keeps freed blocks cached (c10/cuda/CUDACachingAllocator.cpp)`;
  const profiles = listHardwareIds().map((id) => {
    const p = readProfileJson(id);
    p.runtime.allocator_reserved_over_allocated = factor;
    p.sources['runtime.allocator_reserved_over_allocated'] = source;
    return p;
  });
  if (dryRun) {
    process.stdout.write('dry run: no profile written\n');
    return;
  }
  for (const path of writeProfiles(profiles)) process.stdout.write(`wrote ${path}\n`);
}

await main(process.argv.slice(2));
