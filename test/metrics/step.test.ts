import { describe, expect, it } from 'vitest';
import { rankBreakdown, taskColumns } from '../../src/metrics/step.ts';
import { taskColumnsOf } from '../../src/strategy/plan.ts';
import { run, llama8b } from '../helpers/run.ts';

// One run per lowering that pushes tasks: DDP, FSDP2 with TP and HSDP, ZeRO-3, FSDP offload, with
// several ranks simulated (a straggler) and a steady-state-sized accumulation.
const scenarios: Record<string, Record<string, unknown>> = {
  ddp: { ...llama8b, gradient_accumulation_steps: 2, simulation: { gpus: 8, stragglers: [{ rank: 3, compute_slowdown: 1.2 }] } },
  fsdp2_tp_hsdp: { ...llama8b, fsdp_version: 2, fsdp_config: { reshard_after_forward: true }, tensor_parallel_size: 2, dp_shard_size: 2, dp_replicate_size: 2, gradient_accumulation_steps: 2, simulation: { gpus: 8 } },
  zero3: { ...llama8b, deepspeed: { zero_optimization: { stage: 3 } }, simulation: { gpus: 8 } },
  fsdp_offload: { ...llama8b, fsdp_version: 2, fsdp_config: { offload_params: true }, simulation: { gpus: 4 } },
};

describe('task columns (what metrics read instead of each task tag)', () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`${name}: the plan's columns are its tags' kind, micro-batch and wire bytes, and give the same breakdown`, async () => {
      const r = await run(scenario, name);
      const fromTags = taskColumnsOf(r.plan.tasks);
      const columns = r.plan.columns!;
      expect(columns).toBeDefined();
      expect([...columns.kind]).toEqual([...fromTags.kind]);
      expect([...columns.microBatch]).toEqual([...fromTags.microBatch]);
      expect([...columns.wireBytes]).toEqual([...fromTags.wireBytes]);
      expect(new Set(columns.kind).size).toBeGreaterThan(2);
      expect(taskColumns(r.timeline, r.plan)).toBe(columns);
      if (name === 'ddp') expect(r.plan.ranks.length).toBeGreaterThan(1);
      for (const rank of r.plan.ranks) {
        // Without the plan the columns are read from the tags: the same numbers.
        expect(rankBreakdown(r.timeline, rank, undefined, columns)).toEqual(rankBreakdown(r.timeline, rank));
      }
    });
  }

  it('a timeline that did not run the plan given falls back to its own tags', async () => {
    const a = await run(scenarios.ddp!, 'a');
    const b = await run(scenarios.zero3!, 'b');
    expect(taskColumns(a.timeline, b.plan)).not.toBe(b.plan.columns);
    expect([...taskColumns(a.timeline, b.plan).kind]).toEqual([...taskColumnsOf(a.plan.tasks).kind]);
  });
});
