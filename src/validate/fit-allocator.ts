import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearHardwareProfileCache, hardwareProfilesDir, listHardwareIds, loadHardwareProfile } from '../hardware/index.ts';
import { percentile } from '../metrics/result.ts';
import { readValidationRows } from './dataset.ts';
import { validateRows } from './run.ts';

/**
 * The documented global fit of `runtime.allocator_reserved_over_allocated`: one factor for every profile
 * (it describes PyTorch's caching allocator, not the hardware). Reserved memory is predicted as the sum of
 * each allocator pool's high-water mark (src/metrics/result.ts) times this factor, so only rows that report
 * `max_memory_reserved` depend on it. The fit simulates every memory row once, then scans the factor on a
 * 0.005 grid over [1.00, 1.50] for the value that minimises the median absolute peak-memory error over all
 * the memory rows (the validation metric). Never per row.
 *
 *   npm run fit:allocator -- ../shared/validation/memory-calibration.jsonl [--write]
 *
 * With --write it updates the value and its `sources` entry in every profile, editing only those two lines.
 */
const KEY = 'runtime.allocator_reserved_over_allocated';

async function main(args: string[]): Promise<void> {
  const write = args.includes('--write');
  const files = args.filter((a) => a !== '--write');
  const rows = files.flatMap((f) => readValidationRows(f)).filter((r) => typeof r.measured.peak_memory_bytes === 'number');
  const report = await validateRows(rows);
  const memory = report.rows.filter((r) => r.metric === 'peak_memory_bytes');
  // Undo the factor the profiles carry now: reserved rows scale linearly with it.
  const current = (hw: string) => loadHardwareProfile(hw).runtime.allocator_reserved_over_allocated;
  const base = memory.map((r) => ({ ...r, unscaled: r.kind === 'reserved' ? r.predicted / current(r.hardware) : r.predicted }));
  const medianAt = (f: number) => {
    const errs = base.map((r) => Math.abs((r.kind === 'reserved' ? r.unscaled * f : r.unscaled) / r.measured - 1)).sort((a, b) => a - b);
    return percentile(errs, 0.5);
  };
  let best = 1;
  let bestErr = Infinity;
  for (let i = 0; i <= 100; i++) {
    const f = 1 + i * 0.005;
    const e = medianAt(f);
    if (e < bestErr - 1e-12) [best, bestErr] = [f, e];
  }
  const reserved = base.filter((r) => r.kind === 'reserved');
  const ratios = reserved.map((r) => r.measured / r.unscaled).sort((a, b) => a - b);
  if (write) {
    const source =
      `global fit (src/validate/fit-allocator.ts) on the ${memory.length} peak-memory rows of shared/validation/memory-calibration.jsonl: ` +
      `reserved = (sum of the allocator pools' high-water marks: compute stream, FSDP all-gather stream, reduce-scatter stream) x this factor; ` +
      `${best.toFixed(3)} minimises the median |error| over all rows (${(100 * bestErr).toFixed(1)}%; measured/predicted on the ${reserved.length} reserved rows ` +
      `${ratios[0]!.toFixed(2)}-${ratios[ratios.length - 1]!.toFixed(2)}, median ${percentile(ratios, 0.5).toFixed(2)}). It stands for fragmentation inside the pools: ` +
      `PyTorch's caching allocator rounds requests (2 MiB / 20 MiB segments) and keeps freed blocks cached (c10/cuda/CUDACachingAllocator.cpp)`;
    for (const id of listHardwareIds()) {
      const path = join(hardwareProfilesDir(), `${id}.json`);
      const text = readFileSync(path, 'utf8');
      const next = text
        .replace(/("allocator_reserved_over_allocated":\s*)[0-9.]+/, `$1${best.toFixed(3)}`)
        .replace(new RegExp(`("${KEY.replace(/\./g, '\\.')}":\\s*)"(?:[^"\\\\]|\\\\.)*"`), `$1${JSON.stringify(source)}`);
      writeFileSync(path, next);
    }
    clearHardwareProfileCache();
  }
  process.stdout.write(`${memory.length} memory rows (${reserved.length} report reserved memory)\n`);
  process.stdout.write(`measured reserved / predicted pool high-water marks: ${ratios.map((x) => x.toFixed(3)).join(' ')} (median ${percentile(ratios, 0.5).toFixed(3)})\n`);
  process.stdout.write(`allocator_reserved_over_allocated ${best.toFixed(3)}: median |error| over all memory rows ${(100 * bestErr).toFixed(1)}%\n`);
  for (const r of base) {
    const p = r.kind === 'reserved' ? r.unscaled * best : r.unscaled;
    process.stdout.write(`  ${r.id.padEnd(9)} ${String(r.kind).padEnd(10)} ${((100 * (p - r.measured)) / r.measured).toFixed(1).padStart(6)}%\n`);
  }
}

await main(process.argv.slice(2));
