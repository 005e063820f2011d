import { describe, expect, it } from 'vitest';
import { rankClasses } from '../../src/strategy/symmetry.ts';
import { loadScenarioText } from '../../src/config/index.ts';
import { simulateLoaded, type SimulationRun } from '../../src/pipeline/simulate.ts';
import { rankBreakdown } from '../../src/metrics/step.ts';

/** A 2-D mesh (dp × tp, tp innermost) as group kinds. */
function grid(dp: number, tp: number) {
  const tpGroups = Array.from({ length: dp }, (_, d) => Array.from({ length: tp }, (_, t) => d * tp + t));
  const dpGroups = Array.from({ length: tp }, (_, t) => Array.from({ length: dp }, (_, d) => d * tp + t));
  return [
    { groups: tpGroups, groupOf: (r: number) => Math.floor(r / tp) },
    { groups: dpGroups, groupOf: (r: number) => r % tp },
  ];
}

describe('rank classes (colour refinement over the process groups)', () => {
  it('one straggler on a 4 × 4 mesh: itself, its TP peers, its DP peers, everyone else', () => {
    const c = rankClasses(16, grid(4, 4), (r) => (r === 5 ? 'slow' : ''));
    expect(c.representatives).toEqual([0, 1, 4, 5]);
    expect(c.sizes).toEqual([9, 3, 3, 1]);
    // Rank 10 (dp 2, tp 2) shares neither group with rank 5: it is in rank 0's class.
    expect(c.classOf[10]).toBe(c.classOf[0]);
    expect(c.classOf[13]).toBe(c.classOf[1]);
    expect(c.classOf[7]).toBe(c.classOf[4]);
  });

  it('no inputs that differ: one class; every rank different: one class each', () => {
    expect(rankClasses(64, grid(8, 8), () => '').sizes).toEqual([64]);
    expect(rankClasses(8, grid(2, 4), (r) => String(r)).representatives).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('group types: instances holding the same classes get the same type', () => {
    const c = rankClasses(16, grid(4, 4), (r) => (r === 5 ? 'slow' : ''));
    // TP groups: the straggler's (dp 1) is one type, the other three another.
    expect([...c.groupTypes[0]!]).toEqual([0, 1, 0, 0]);
    expect([...c.groupTypes[1]!]).toEqual([0, 1, 0, 0]);
  });
});

async function both(yaml: string): Promise<[SimulationRun, SimulationRun]> {
  const reduced = await simulateLoaded(loadScenarioText(yaml, { name: 'reduced' }));
  const every = await simulateLoaded(loadScenarioText(yaml, { name: 'every' }), { everyRank: true });
  return [reduced, every];
}

const model = `base_model: meta-llama/Llama-3.2-1B\nmicro_batch_size: 1\nbf16: true\nflash_attention: true\n`;
const base = `${model}sequence_len: 1024\n`;

describe('a straggler run with one rank per class equals the run that simulates every rank', () => {
  const cases: [string, string][] = [
    ['DDP on 8 GPUs, one slow rank', `${base}gradient_accumulation_steps: 2\nsimulation: {hardware: dgx-h100, gpus: 8, stragglers: [{rank: 3, compute_slowdown: 1.4}]}\n`],
    ['FSDP2 × TP 2 on 16 GPUs (2 nodes), slow compute and link', `${base}fsdp_version: 2\ntensor_parallel_size: 2\nsimulation: {hardware: dgx-h100, num_nodes: 2, stragglers: [{rank: 5, compute_slowdown: 1.3, link_slowdown: 1.5}]}\n`],
    ['HSDP 2 × 4 × TP 2, two stragglers in different groups', `${base}fsdp_version: 2\ndp_replicate_size: 2\ndp_shard_size: 4\ntensor_parallel_size: 2\ngradient_accumulation_steps: 2\nsimulation: {hardware: dgx-h100, num_nodes: 2, stragglers: [{rank: 2, compute_slowdown: 1.2}, {rank: 13, link_slowdown: 2}]}\n`],
    ['DeepSpeed ZeRO-3 on 8 GPUs', `${base}deepspeed: {zero_optimization: {stage: 3}, bf16: {enabled: true}}\nsimulation: {hardware: dgx-h100, gpus: 8, stragglers: [{rank: 6, compute_slowdown: 1.5}]}\n`],
    ['FSDP2 × TP 8 × CP 2 on 64 GPUs (8 nodes)', `${model}fsdp_version: 2\ntensor_parallel_size: 8\ncontext_parallel_size: 2\nsequence_len: 4096\nsimulation: {hardware: dgx-h100, num_nodes: 8, stragglers: [{rank: 21, compute_slowdown: 1.25}]}\n`],
    ['FSDP2 × TP 8 on 256 GPUs (32 nodes), a slow link', `${base}fsdp_version: 2\ntensor_parallel_size: 8\nsimulation: {hardware: dgx-h100, num_nodes: 32, stragglers: [{rank: 77, link_slowdown: 3}]}\n`],
    ['FSDP2 with expert parallelism 4 on 8 GPUs, a fixed hot EP slot and a straggler', `base_model: Qwen/Qwen3-30B-A3B\nsequence_len: 1024\nmicro_batch_size: 1\nbf16: true\nflash_attention: true\nfsdp_version: 2\nexpert_parallel_size: 4\nsimulation: {hardware: dgx-h100, gpus: 8, expert_load_imbalance: 1.3, stragglers: [{rank: 5, compute_slowdown: 1.2}]}\n`],
  ];
  for (const [name, yaml] of cases) {
    it(name, async () => {
      const [reduced, every] = await both(yaml);
      expect(reduced.plan.ranks.length).toBeLessThan(every.plan.ranks.length);
      expect(reduced.plan.rankClasses!.reduce((a, c) => a + c.ranks, 0)).toBe(every.plan.ranks.length);
      const r = reduced.result;
      const e = every.result;
      expect(r.step_time_s).toBeCloseTo(e.step_time_s, 12);
      expect(r.memory.peak_bytes).toBe(e.memory.peak_bytes);
      expect(r.memory.reserved_bytes).toBe(e.memory.reserved_bytes);
      expect(r.communication).toEqual(e.communication);
      expect(r.straggler?.lateRank).toBe(e.straggler?.lateRank);
      expect(r.straggler?.collectives).toBe(e.straggler?.collectives);
      expect(r.straggler?.waitSeconds).toBeCloseTo(e.straggler!.waitSeconds, 12);
      // Every representative's own timeline is the same rank's timeline in the full run.
      for (const rank of reduced.plan.ranks) {
        const a = rankBreakdown(reduced.timeline, rank);
        const b = rankBreakdown(every.timeline, rank);
        expect(a.stepSeconds).toBeCloseTo(b.stepSeconds, 12);
        expect(a.commExposedSeconds).toBeCloseTo(b.commExposedSeconds, 12);
        expect(a.idleSeconds).toBeCloseTo(b.idleSeconds, 12);
      }
      // And the ranks it stands for end where it ends.
      const classOfEnd = new Map(reduced.plan.ranks.map((rank) => [rank, rankBreakdown(reduced.timeline, rank).stepSeconds]));
      for (const rank of every.plan.ranks.filter((_, i) => i % 7 === 0)) {
        const end = rankBreakdown(every.timeline, rank).stepSeconds;
        expect([...classOfEnd.values()].some((x) => Math.abs(x - end) <= 1e-12 * Math.max(1, end))).toBe(true);
      }
    }, 120_000);
  }
});

describe('jitter over classes: the group waits for the latest of its unsimulated members (order statistics)', () => {
  const jittered = (extra: string) =>
    `base_model: meta-llama/Llama-3.2-1B\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 2\nbf16: true\nflash_attention: true\n${extra}simulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: 10}\n`;
  for (const [name, extra] of [['DDP, 64 GPUs', ''], ['FSDP2, 64 GPUs', 'fsdp_version: 2\n'], ['FSDP2 × TP 8, 64 GPUs', 'fsdp_version: 2\ntensor_parallel_size: 8\n']] as const) {
    it(`${name}: one simulated rank's mean step is within 2% of every rank's, and above the jitter-free step`, async () => {
      const yaml = jittered(extra);
      const still = await simulateLoaded(loadScenarioText(yaml.replace('jitter: 0.05', 'jitter: 0'), { name: 'still' }));
      const every = await simulateLoaded(loadScenarioText(yaml, { name: 'every' }), { everyRank: true });
      const classes = await simulateLoaded(loadScenarioText(yaml, { name: 'classes' }), { everyRank: false });
      expect(classes.plan.ranks).toEqual([0]);
      expect(Math.abs(classes.result.steps.mean_s / every.result.steps.mean_s - 1)).toBeLessThan(0.02);
      expect(classes.result.steps.mean_s).toBeGreaterThan(still.result.step_time_s);
    }, 120_000);
  }
});
