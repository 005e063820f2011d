import { describe, expect, it } from 'vitest';
import { float8GemmSeconds, gemmSeconds } from '../../src/compute/kernels.ts';
import { loadHardwareProfile } from '../../src/hardware/index.ts';
import { ShardsimError } from '../../src/util/errors.ts';
import { run } from '../helpers/run.ts';

const h100 = loadHardwareProfile('dgx-h100');
const gpu = { ...h100.gpu, kernels: h100.kernels };
const base = { base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 4096, micro_batch_size: 2, bf16: true, flash_attention: true, gradient_checkpointing: true, fsdp_version: 2, fsdp_config: { reshard_after_forward: true } };

describe('torchao float8 training (Axolotl fp8)', () => {
  it("a large fp8 GEMM runs at the measured fp8 ÷ bf16 best-matmul ratio (H100: 1402.6 / 794.5 TFLOPS)", () => {
    const g = { name: 'mlp', m: 8192, n: 14336, k: 4096 };
    const ratio = gemmSeconds(g, gpu, 'bf16') / float8GemmSeconds(g, gpu);
    expect(ratio).toBeGreaterThan(1.6);
    expect(ratio).toBeLessThan(1402.6 / 794.5 + 0.01);
  });

  it('speeds up an 8B FSDP2 step on H100 by less than the GEMM ratio (casts, attention and the rest stay)', async () => {
    const bf16 = (await run(base)).result;
    const fp8 = (await run({ ...base, fp8: true })).result;
    const speedup = bf16.step_time_s / fp8.step_time_s;
    expect(speedup).toBeGreaterThan(1.1);
    expect(speedup).toBeLessThan(1.6);
  });

  it('is refused on a GPU without fp8 tensor cores, and warned under an adapter', async () => {
    const err = await run({ ...base, fp8: true, simulation: { hardware: 'dgx-a100-80gb' } }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ShardsimError);
    expect((err as Error).message).toMatch(/^fp8: float8 training needs fp8 tensor cores/);
    const lora = (await run({ ...base, fp8: true, adapter: 'lora', lora_r: 16, lora_target_linear: true })).result;
    expect(lora.warnings.map((w) => w.message).join('\n')).toMatch(/^fp8: float8 training under an adapter is not modelled/m);
  });

  it('without a 16-bit key accelerate still autocasts to bf16 over fp32 weights', async () => {
    const r = (await run({ ...base, bf16: undefined, fp8: true })).result;
    expect(r.precision.compute).toBe('bf16');
    expect(r.precision.parameters).toBe('fp32');
  });
});
