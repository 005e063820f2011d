import { describe, expect, it } from 'vitest';
import { loadScenarioObject } from '../../src/config/index.ts';
import { simulateLoaded, type SimulationRun } from '../../src/pipeline/simulate.ts';
import { memorySeries, MEMORY_CATEGORIES } from '../../src/metrics/memory-series.ts';

const base = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 1024, micro_batch_size: 2, bf16: true, flash_attention: true };

const cases: Record<string, Record<string, unknown>> = {
  'DDP, GA 3, checkpointing': { ...base, gradient_accumulation_steps: 3, gradient_checkpointing: true },
  'DDP, fp32 master weights (autocast cache), foreach AdamW': { ...base, optimizer: 'adamw_torch', simulation: { master_weights: 'fp32' } },
  'one GPU, selective AC': { ...base, gradient_checkpointing: 'selective', simulation: { gpus: 1 } },
  'FSDP2, GA 2, reshard': { ...base, fsdp_version: 2, gradient_accumulation_steps: 2, fsdp_config: { reshard_after_forward: true } },
  'FSDP2, no reshard, fp32 reduce, GA 3, checkpointing': {
    ...base, fsdp_version: 2, gradient_accumulation_steps: 3, gradient_checkpointing: true,
    fsdp_config: { reshard_after_forward: false, mixed_precision_policy: { reduce_dtype: 'float32' } },
  },
  'FSDP2, fp32 gathers (autocast cache), checkpointing': {
    ...base, fsdp_version: 2, gradient_checkpointing: true, fsdp_config: { mixed_precision_policy: { param_dtype: 'float32' } }, simulation: { master_weights: 'fp32' },
  },
  'FSDP1, fp32 masters, GA 2, selective': { ...base, fsdp_version: 1, gradient_accumulation_steps: 2, gradient_checkpointing: 'selective', fsdp_config: { sharding_strategy: 'FULL_SHARD' } },
  'FSDP2 untied (Llama-3.1-8B), 2 nodes': { ...base, base_model: 'meta-llama/Llama-3.1-8B', fsdp_version: 2, simulation: { num_nodes: 2 } },
};

async function simulate(scenario: Record<string, unknown>): Promise<SimulationRun> {
  return simulateLoaded(loadScenarioObject(scenario, { name: 'ledger' }), { recordMemory: true });
}

describe('the memory ledger of one step', () => {
  for (const [name, scenario] of Object.entries(cases)) {
    it(`${name}: no category goes negative and every one ends at its persistent level`, async () => {
      const run = await simulate(scenario);
      const series = memorySeries(run.timeline, run.plan.ranks[0]!);
      expect(series.length).toBeGreaterThan(10);
      for (const point of series) {
        for (const c of MEMORY_CATEGORIES) expect(point.byCategory[c]).toBeGreaterThanOrEqual(-1);
      }
      const last = series[series.length - 1]!;
      const persistent = run.plan.persistentBytes;
      for (const c of MEMORY_CATEGORIES) expect(last.byCategory[c]).toBeCloseTo(persistent[c], -1);
      // The peak is above the persistent level and is what the result reports.
      const peak = Math.max(...series.map((p) => p.totalBytes));
      expect(peak).toBe(run.result.memory.peak_bytes);
      expect(peak).toBeGreaterThan(persistent.parameters + persistent.optimizer_states);
    });
  }

  it('every allocator pool ends where it started (side-stream pools empty, the default pool holds the model states)', async () => {
    const run = await simulate(cases['FSDP2, no reshard, fp32 reduce, GA 3, checkpointing']!);
    const byPool = new Map<string, number>();
    for (const t of run.plan.tasks) for (const m of t.memory ?? []) byPool.set(m.pool ?? 'default', (byPool.get(m.pool ?? 'default') ?? 0) + m.bytes);
    const p = run.plan.persistentBytes;
    expect(byPool.get('default')).toBeCloseTo(p.parameters + p.optimizer_states + p.communication_buffers, -1);
    expect(byPool.get('all_gather')).toBeCloseTo(0, -1);
    expect(byPool.get('reduce_scatter')).toBeCloseTo(0, -1);
    // The reduce-scatter pool held the sharded gradients at some point: its high-water mark is reserved.
    const rec = run.timeline.memory.get(0)!;
    expect(rec.poolPeakBytes.reduce_scatter).toBeGreaterThanOrEqual(run.plan.persistentGradientBytes);
    expect(run.result.memory.reserved_bytes).toBeGreaterThan(run.result.memory.peak_bytes);
  });
});
