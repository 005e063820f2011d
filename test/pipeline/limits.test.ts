import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadScenarioText, resolveConfig } from '../../src/config/index.ts';
import { buildCluster, loadHardwareProfile } from '../../src/hardware/index.ts';
import { loadModel } from '../../src/model/index.ts';
import { buildPlan } from '../../src/strategy/index.ts';
import { maxPlanTasks, planTooLarge } from '../../src/pipeline/limits.ts';
import { prepareSweep } from '../../src/sweep/sweep.ts';
import { ShardsimError } from '../../src/util/errors.ts';
import { run, llama8b } from '../helpers/run.ts';

/** Issue 16: inputs too large for the machine are one line before simulating, not a V8 crash. */
async function refusal(scenario: Record<string, unknown>): Promise<string> {
  try {
    await run(scenario);
  } catch (e) {
    expect(e).toBeInstanceOf(ShardsimError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('limits from the heap, checked before simulating', () => {
  it('gradient_accumulation_steps: 10⁹ in a full plan: the lower bound refuses at once', async () => {
    const started = performance.now();
    expect(await refusal({ ...llama8b, gradient_accumulation_steps: 1e9 })).toMatch(/the step needs at least 6.40·10\^10 tasks \(1 simulated rank\(s\) × 1.00·10\^9 micro-batch\(es\) × 32 layers/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('the same accumulation in a steady-state plan (sweeps, the advisor) simulates three micro-batches', async () => {
    const { simulateLoaded } = await import('../../src/pipeline/simulate.ts');
    const r = await simulateLoaded(loadScenarioText(JSON.stringify({ ...llama8b, gradient_accumulation_steps: 1e9 }), { name: 'ga' }), { steadyState: true });
    expect(r.result.batch.gradient_accumulation_steps).toBe(1e9);
    expect(Number.isFinite(r.result.step_time_s)).toBe(true);
    expect(r.plan.tasks.length).toBeLessThan(5000);
  });

  it('a world too large for its process groups', async () => {
    expect(await refusal({ ...llama8b, simulation: { num_nodes: 100_000_000 } })).toMatch(/simulation.num_nodes: a world of 8.00·10\^8 GPUs needs ~960 GB for its process groups/);
  });

  it('jittered steps are bounded; identical steps cost nothing', async () => {
    expect(await refusal({ ...llama8b, simulation: { jitter: 0.02, steps: 1e9 } })).toMatch(/simulation.steps: 1.00·10\^9 jittered steps .* use at most [\d,]+ steps/);
    const r = await run({ ...llama8b, simulation: { steps: 1e9 } });
    expect(r.result.steps.count).toBe(1e9);
    expect(r.result.steps.max_s).toBe(r.result.step_time_s);
  });

  it('the plan builder stops at its cap with the pipeline error, whatever the strategy lowers', async () => {
    const loaded = loadScenarioText(JSON.stringify(llama8b), { name: 'cap' });
    const profile = loadHardwareProfile('dgx-h100');
    const cfg = await resolveConfig(loaded, { hardware: profile.id, gpusPerNode: 8 });
    const model = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const cluster = buildCluster(profile, 1);
    expect(() => buildPlan(cfg, model, cluster, { limit: { maxTasks: 100, error: (n) => planTooLarge(n, 1e6) } })).toThrow(/the step's plan passed 100 tasks, more than this process can hold \(~0.00100 GB of heap\)/);
    expect(buildPlan(cfg, model, cluster, { limit: { maxTasks: maxPlanTasks(1e9), error: (n) => planTooLarge(n, 1e9) } }).tasks.length).toBeGreaterThan(100);
  });

  it('a sweep grid larger than the heap is refused before any config runs, with the shards it needs', () => {
    const base = join(import.meta.dirname, '../../scenarios/sweeps/llama-3.1-70b-2node.yaml');
    const values = Array.from({ length: 40 }, (_, i) => i + 1).join(',');
    const vary = ['micro_batch_size', 'gradient_accumulation_steps', 'sequence_len', 'dp_shard_size', 'tensor_parallel_size', 'context_parallel_size', 'dp_replicate_size'].map((k) => `${k}=${values}`);
    expect(() => prepareSweep(base, { vary })).toThrow(/--vary: the grid has 1.64·10\^11 configs .* split it into at least [\d,]+ shards/);
  });
});
