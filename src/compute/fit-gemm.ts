import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { listHardwareIds } from '../hardware/index.ts';
import { readProfileJson, writeProfiles } from '../hardware/write.ts';
import type { HardwareProfile } from '../hardware/types.ts';
import { anchorToMamf, fitGemmModel, parseGemmCsv, parseXlaMatmulTable } from './gemm-fit.ts';

/**
 * Fits the GEMM shape model (src/compute/gemm.ts) on a published per-shape GEMM microbenchmark and writes
 * `kernels.gemm` of the profiles it describes — never on end-to-end training rows.
 *
 *   npm run fit:gemm -- TABLE --key sm_90 --profiles dgx-h100,hgx-h200 [--derive dgx-a100-80gb,...] [--dry-run]
 *
 * TABLE is XLA's default matmul table (xla/service/gpu/model/matmul_interpolator_data.h, e.g. from
 * github.com/ROCm/xla at d02afb4f; `--key` picks the compute capability) or a CSV of batch,m,n,k,tflops.
 * The k-loop overhead, the fixed latency (and the candidate tiles) are fitted on the table; the peak of
 * every profile is then anchored to its own measured best matmul (gpu.achieved_bf16_matmul_flops_per_second
 * at gpu.achieved_bf16_matmul_shape, a PyTorch torch.mm measurement), because PyTorch's cuBLAS heuristics
 * rather than XLA's autotuner pick the kernels in training. `--profiles` are the GPUs the table measured;
 * `--derive` lists profiles of other GPUs that take the fitted shape parameters (their sources say
 * "derived"). Profiles are validated and written once, at the end; `--dry-run` only prints.
 */
function usage(message: string): never {
  process.stderr.write(`error: ${message}\nusage: npm run fit:gemm -- TABLE --key KEY --profiles ID[,ID] [--derive ID[,ID]] [--min-flops 1e10] [--cite TEXT] [--dry-run]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const opts: Record<string, string> = {};
  const positional: string[] = [];
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dry-run') dryRun = true;
    else if (a.startsWith('--')) {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      opts[a.slice(2)] = v;
    } else positional.push(a);
  }
  if (positional.length !== 1) usage('give exactly one TABLE file');
  const known = new Set(listHardwareIds());
  const ids = (k: string) => (opts[k] ?? '').split(',').filter(Boolean).map((id) => (known.has(id) ? id : usage(`--${k}: unknown profile "${id}"`)));
  if (ids('profiles').length === 0) usage('--profiles names the GPUs the table measured');
  return { table: positional[0]!, key: opts.key, profiles: ids('profiles'), derive: ids('derive'), minFlops: Number(opts['min-flops'] ?? 1e10), cite: opts.cite, dryRun };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.table)) usage(`cannot read ${args.table}`);
  const text = readFileSync(args.table, 'utf8');
  let entries;
  if (args.table.endsWith('.csv')) entries = parseGemmCsv(text);
  else if (args.key) entries = parseXlaMatmulTable(text, args.key);
  else usage('--key names the table inside an XLA matmul file (e.g. sm_90)');
  const first = readProfileJson(args.profiles[0]!);
  const fit = fitGemmModel(entries, first.kernels.sm_count, { minFlops: args.minFlops });
  const cite = args.cite ?? `${basename(args.table)}${args.key ? ` key ${args.key}` : ''}`;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const tf = (x: number) => (x / 1e12).toFixed(1);
  process.stdout.write(`${fit.entries} entries >= ${args.minFlops} FLOPs: k0 ${fit.model.k_overhead_elements}, t0 ${(fit.model.fixed_seconds * 1e6).toFixed(1)} us, table peak ${tf(fit.model.full_wave_flops_per_second)} TFLOPS; median |err| ${pct(fit.medianAbsError)}, p90 ${pct(fit.p90AbsError)}\n`);

  const edited: HardwareProfile[] = [];
  for (const id of [...args.profiles, ...args.derive]) {
    const p = readProfileJson(id);
    const measuredChip = args.profiles.includes(id);
    const shape = { k_overhead_elements: fit.model.k_overhead_elements, fixed_seconds: fit.model.fixed_seconds, tile_shapes: fit.model.tile_shapes };
    const peak = anchorToMamf(shape, p.gpu.achieved_bf16_matmul_flops_per_second, p.gpu.achieved_bf16_matmul_shape, p.kernels.sm_count);
    p.kernels.gemm = { full_wave_flops_per_second: Math.round(peak / 1e11) * 1e11, ...shape };
    const how = `src/compute/fit-gemm.ts (least squares in log time) on the ${fit.entries} bf16 entries of >= ${args.minFlops / 1e9} GFLOP of ${cite}: median |error| ${pct(fit.medianAbsError)}, p90 ${pct(fit.p90AbsError)}`;
    const shapeSource = measuredChip ? `fitted by ${how}` : `derived: no per-shape GEMM table for this GPU; the value fitted for ${args.profiles.join(', ')} by ${how} is assumed`;
    p.sources['kernels.gemm.k_overhead_elements'] = shapeSource;
    p.sources['kernels.gemm.fixed_seconds'] = shapeSource;
    p.sources['kernels.gemm.tile_shapes'] = `${measuredChip ? '' : 'derived: '}candidate output tiles ${shape.tile_shapes.map((t) => t.join('x')).join(', ')} (the CUTLASS/cuBLAS bf16 tile family; NVIDIA 'Matrix Multiplication Background User's Guide'); the model takes the one with the best wave efficiency, as cuBLAS's heuristics choose among several`;
    const anchored = `${tf(p.gpu.achieved_bf16_matmul_flops_per_second)} TFLOPS (gpu.achieved_bf16_matmul_flops_per_second) at [${p.gpu.achieved_bf16_matmul_shape.join(', ')}] divided by the model's wave and k-loop efficiency there (src/compute/fit-gemm.ts)`;
    p.sources['kernels.gemm.full_wave_flops_per_second'] = measuredChip
      ? `anchored to this GPU's measured best matmul: ${anchored}; the table alone gives ${tf(fit.model.full_wave_flops_per_second)} (XLA autotunes; PyTorch's cuBLAS heuristics pick the kernels in training)`
      : `derived: ${anchored}, with the shape parameters fitted for ${args.profiles.join(', ')}`;
    edited.push(p);
    process.stdout.write(`  ${id.padEnd(24)} ${measuredChip ? 'measured' : 'derived '} peak ${tf(p.kernels.gemm.full_wave_flops_per_second)} TFLOPS\n`);
  }
  if (args.dryRun) {
    process.stdout.write('dry run: no profile written\n');
    return;
  }
  for (const path of writeProfiles(edited)) process.stdout.write(`wrote ${path}\n`);
}

main();
