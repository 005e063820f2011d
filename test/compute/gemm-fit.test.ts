import { describe, expect, it } from 'vitest';
import { gemmKernelSeconds } from '../../src/compute/gemm.ts';
import { anchorToMamf, CANDIDATE_TILES, fitGemmModel, parseGemmCsv, parseXlaMatmulTable, type GemmMeasurement } from '../../src/compute/gemm-fit.ts';

const truth = { full_wave_flops_per_second: 700e12, k_overhead_elements: 160, fixed_seconds: 4e-6, tile_shapes: CANDIDATE_TILES };

function synthetic(): GemmMeasurement[] {
  const out: GemmMeasurement[] = [];
  for (const batch of [1, 2, 4]) for (const m of [1024, 2048, 4096]) for (const n of [512, 1024, 2048, 4096]) for (const k of [256, 512, 1024, 2048, 4096]) {
    out.push({ batch, m, n, k, flopsPerSecond: (2 * batch * m * n * k) / gemmKernelSeconds({ m, n, k, batch }, truth, 132) });
  }
  return out;
}

describe('fitting the GEMM model on a per-shape table', () => {
  it('recovers the parameters that generated a table', () => {
    const fit = fitGemmModel(synthetic(), 132);
    expect(fit.model.full_wave_flops_per_second / truth.full_wave_flops_per_second).toBeCloseTo(1, 2);
    expect(fit.model.k_overhead_elements).toBe(160);
    expect(fit.model.fixed_seconds).toBeCloseTo(4e-6, 9);
    expect(fit.medianAbsError).toBeLessThan(1e-3);
  }, 60_000); // a grid search: seconds on a loaded CI machine

  it('refuses a table too small to fit', () => {
    expect(() => fitGemmModel(synthetic().slice(0, 2), 132, { minFlops: 0 })).toThrow(/too few/);
  });

  it('anchors the peak so the model reproduces a measured best matmul at its shape', () => {
    const { full_wave_flops_per_second: _, ...shapeParams } = truth;
    const peak = anchorToMamf(shapeParams, 650e12, [2048, 2048, 13312], 132);
    const t = gemmKernelSeconds({ m: 2048, n: 2048, k: 13312 }, { ...shapeParams, full_wave_flops_per_second: peak }, 132) - truth.fixed_seconds;
    expect((2 * 2048 * 2048 * 13312) / t).toBeCloseTo(650e12, -9);
  });

  it("parses XLA's text-proto table by compute capability, bf16 only", () => {
    const text = `
  entries {
    key: "sm_90"
    value {
      entries {
        b: 1
        m: 4096
        n: 4096
        k: 4096
        flops { key: "bf16xbf16->bf16" value: 783328793548203 }
        flops { key: "f32xf32->f32" value: 401589990188086 }
      }
      entries {
        b: 2
        m: 256
        n: 512
        k: 1024
        flops { key: "f32xf32->f32" value: 1 }
      }
    }
  }
  entries {
    key: "sm_100"
    value {
      entries {
        b: 1
        m: 1
        n: 1
        k: 1
        flops { key: "bf16xbf16->bf16" value: 5 }
      }
    }
  }
`;
    expect(parseXlaMatmulTable(text, 'sm_90')).toEqual([{ batch: 1, m: 4096, n: 4096, k: 4096, flopsPerSecond: 783328793548203 }]);
    expect(parseXlaMatmulTable(text, 'sm_100')).toHaveLength(1);
    expect(() => parseXlaMatmulTable(text, 'sm_80')).toThrow(/sm_90, sm_100/);
  });

  it('parses a CSV of batch,m,n,k,tflops', () => {
    expect(parseGemmCsv('batch,m,n,k,tflops\n1,4096,4096,4096,783.3\n')).toEqual([{ batch: 1, m: 4096, n: 4096, k: 4096, flopsPerSecond: 783.3e12 }]);
  });
});
