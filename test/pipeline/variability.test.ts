import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

const base = {
  base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 1,
  bf16: true, flash_attention: true, fsdp_version: 2,
};

describe('seeded variability', () => {
  it('--steps 20 --seed 7 twice gives identical JSON; another seed differs', async () => {
    const sim = { hardware: 'dgx-h100', jitter: 0.03, steps: 20, seed: 7 };
    const a = (await run({ ...base, simulation: sim })).result;
    const b = (await run({ ...base, simulation: sim })).result;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = (await run({ ...base, simulation: { ...sim, seed: 8 } })).result;
    expect(c.steps.mean_s).not.toBe(a.steps.mean_s);
    expect(a.steps.count).toBe(20);
    expect(a.steps.p95_s).toBeGreaterThanOrEqual(a.steps.p50_s);
  });

  it('a straggler holds back every collective: p95 step time rises and the report names the collective and the rank', async () => {
    const sim = { hardware: 'dgx-h100', jitter: 0.01, steps: 10, seed: 1 };
    const fair = (await run({ ...base, simulation: sim })).result;
    const slow = (await run({ ...base, simulation: { ...sim, stragglers: [{ rank: 5, compute_slowdown: 1.3 }] } })).result;
    expect(slow.steps.p95_s).toBeGreaterThan(fair.steps.p95_s * 1.15);
    expect(slow.straggler).toBeDefined();
    expect(slow.straggler!.lateRank).toBe(5);
    expect(slow.straggler!.lateCount / slow.straggler!.collectives).toBeGreaterThan(0.9);
    expect(slow.straggler!.summary).toMatch(/rank 5 arrived last/);
    expect(slow.straggler!.label).toMatch(/all_gather|reduce_scatter|all_reduce/);
  });

  it('a slow link on one rank slows the collectives of all', async () => {
    const sim = { hardware: 'dgx-h100', steps: 1 };
    const fair = (await run({ ...base, simulation: sim })).result;
    const slow = (await run({ ...base, simulation: { ...sim, stragglers: [{ rank: 2, link_slowdown: 4 }] } })).result;
    expect(slow.communication.busy_s).toBeGreaterThan(fair.communication.busy_s * 2);
    expect(slow.step_time_s).toBeGreaterThanOrEqual(fair.step_time_s);
  });
});
