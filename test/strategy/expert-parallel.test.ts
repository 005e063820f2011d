import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from '../helpers/run.ts';
import { simulateFile } from '../../src/pipeline/simulate.ts';
import { dispatchBytes, expectedDestinationRanks, expectedSlowestLoad, routedLoadCv, sampledLoads } from '../../src/strategy/expert-parallel.ts';
import { ShardsimError } from '../../src/util/errors.ts';
import type { MoeFfn } from '../../src/model/types.ts';

/** Qwen3-30B-A3B's MoE block (config.json: num_experts 128, num_experts_per_tok 8, moe_intermediate_size 768, hidden 2048). */
const qwenMoe: MoeFfn = { kind: 'moe', numExperts: 128, topK: 8, expertIntermediate: 768, gated: true, sharedIntermediate: 0 };

const binom = (n: number, k: number): bigint => {
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
};

describe('DeepEP dispatch: ranks per token and bytes', () => {
  it('a token goes to every rank holding one of its k experts: ep · (1 − C(E − E/ep, k) / C(E, k))', () => {
    for (const ep of [2, 4, 8, 16]) {
      const miss = Number(binom(128 - 128 / ep, 8) * 10n ** 12n / binom(128, 8)) / 1e12;
      expect(expectedDestinationRanks(128, 8, ep)).toBeCloseTo(ep * (1 - miss), 6);
    }
    // Top-1: exactly one destination; one rank: always itself.
    expect(expectedDestinationRanks(64, 1, 8)).toBeCloseTo(1, 12);
    expect(expectedDestinationRanks(128, 8, 1)).toBeCloseTo(1, 12);
    // Never more ranks than k or than ep.
    expect(expectedDestinationRanks(128, 8, 64)).toBeLessThanOrEqual(8);
    expect(expectedDestinationRanks(8, 2, 2)).toBeLessThanOrEqual(2);
  });

  it('dispatches every token in bf16 once per destination rank', () => {
    const tokens = 4096;
    expect(dispatchBytes(qwenMoe, tokens, 2048, 4)).toBeCloseTo(tokens * 2048 * 2 * expectedDestinationRanks(128, 8, 4), 3);
  });
});

describe('routing imbalance (seeded)', () => {
  it('the loads of an EP group conserve the rows and follow the seed', () => {
    const a = sampledLoads(0.05, 8, 'x:1');
    expect(a.reduce((s, x) => s + x, 0)).toBeCloseTo(8, 9);
    expect(sampledLoads(0.05, 8, 'x:1')).toEqual(a);
    expect(sampledLoads(0.05, 8, 'x:2')).not.toEqual(a);
  });

  it('relative spread shrinks as 1/√tokens and vanishes without EP', () => {
    const cv1 = routedLoadCv(qwenMoe, 1024, 8);
    const cv4 = routedLoadCv(qwenMoe, 4096, 8);
    expect(cv1 / cv4).toBeCloseTo(2, 9);
    expect(routedLoadCv(qwenMoe, 1024, 1)).toBe(0);
  });

  it('the expected slowest rank is above the mean and grows with the group', () => {
    const s2 = expectedSlowestLoad(0.05, 2, 's');
    const s8 = expectedSlowestLoad(0.05, 8, 's');
    expect(s2).toBeGreaterThan(1);
    expect(s8).toBeGreaterThan(s2);
    expect(expectedSlowestLoad(0, 8, 's')).toBe(1);
  });
});

const qwen = {
  base_model: 'Qwen/Qwen3-30B-A3B', sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 1,
  bf16: true, flash_attention: true, simulation: { hardware: 'dgx-h100', gpus: 8 },
};
const fsdp = { ...qwen, fsdp_version: 2, fsdp_config: { reshard_after_forward: true } };

