import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, llama8b } from '../helpers/run.ts';

/**
 * Issue 16's hang reproductions: each ran forever at 100% CPU once simulated time passed ~1.6·10⁴ s (the
 * flow check rescheduled itself at the same instant). Each now ends, in seconds, with finite numbers.
 */
function expectSane(r: Awaited<ReturnType<typeof run>>, minStepSeconds: number): void {
  const x = r.result;
  expect(Number.isFinite(x.step_time_s)).toBe(true);
  expect(x.step_time_s).toBeGreaterThan(minStepSeconds);
  const parts = x.time_breakdown_s.compute + x.time_breakdown_s.optimizer + x.time_breakdown_s.exposed_communication + x.time_breakdown_s.idle;
  expect(parts).toBeCloseTo(x.step_time_s, 3);
  expect(x.throughput.mfu).toBeGreaterThan(0);
  expect(x.throughput.mfu).toBeLessThan(1);
}

const seventy2node = {
  base_model: 'meta-llama/Llama-3.1-70B',
  fsdp_version: 2,
  fsdp_config: { reshard_after_forward: true },
  sequence_len: 4096,
  micro_batch_size: 1,
  bf16: true,
  flash_attention: true,
  gradient_checkpointing: true,
  simulation: { hardware: 'dgx-h100', num_nodes: 2 },
};

describe('the hangs of issue 16 end within seconds', { timeout: 30_000 }, () => {
  it('scenarios/sweeps/llama-3.1-70b-2node.yaml with gradient_accumulation_steps: 16 at 1 Gb/s between nodes', async () => {
    const r = await run({ ...seventy2node, gradient_accumulation_steps: 16, simulation: { ...seventy2node.simulation, inter_node_bandwidth: '1 Gb/s' } });
    expectSane(r, 1.6e4);
  });

  it('a bare inter_node_bandwidth: 400 (bytes/s)', async () => {
    expectSane(await run({ ...llama8b, simulation: { num_nodes: 2, inter_node_bandwidth: 400 } }), 1e6);
  });

  it('a huge sequence length, and a huge micro-batch', async () => {
    expectSane(await run({ ...llama8b, sequence_len: 4_194_304, micro_batch_size: 1 }), 1.6e4);
    expectSane(await run({ ...llama8b, micro_batch_size: 100_000 }), 1.6e4);
  });

  it('an extreme straggler', async () => {
    const r = await run({ ...llama8b, simulation: { stragglers: [{ rank: 3, compute_slowdown: 1e6, link_slowdown: 1e6 }] } });
    expectSane(r, 1.6e4);
    expect(r.result.straggler!.lateRank).toBe(3);
  });

  it('a very deep model', async () => {
    expectSane(await run({ ...llama8b, micro_batch_size: 4096, model_config: { num_hidden_layers: 2000 } }), 1.6e4);
  });

  it('a very slow hardware profile (every rate 10⁶ × lower)', async () => {
    const profile = JSON.parse(readFileSync(join(import.meta.dirname, '../../hardware-profiles/dgx-h100.json'), 'utf8'));
    // Every rate (a number, or a table of them, under a key ending in per_second) 10⁶ × lower.
    const scale = (v: unknown): unknown => (typeof v === 'number' ? v / 1e6 : Array.isArray(v) ? v.map(scale) : v);
    const slow = (o: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(o)) {
        if (/per_second$/.test(k)) o[k] = scale(v);
        else if (v && typeof v === 'object' && !Array.isArray(v)) slow(v as Record<string, unknown>);
      }
    };
    slow(profile);
    profile.id = 'slow-h100';
    const file = join(mkdtempSync(join(tmpdir(), 'shardsim-slow-')), 'slow-h100.json');
    writeFileSync(file, JSON.stringify(profile));
    expectSane(await run({ ...llama8b, simulation: { hardware: file, num_nodes: 2 } }), 1e5);
  });
});

describe('a sweep over the hanging configs ends, every row written', { timeout: 60_000 }, () => {
  it('gradient_accumulation_steps 16 at 1 Gb/s among others', async () => {
    const { prepareSweep, runSweep } = await import('../../src/sweep/sweep.ts');
    const base = join(import.meta.dirname, '../../scenarios/sweeps/llama-3.1-70b-2node.yaml');
    const prepared = prepareSweep(base, { vary: ['gradient_accumulation_steps=1,16', 'simulation.inter_node_bandwidth=1 Gb/s,400 Gb/s'] });
    const streamed: number[] = [];
    const { rows } = await runSweep(prepared, { jobs: 1, onRow: (r) => streamed.push(r.index) });
    expect(rows.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(streamed.sort()).toEqual([0, 1, 2, 3]);
    const slow = rows.find((r) => r.values.gradient_accumulation_steps === 16 && r.values['simulation.inter_node_bandwidth'] === '1 Gb/s')!;
    expect(slow.metrics!.step_time_s).toBeGreaterThan(1.6e4);
  });
});
