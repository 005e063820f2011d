import { describe, expect, it } from 'vitest';
import { loadScenarioObject } from '../../src/config/index.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';
import type { SimulationResult } from '../../src/metrics/result.ts';

// Monotonicity properties of the memory model, checked over a grid of models, strategies and precisions.
const models = ['meta-llama/Llama-2-7b-hf', 'meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B', 'EleutherAI/pythia-1b', 'meta-llama/Llama-3.2-1B'];
const strategies: Record<string, Record<string, unknown>> = {
  ddp: {},
  'fsdp2 reshard': { fsdp_version: 2, fsdp_config: { reshard_after_forward: true } },
  'fsdp2 no reshard, fp32 reduce': { fsdp_version: 2, fsdp_config: { reshard_after_forward: false, mixed_precision_policy: { reduce_dtype: 'float32' } } },
  'fsdp1 fp32 masters': { fsdp_version: 1, fsdp_config: { sharding_strategy: 'FULL_SHARD' } },
  'fsdp2 fp32 gathers (autocast)': { fsdp_version: 2, fsdp_config: { mixed_precision_policy: { param_dtype: 'float32' } }, simulation: { master_weights: 'fp32' } },
};

async function result(s: Record<string, unknown>): Promise<SimulationResult> {
  return (await simulateLoaded(loadScenarioObject(s, { name: 'property' }))).result;
}

function scenario(model: string, strategy: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const sim = { ...((strategy.simulation as Record<string, unknown>) ?? {}), ...((extra.simulation as Record<string, unknown>) ?? {}) };
  return { base_model: model, sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 2, bf16: true, flash_attention: true, ...strategy, ...extra, simulation: sim };
}

describe('memory properties', () => {
  it('more sharding (8 → 16 → 64 GPUs) never raises per-GPU model states, nor the peak', async () => {
    for (const model of models.slice(0, 3)) {
      for (const [name, strategy] of Object.entries(strategies).filter(([n]) => n !== 'ddp')) {
        let prev: SimulationResult | undefined;
        for (const nodes of [1, 2, 8]) {
          const r = await result(scenario(model, strategy, { simulation: { num_nodes: nodes } }));
          expect(r.mesh.dp_shard, `${model} ${name}`).toBe(8 * nodes);
          if (prev) {
            expect(r.memory.model_states_bytes, `${model} ${name} ${nodes} nodes`).toBeLessThan(prev.memory.model_states_bytes);
            expect(r.memory.peak_bytes, `${model} ${name} ${nodes} nodes`).toBeLessThanOrEqual(prev.memory.peak_bytes);
          }
          prev = r;
        }
      }
    }
  });

  it('activation checkpointing (full or selective) never raises the peak', async () => {
    for (const model of models) {
      for (const [name, strategy] of Object.entries(strategies)) {
        for (const seq of [1024, 4096]) {
          const none = await result(scenario(model, strategy, { sequence_len: seq, gradient_checkpointing: false }));
          const full = await result(scenario(model, strategy, { sequence_len: seq, gradient_checkpointing: true }));
          const sac = await result(scenario(model, strategy, { sequence_len: seq, gradient_checkpointing: 'selective' }));
          expect(full.memory.peak_bytes, `${model} ${name} ${seq} full`).toBeLessThanOrEqual(none.memory.peak_bytes);
          expect(sac.memory.peak_bytes, `${model} ${name} ${seq} selective`).toBeLessThanOrEqual(none.memory.peak_bytes);
          expect(full.memory.peak_bytes, `${model} ${name} ${seq} full vs selective`).toBeLessThanOrEqual(sac.memory.peak_bytes);
        }
      }
    }
  });

  it('doubling the micro-batch never lowers the peak', async () => {
    for (const model of models) {
      for (const [name, strategy] of Object.entries(strategies)) {
        for (const ckpt of [false, true]) {
          let prev = 0;
          for (const micro of [1, 2, 4]) {
            const r = await result(scenario(model, strategy, { micro_batch_size: micro, gradient_checkpointing: ckpt }));
            expect(r.memory.peak_bytes, `${model} ${name} ckpt=${ckpt} micro ${micro}`).toBeGreaterThan(prev);
            prev = r.memory.peak_bytes;
          }
        }
      }
    }
  });
});
