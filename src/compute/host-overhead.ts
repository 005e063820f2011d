import type { LayerSpec } from '../model/types.ts';
import type { HardwareProfile } from '../hardware/types.ts';
import { layerElementwiseTraffic } from './elementwise.ts';

/**
 * Framework CPU overhead: eager PyTorch dispatches every op from Python on the host, and a kernel cannot
 * start before the CPU has launched it. While the GPU is busier than the host the launch cost hides (the CPU
 * runs ahead); when the per-GPU work is small (short sequences, small micro-batches, small models, many
 * GPUs, a fast GPU) the GPU waits for the CPU and the step becomes launch-bound. The floor is
 *
 *   seconds ≥ kernels × framework.eager_kernel_host_seconds
 *
 * with the per-kernel host cost measured end to end on eager PyTorch (see the profile's source). Under
 * torch.compile the fused graph launches far fewer kernels (elementwise chains become one kernel each;
 * src/compute/elementwise.ts counts both), and CUDA graphs (mode="reduce-overhead") remove the per-launch cost.
 *
 * Wiring (for src/strategy/costs.ts): floor each per-layer forward, recompute and backward time with
 * `launchBoundSeconds(gpuSeconds, layerKernelCount(...).forward|backward, profile.framework)`, and the head
 * and optimizer likewise; the strategies need no other change, since the floor only lengthens compute tasks.
 */
export type FrameworkCosts = HardwareProfile['framework'];

export interface LayerKernelCount {
  forward: number;
  backward: number;
}

/**
 * Kernels one decoder layer launches in eager PyTorch (HF transformers modules): its GEMMs (each linear
 * one kernel forward, dgrad + wgrad backward), attention (the FlashAttention call plus the layout copies
 * around it: 2 forward, 3 backward), and the elementwise kernels of src/compute/elementwise.ts.
 */
export function layerKernelCount(layer: LayerSpec, compiled: boolean, par: { tp: number; sequenceParallel: boolean } = { tp: 1, sequenceParallel: false }): LayerKernelCount {
  const linears = layer.linears.length;
  const ew = layerElementwiseTraffic(layer, 2, compiled, par);
  return { forward: linears + 2 + ew.forwardKernels, backward: 2 * linears + 3 + ew.backwardKernels };
}

/** The host-side time to launch `kernels` eager kernels. */
export function hostLaunchSeconds(kernels: number, framework: FrameworkCosts): number {
  return kernels * framework.eager_kernel_host_seconds;
}

/** A compute task's time when the host may be the bottleneck: the longer of the GPU work and its launches. */
export function launchBoundSeconds(gpuSeconds: number, kernels: number, framework: FrameworkCosts): number {
  return Math.max(gpuSeconds, hostLaunchSeconds(kernels, framework));
}
