import type { HardwareProfile } from '../hardware/types.ts';

/**
 * How well a profile's compute rates are grounded, read from its `sources`: a source that begins with
 * "derived" means the number was not measured on that GPU (copied from a sibling, scaled from another GPU,
 * assumed). The result JSON and `compare` show it, so a ranking of GPUs says which numbers it rests on.
 *
 * - measured: every rate the compute model uses was measured on this GPU (or fitted on such a measurement);
 * - partial: the primary rates (best matmul, attention forward + backward, sustained clock, HBM) are
 *   measured, some secondary shape parameters are derived;
 * - derived: at least one primary rate is derived.
 */
export type CalibrationLevel = 'measured' | 'partial' | 'derived';

export interface Calibration {
  compute: CalibrationLevel;
  /** Dotted keys of the compute inputs whose source says "derived". */
  derived: string[];
}

export const PRIMARY_COMPUTE_KEYS = [
  'gpu.achieved_bf16_matmul_flops_per_second',
  'gpu.achieved_hbm_bytes_per_second',
  'kernels.sustained_clock_ratio',
  'kernels.flash_attention.forward_backward_causal_flops_per_second',
  'kernels.flash_attention.forward_backward_flops_per_second',
] as const;

export const SECONDARY_COMPUTE_KEYS = [
  'gpu.achieved_bf16_matmul_shape',
  'kernels.gemm.full_wave_flops_per_second',
  'kernels.gemm.k_overhead_elements',
  'kernels.gemm.fixed_seconds',
  'kernels.gemm.tile_shapes',
  'kernels.flash_attention.forward_causal_flops_per_second',
  'kernels.flash_attention.forward_flops_per_second',
] as const;

const isDerived = (source: string | undefined) => /^\s*derived\b/i.test(source ?? '');

/**
 * A run on another attention kernel (`simulation.attention_kernel`) rests on that kernel's table instead of
 * FlashAttention-2's: its keys replace `kernels.flash_attention.*` in the lists.
 */
export function computeCalibration(profile: Pick<HardwareProfile, 'sources'>, attentionKernel = 'flash_attention_2'): Calibration {
  const swap = (k: string) => (attentionKernel !== 'flash_attention_2' && k.startsWith('kernels.flash_attention.') ? k.replace('kernels.flash_attention.', `kernels.attention_kernels.${attentionKernel}.`) : k);
  const primary = PRIMARY_COMPUTE_KEYS.map(swap).filter((k) => isDerived(profile.sources[k]));
  const secondary = SECONDARY_COMPUTE_KEYS.map(swap).filter((k) => isDerived(profile.sources[k]));
  const compute: CalibrationLevel = primary.length > 0 ? 'derived' : secondary.length > 0 ? 'partial' : 'measured';
  return { compute, derived: [...primary, ...secondary] };
}
