import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareFolderName, compareTable, memorySpec, runCompare, stepBreakdownSpec } from '../../src/sweep/compare.ts';

let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const SMALL = 'base_model: meta-llama/Llama-3.2-1B\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 1\nbf16: true\nflash_attention: true\n';
let ddp: string;
let fsdp: string;
let bad: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardsim-compare-'));
  ddp = file('small-ddp.yaml', SMALL);
  fsdp = file('small-fsdp2.yaml', SMALL + 'fsdp_version: 2\nfsdp_config: {reshard_after_forward: true}\n');
  bad = file('small-tp3.yaml', SMALL + 'tensor_parallel_size: 3\n');
});

describe('compare', () => {
  it('runs several scenarios side by side, labelled by scenario', async () => {
    const runs = await runCompare({ scenarios: [ddp, fsdp] });
    expect(runs.map((r) => r.label)).toEqual(['small-ddp', 'small-fsdp2']);
    expect(runs.map((r) => r.result?.strategy)).toEqual(['ddp', 'fsdp2']);
    const table = compareTable(runs);
    const header = table.split('\n')[0]!;
    expect(header).toMatch(/small-ddp\s+small-fsdp2/);
    for (const metric of ['step time', 'tokens/s/GPU', 'MFU', 'exposed comm', 'peak memory', 'fits', '$/M tokens']) expect(table).toMatch(new RegExp(`^${metric.replace(/[$/]/g, '\\$&')}`, 'm'));
    // FSDP2 shards the model states, so its peak memory is lower: the star marks it as the better one.
    expect(runs[1]!.result!.memory.peak_bytes).toBeLessThan(runs[0]!.result!.memory.peak_bytes);
    expect(table).toMatch(/^peak memory .* \*$/m);
    expect(compareFolderName(runs)).toBe('compare-small-ddp-vs-small-fsdp2');
  }, 60_000);

  it('runs one scenario on several hardware profiles, labelled by profile', async () => {
    const runs = await runCompare({ scenarios: [fsdp], hardware: ['dgx-h100', 'dgx-a100-80gb'] });
    expect(runs.map((r) => r.label)).toEqual(['dgx-h100', 'dgx-a100-80gb']);
    expect(runs.map((r) => r.result?.hardware)).toEqual(['dgx-h100', 'dgx-a100-80gb']);
    // The same step on a slower GPU takes longer.
    expect(runs[1]!.result!.step_time_s).toBeGreaterThan(runs[0]!.result!.step_time_s);
    // Each column says whether its GPU's compute rates were measured on that GPU.
    expect(compareTable(runs)).toMatch(/^calibration\s+measured\s+partial\s*$/m);
    expect(compareFolderName(runs)).toBe('compare-small-fsdp2-on-dgx-h100-vs-dgx-a100-80gb');
  }, 60_000);

  it('keeps going past a run that cannot be simulated, and names it with its reason', async () => {
    const runs = await runCompare({ scenarios: [fsdp, bad] });
    expect(runs[1]).toMatchObject({ label: 'small-tp3', error: expect.stringMatching(/tensor_parallel_size/) });
    expect(compareTable(runs)).toMatch(/^skipped small-tp3: tensor_parallel_size/m);
  }, 60_000);

  it('refuses a comparison of one run', async () => {
    await expect(runCompare({ scenarios: [ddp] })).rejects.toThrow(/nothing to compare/);
    await expect(runCompare({ scenarios: [ddp, fsdp], hardware: ['dgx-h10'] })).rejects.toThrow(/dgx-h100/);
  });

  it('draws the step breakdown and the memory by category from the results', async () => {
    const runs = await runCompare({ scenarios: [ddp, fsdp] });
    const step = stepBreakdownSpec(runs) as { layer: { data: { values: { run: string; part: string; seconds: number }[] } }[] };
    const r0 = runs[0]!.result!;
    const parts = step.layer[0]!.data.values.filter((v) => v.run === 'small-ddp');
    expect(parts.map((p) => p.part)).toEqual(['compute', 'optimizer', 'exposed communication', 'idle']);
    const sum = parts.reduce((a, p) => a + p.seconds, 0);
    expect(sum).toBeCloseTo(r0.time_breakdown_s.compute + r0.time_breakdown_s.optimizer + r0.time_breakdown_s.exposed_communication + r0.time_breakdown_s.idle, 12);
    expect(step.layer[1]!.data.values.map((v) => v.seconds)).toEqual(runs.map((r) => r.result!.step_time_s));
    const mem = memorySpec(runs) as { layer: { data: { values: { run: string; gib: number }[] } }[] };
    const bars = mem.layer[0]!.data.values.filter((v) => v.run === 'small-fsdp2');
    const r1 = runs[1]!.result!;
    const byCat = Object.values(r1.memory.breakdown_at_peak).reduce((a, b) => a + b, 0);
    expect(bars.reduce((a, v) => a + v.gib, 0)).toBeCloseTo(byCat / 2 ** 30, 9);
    expect(mem.layer[1]!.data.values.map((v) => v.gib)).toEqual(runs.map((r) => r.result!.memory.capacity_bytes / 2 ** 30));
  }, 60_000);
});
