import type { GemmKernelModel } from '../hardware/types.ts';
import { percentile } from '../metrics/result.ts';
import { bestWaveEfficiency, gemmKernelSeconds, kLoopEfficiency } from './gemm.ts';

/**
 * Fitting the GEMM shape model (src/compute/gemm.ts) on a published per-shape microbenchmark table, and
 * anchoring its peak to a GPU's measured best matmul (MAMF). Pure functions; the CLI is fit-gemm.ts.
 */
export interface GemmMeasurement {
  batch: number;
  m: number;
  n: number;
  k: number;
  flopsPerSecond: number;
}

/** The candidate output tiles: the CUTLASS/cuBLAS bf16 tile family. */
export const CANDIDATE_TILES: number[][] = [[128, 128], [128, 256], [256, 128], [64, 128], [128, 64], [64, 64]];

/**
 * bf16 entries of one compute capability (e.g. "sm_90") from XLA's default matmul performance table
 * (xla/service/gpu/model/matmul_interpolator_data.h: a text proto of `entries { b m n k flops { key value } }`
 * grouped under `key: "<sm>"`).
 */
export function parseXlaMatmulTable(text: string, key: string): GemmMeasurement[] {
  const starts = [...text.matchAll(/key: "((?:sm|gfx)[^"]*)"\s*value \{/g)].map((m) => ({ key: m[1]!, at: m.index }));
  const i = starts.findIndex((s) => s.key === key);
  if (i < 0) throw new Error(`no table "${key}" (found: ${starts.map((s) => s.key).join(', ') || 'none'})`);
  const segment = text.slice(starts[i]!.at, starts[i + 1]?.at ?? text.length);
  const out: GemmMeasurement[] = [];
  for (const e of segment.matchAll(/entries \{\s*b: (\d+)\s*m: (\d+)\s*n: (\d+)\s*k: (\d+)([\s\S]*?)\n\s*\}\n/g)) {
    const bf16 = /key: "bf16xbf16->bf16" value: (\d+)/.exec(e[5]!);
    if (!bf16) continue;
    out.push({ batch: Number(e[1]), m: Number(e[2]), n: Number(e[3]), k: Number(e[4]), flopsPerSecond: Number(bf16[1]) });
  }
  return out;
}

/** Rows of `batch,m,n,k,tflops` (a header line is skipped), for tables that are not XLA's. */
export function parseGemmCsv(text: string): GemmMeasurement[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^[a-z#]/i.test(l))
    .map((l) => {
      const [batch, m, n, k, tflops] = l.split(',').map(Number);
      return { batch: batch!, m: m!, n: n!, k: k!, flopsPerSecond: tflops! * 1e12 };
    });
}

const flopsOf = (e: GemmMeasurement) => 2 * e.batch * e.m * e.n * e.k;

export interface GemmFit {
  model: GemmKernelModel;
  entries: number;
  medianAbsError: number;
  p90AbsError: number;
}

function errors(entries: GemmMeasurement[], model: GemmKernelModel, smCount: number): number[] {
  return entries.map((e) => {
    const predicted = flopsOf(e) / gemmKernelSeconds(e, model, smCount);
    return predicted / e.flopsPerSecond - 1;
  });
}

/**
 * Least squares in log time over the entries of at least `minFlops` (small GEMMs are dominated by launch
 * effects the training shapes never see): a grid over k0 (0–400, step 8) and t0 (0–10 µs, step 0.5 µs),
 * a golden-section search on R for each.
 */
export function fitGemmModel(all: GemmMeasurement[], smCount: number, opts: { minFlops?: number; tiles?: number[][] } = {}): GemmFit {
  const tiles = opts.tiles ?? CANDIDATE_TILES;
  const entries = all.filter((e) => flopsOf(e) >= (opts.minFlops ?? 1e10));
  if (entries.length < 3) throw new Error(`only ${entries.length} table entries of at least ${opts.minFlops ?? 1e10} FLOPs: too few to fit`);
  const top = Math.max(...entries.map((e) => e.flopsPerSecond));
  const cost = (m: GemmKernelModel) => entries.reduce((s, e) => s + Math.log(flopsOf(e) / gemmKernelSeconds(e, m, smCount) / e.flopsPerSecond) ** 2, 0);
  let best: { model: GemmKernelModel; cost: number } | undefined;
  for (let k0 = 0; k0 <= 400; k0 += 8) {
    for (let t = 0; t <= 20; t++) {
      const base = { k_overhead_elements: k0, fixed_seconds: t * 0.5e-6, tile_shapes: tiles };
      let [lo, hi] = [Math.log(0.8 * top), Math.log(2 * top)];
      const g = (Math.sqrt(5) - 1) / 2;
      const at = (x: number) => cost({ ...base, full_wave_flops_per_second: Math.exp(x) });
      for (let i = 0; i < 40; i++) {
        const a = hi - g * (hi - lo);
        const b = lo + g * (hi - lo);
        if (at(a) < at(b)) hi = b;
        else lo = a;
      }
      const model = { ...base, full_wave_flops_per_second: Math.exp((lo + hi) / 2) };
      const c = cost(model);
      if (!best || c < best.cost) best = { model, cost: c };
    }
  }
  const abs = errors(entries, best!.model, smCount).map(Math.abs).sort((a, b) => a - b);
  return { model: best!.model, entries: entries.length, medianAbsError: percentile(abs, 0.5), p90AbsError: percentile(abs, 0.9) };
}

/**
 * The full-wave rate that makes the model reproduce a measured best matmul (MAMF) at its shape [m, n, k]:
 * R = MAMF / (wave efficiency × k-loop efficiency) at that shape.
 */
export function anchorToMamf(model: Omit<GemmKernelModel, 'full_wave_flops_per_second'>, mamfFlopsPerSecond: number, shape: number[], smCount: number): number {
  const [m, n, k] = shape as [number, number, number];
  return mamfFlopsPerSecond / (bestWaveEfficiency(m, n, smCount, model.tile_shapes) * kLoopEfficiency(k, { ...model, full_wave_flops_per_second: 1 }));
}
