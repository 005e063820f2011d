import { describe, expect, it } from 'vitest';
import { loadScenarioText } from '../../src/config/index.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';

// A steady-state run lowers micro-batches 0, 1 and the last and counts 1 for the middle ones: it must
// give the same numbers as the full timeline.
const cases: [string, Record<string, unknown>][] = [
  ['FSDP2, no_sync accumulation', { base_model: 'meta-llama/Llama-3.2-1B', fsdp_version: 2, micro_batch_size: 2, gradient_accumulation_steps: 7, sequence_len: 2048 }],
  ['DDP on 2 nodes', { base_model: 'meta-llama/Llama-3.2-1B', micro_batch_size: 2, gradient_accumulation_steps: 5, sequence_len: 2048, simulation: { hardware: 'dgx-h100', num_nodes: 2 } }],
  ['TP 2 × FSDP with checkpointing', { base_model: 'meta-llama/Llama-3.1-8B', fsdp_version: 2, tensor_parallel_size: 2, micro_batch_size: 1, gradient_accumulation_steps: 6, sequence_len: 4096, gradient_checkpointing: true }],
  ['FSDP2 reducing every micro-batch', { base_model: 'meta-llama/Llama-3.2-1B', fsdp_version: 2, micro_batch_size: 2, gradient_accumulation_steps: 6, sequence_len: 2048, simulation: { hardware: 'dgx-h100', fsdp_gradient_sync: 'every_micro_batch' } }],
  ['ZeRO-2 reducing every micro-batch', { base_model: 'meta-llama/Llama-3.2-1B', deepspeed: { zero_optimization: { stage: 2 }, bf16: { enabled: true } }, micro_batch_size: 2, gradient_accumulation_steps: 4, sequence_len: 2048 }],
];

describe('steady-state micro-batch compression', () => {
  it.each(cases)('%s', async (_name, scenario) => {
    const text = JSON.stringify({ bf16: true, flash_attention: true, simulation: { hardware: 'dgx-h100' }, ...scenario });
    const full = (await simulateLoaded(loadScenarioText(text, { name: 'full' }))).result;
    const fast = await simulateLoaded(loadScenarioText(text, { name: 'fast' }), { steadyState: true });
    expect(fast.result.simulation.steady_state).toBe(true);
    expect(fast.plan.tasks.length).toBeLessThan(full.simulation.tasks);
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
    close(fast.result.step_time_s, full.step_time_s);
    close(fast.result.communication.busy_s, full.communication.busy_s);
    close(fast.result.communication.exposed_s, full.communication.exposed_s);
    close(fast.result.communication.bytes_per_gpu, full.communication.bytes_per_gpu);
    close(fast.result.time_breakdown_s.compute, full.time_breakdown_s.compute);
    expect(fast.result.memory.peak_bytes).toBe(full.memory.peak_bytes);
  });
});
