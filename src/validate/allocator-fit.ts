import type { Comparison } from './run.ts';

/**
 * The one constant fitted on validation rows: `runtime.allocator_reserved_over_allocated`, PyTorch's
 * caching-allocator reserved ÷ the allocator pools' summed high-water marks. It describes the allocator
 * (c10/cuda/CUDACachingAllocator.cpp: 2 MiB / 20 MiB segment rounding, cached free blocks), not the
 * hardware, so it is one value for every profile. Only rows that report `max_memory_reserved` depend on it:
 * reserved scales linearly with the factor, so a fit needs no re-simulation.
 *
 * Estimator: least squares in log space over the reserved rows, i.e. the geometric mean of measured ÷
 * unscaled prediction, held at ≥ 1 (reserved memory is never below allocated). Never per row.
 */
export interface AllocatorFit {
  factor: number;
  /** Reserved rows the fit used. */
  rows: number;
  /** measured / unscaled prediction on those rows, sorted. */
  ratios: number[];
}

/** The prediction without the factor it was simulated with (reserved rows), else the prediction itself. */
export const unscaled = (c: Comparison): number => (c.kind === 'reserved' && c.allocatorFactor ? c.predicted / c.allocatorFactor : c.predicted);

export function fitAllocatorFactor(rows: readonly Comparison[]): AllocatorFit {
  const reserved = rows.filter((r) => r.metric === 'peak_memory_bytes' && r.kind === 'reserved' && r.allocatorFactor !== undefined);
  const ratios = reserved.map((r) => r.measured / unscaled(r)).sort((a, b) => a - b);
  if (ratios.length === 0) return { factor: 1, rows: 0, ratios };
  const logMean = ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length;
  return { factor: Math.max(1, Math.exp(logMean)), rows: ratios.length, ratios };
}

/** A comparison re-scored with another allocator factor (only reserved rows change). */
export function withAllocatorFactor(c: Comparison, factor: number): Comparison {
  if (c.kind !== 'reserved' || c.allocatorFactor === undefined) return c;
  const predicted = unscaled(c) * factor;
  return { ...c, predicted, allocatorFactor: factor, error: (predicted - c.measured) / c.measured };
}
