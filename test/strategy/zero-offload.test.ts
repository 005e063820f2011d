import { describe, expect, it } from 'vitest';
import { loadHardwareProfile } from '../../src/hardware/index.ts';
import { run } from '../helpers/run.ts';

const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, gradient_checkpointing: true, simulation: { hardware: 'dgx-h100' } };
const PSI = 6_738_415_616;
const zero = (z: Record<string, unknown>, top: Record<string, unknown> = {}) => run({ ...base, deepspeed: { zero_optimization: z, ...top } });

describe('ZeRO-Offload trades step time for GPU memory', () => {
  it.each([2, 3])('ZeRO-%i with offload_optimizer: lower peak and model states, slower step', async (stage) => {
    const gpu = (await zero({ stage })).result;
    const off = (await zero({ stage, offload_optimizer: { device: 'cpu', pin_memory: true } })).result;
    expect(off.memory.peak_bytes).toBeLessThan(gpu.memory.peak_bytes);
    expect(off.memory.model_states_bytes).toBeLessThan(gpu.memory.model_states_bytes);
    expect(off.step_time_s).toBeGreaterThan(gpu.step_time_s);
    expect(off.memory.breakdown_at_peak.optimizer_states).toBe(0);
  });

  it('the CPU step takes the local partition at this GPU\'s share of the node\'s DeepSpeedCPUAdam rate', async () => {
    const r = await zero({ stage: 3, offload_optimizer: { device: 'cpu' } });
    const host = r.timeline.spans.filter((s) => s.process === 0 && s.stream === 'host');
    expect(host).toHaveLength(1);
    const rate = loadHardwareProfile('dgx-h100').host.cpu_adam_params_per_second / 8;
    expect(host[0]!.end - host[0]!.start).toBeCloseTo(Math.ceil(PSI / 8) / rate, 6);
  });

  it('zero_force_ds_cpu_optimizer: false keeps the Trainer\'s torch AdamW on the CPU: slower (accelerate _prepare_deepspeed)', async () => {
    const ds = (await zero({ stage: 3, offload_optimizer: { device: 'cpu' } })).result;
    const torch = (await zero({ stage: 3, offload_optimizer: { device: 'cpu' } }, { zero_force_ds_cpu_optimizer: false })).result;
    expect(torch.step_time_s).toBeGreaterThan(ds.step_time_s);
  });

  it('pinned host buffers copy faster than pageable ones', async () => {
    const pageable = (await zero({ stage: 3, offload_optimizer: { device: 'cpu', pin_memory: false }, offload_param: { device: 'cpu', pin_memory: false } })).result;
    const pinned = (await zero({ stage: 3, offload_optimizer: { device: 'cpu', pin_memory: true }, offload_param: { device: 'cpu', pin_memory: true } })).result;
    expect(pinned.step_time_s).toBeLessThan(pageable.step_time_s);
  });

  it('ZeRO-3 parameter offload leaves only the persistent small tensors on the GPU and copies each partition in before its gather', async () => {
    const opt = await zero({ stage: 3, offload_optimizer: { device: 'cpu' } });
    const all = await zero({ stage: 3, offload_optimizer: { device: 'cpu' }, offload_param: { device: 'cpu' } });
    expect(all.result.memory.model_states_bytes).toBeLessThan(1e6);
    expect(all.result.memory.peak_bytes).toBeLessThan(opt.result.memory.peak_bytes);
    const h2d = all.timeline.spans.filter((s) => s.process === 0 && s.stream === 'host_to_device' && s.tag.phase !== 'optimizer' && s.tag.label.endsWith('partition → GPU'));
    const gathers = all.timeline.spans.filter((s) => s.process === 0 && s.tag.kind === 'all_gather');
    expect(h2d.length).toBe(gathers.length);
  });

  it('ZeRO-2 offload sends every reduced gradient slice to the host (D2H) before the CPU step', async () => {
    const r = await zero({ stage: 2, overlap_comm: true, offload_optimizer: { device: 'cpu' } });
    const s = r.timeline.spans.filter((x) => x.process === 0);
    const d2h = s.filter((x) => x.stream === 'device_to_host');
    const reduces = s.filter((x) => x.tag.kind === 'all_reduce' && x.tag.phase === 'backward');
    expect(d2h.length).toBe(reduces.length);
    const cpu = s.find((x) => x.stream === 'host')!;
    for (const c of d2h) expect(c.end).toBeLessThanOrEqual(cpu.start + 1e-9);
  });
});
