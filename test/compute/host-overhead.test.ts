import { describe, expect, it } from 'vitest';
import { hostLaunchSeconds, launchBoundSeconds, layerKernelCount } from '../../src/compute/host-overhead.ts';
import { loadHardwareProfile } from '../../src/hardware/index.ts';
import { loadModel } from '../../src/model/index.ts';

const framework = loadHardwareProfile('dgx-h100').framework;
const llama = loadModel({ baseModel: 'meta-llama/Llama-3.2-1B' });

describe('launch-bound floor of eager PyTorch', () => {
  it('counts a layer: linears, attention and the elementwise chains; torch.compile fuses the chains', () => {
    const eager = layerKernelCount(llama.layers[0]!, false);
    const compiled = layerKernelCount(llama.layers[0]!, true);
    expect(eager.forward).toBeGreaterThan(7 + 2);
    expect(eager.backward).toBeGreaterThan(eager.forward);
    expect(compiled.forward).toBeLessThan(eager.forward);
    expect(compiled.backward).toBeLessThan(eager.backward);
  });

  it('is the longer of the GPU work and the host launches', () => {
    const kernels = layerKernelCount(llama.layers[0]!, false).forward;
    const host = hostLaunchSeconds(kernels, framework);
    expect(host).toBeCloseTo(kernels * framework.eager_kernel_host_seconds, 15);
    expect(launchBoundSeconds(host / 10, kernels, framework)).toBe(host);
    expect(launchBoundSeconds(host * 10, kernels, framework)).toBe(host * 10);
  });

  it('reproduces the measured step it was derived from (Llama-3.2-1B, batch 1 × 512, checkpointing)', () => {
    const k = layerKernelCount(llama.layers[0]!, false);
    const kernels = llama.numLayers * (2 * k.forward + k.backward) + 33;
    expect(hostLaunchSeconds(kernels, framework)).toBeCloseTo(48.8e-3, 3);
  });
});