describe('expert parallelism in the plan', () => {
  it('more EP never raises the experts held per GPU; pure EP under DDP holds 1/ep of them', async () => {
    const peaks: number[] = [];
    const gathered: number[] = [];
    for (const ep of [1, 2, 4, 8]) {
      const r = await run({ ...fsdp, expert_parallel_size: ep });
      peaks.push(r.result.memory.peak_bytes);
      // Bytes all-gathered for layer 3 in forward (non-expert part + the local experts' FSDP unit).
      gathered.push(r.timeline.spans.filter((s) => s.tag.kind === 'all_gather' && s.tag.layer === 3 && s.tag.phase === 'forward').reduce((a, s) => a + s.tag.bytes!, 0));
    }
    for (let i = 1; i < peaks.length; i++) {
      expect(peaks[i]!).toBeLessThanOrEqual(peaks[i - 1]!);
      expect(gathered[i]!).toBeLessThan(gathered[i - 1]!);
    }
    const ddp1 = await run({ ...qwen });
    const ddp8 = await run({ ...qwen, expert_parallel_size: 8 });
    const p1 = ddp1.plan.persistentBytes.parameters;
    const p8 = ddp8.plan.persistentBytes.parameters;
    // Qwen3-30B-A3B: 48 layers × 128 experts × 3 × 2048 × 768 expert weights; the rest is replicated.
    const expertParams = 48 * 128 * 3 * 2048 * 768;
    expect(p1 - p8).toBe((expertParams - expertParams / 8) * 2); // bf16 (DDP keeps the loaded dtype)
    expect(ddp8.result.expert_parallel?.experts_per_rank).toBe(16);
    expect(ddp8.result.mesh).toEqual({ dp_replicate: 1, dp_shard: 1, cp: 1, tp: 1, ep: 8 });
  });

  it('each MoE layer: dispatch before the expert GEMMs before the combine, forward, recompute and backward', async () => {
    for (const scenario of [{ ...fsdp, expert_parallel_size: 4, gradient_checkpointing: true }, { ...qwen, expert_parallel_size: 8, gradient_checkpointing: false }]) {
      const r = await run(scenario);
      const phases = scenario.gradient_checkpointing ? ['forward', 'recompute', 'backward'] : ['forward', 'backward'];
      for (const phase of phases) {
        const at = (pred: (s: (typeof r.timeline.spans)[number]) => boolean) => r.timeline.spans.filter((s) => s.tag.layer === 7 && s.tag.phase === phase && pred(s));
        const a2a = at((s) => s.tag.kind === 'all_to_all').sort((x, y) => x.workStart - y.workStart);
        const experts = at((s) => s.tag.kind === 'compute' && s.tag.label.includes('experts'));
        expect(a2a.map((s) => /dispatch|combine/.exec(s.tag.label)?.[0])).toEqual(['dispatch', 'combine']);
        expect(a2a.every((s) => s.stream === 'expert_parallel')).toBe(true);
        expect(experts.length).toBeGreaterThan(0);
        const first = Math.min(...experts.map((s) => s.workStart));
        const last = Math.max(...experts.map((s) => s.end));
        expect(first).toBeGreaterThanOrEqual(a2a[0]!.end - 1e-12);
        expect(a2a[1]!.workStart).toBeGreaterThanOrEqual(last - 1e-12);
        // The rest of the layer waits for the combine.
        const next = r.timeline.spans.filter((s) => s.stream === 'compute' && s.workStart >= a2a[1]!.end - 1e-12 && s.tag.phase === phase);
        expect(next.length).toBeGreaterThan(0);
      }
    }
  });

  it('imbalance slows the experts: a given slowest-rank load stretches their GEMMs', async () => {
    const base = await run({ ...fsdp, expert_parallel_size: 8, simulation: { ...fsdp.simulation, expert_load_imbalance: 1 } });
    const slow = await run({ ...fsdp, expert_parallel_size: 8, simulation: { ...fsdp.simulation, expert_load_imbalance: 1.5 } });
    const expertTime = (r: typeof base) => r.timeline.spans.filter((s) => s.tag.kind === 'compute' && s.tag.label.includes('experts')).reduce((a, s) => a + s.end - s.workStart, 0);
    expect(expertTime(slow) / expertTime(base)).toBeCloseTo(1.5, 6);
    expect(slow.result.step_time_s).toBeGreaterThan(base.result.step_time_s);
  });

  it('simulating every rank: each EP group draws its loads from the seed, the rows add up, peers wait at the combine', async () => {
    const scenario = { ...qwen, expert_parallel_size: 8, simulation: { ...qwen.simulation, stragglers: [{ rank: 0, compute_slowdown: 1 }] } };
    const r = await run(scenario);
    const fwd = (rk: number) => r.timeline.spans.find((s) => s.process === rk && s.tag.layer === 3 && s.tag.phase === 'forward' && s.tag.label === 'layer 3 experts')!;
    const times = Array.from({ length: 8 }, (_, rk) => fwd(rk).end - fwd(rk).workStart);
    expect(Math.max(...times)).toBeGreaterThan(Math.min(...times));
    // Loads are centred on the balanced rows: the ranks' mean is the balanced-load time of a symmetric run.
    const even = await run({ ...qwen, expert_parallel_size: 8, simulation: { ...qwen.simulation, expert_load_imbalance: 1 } });
    const evenSpan = even.timeline.spans.find((s) => s.tag.label === 'layer 3 experts' && s.tag.phase === 'forward')!;
    expect(times.reduce((a, x) => a + x, 0) / 8).toBeCloseTo(evenSpan.end - evenSpan.workStart, 9);
    // Same seed, same draws.
    const again = await run(scenario);
    const againSpan = again.timeline.spans.find((s) => s.process === 5 && s.tag.label === 'layer 3 experts' && s.tag.phase === 'forward')!;
    expect(againSpan.end - againSpan.workStart).toBe(times[5]);
    // The combine ends together on every rank (a rendezvous): it waited for the slowest.
    const combineEnd = (rk: number) => r.timeline.spans.find((s) => s.process === rk && s.tag.kind === 'all_to_all' && s.tag.layer === 3 && s.tag.phase === 'forward' && s.tag.label.includes('combine'))!.end;
    for (let rk = 1; rk < 8; rk++) expect(combineEnd(rk)).toBeCloseTo(combineEnd(0), 12);
  });

  it("refuses what Axolotl's EP plugin refuses, naming the key", async () => {
    const bad = async (s: Record<string, unknown>, re: RegExp) => {
      const e = await run(s).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ShardsimError);
      expect(String((e as Error).message)).toMatch(re);
    };
    await bad({ ...fsdp, expert_parallel_size: 3 }, /does not divide/);
    await bad({ ...fsdp, expert_parallel_size: 2, tensor_parallel_size: 2 }, /tensor parallelism/);
    await bad({ ...qwen, expert_parallel_size: 4 }, /must equal/);
    await bad({ ...fsdp, base_model: 'meta-llama/Llama-3.1-8B', expert_parallel_size: 2 }, /no routed experts/);
  });
});

describe("Axolotl's EP example in the corpus", () => {
  it('examples/expert_parallel/qwen3_30ba3b_ep_fsdp_fft_4gpu.yaml simulates: EP 2 × dp_shard 2 on 4 GPUs', async () => {
    const file = fileURLToPath(new URL('../../../shared/axolotl-examples/examples/expert_parallel/qwen3_30ba3b_ep_fsdp_fft_4gpu.yaml', import.meta.url));
    const r = await simulateFile(file, {}, { advice: false });
    expect(r.result.world_size).toBe(4);
    expect(r.result.mesh).toEqual({ dp_replicate: 1, dp_shard: 2, cp: 1, tp: 1, ep: 2 });
    expect(r.result.batch.global_batch_size).toBe(4);
    expect(r.result.expert_parallel?.experts_per_rank).toBe(64);
    expect(r.result.communication.by_kind.all_to_all?.bytes_per_gpu).toBeGreaterThan(0);
    expect(r.result.warnings.filter((w) => w.key.startsWith('expert_parallel'))).toEqual([]);
  });
});
