import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateFile } from '../../src/pipeline/simulate.ts';
import { initInfo, simulateRequest } from '../../src/playground/session.ts';
import { catalogIds } from '../../src/model/index.ts';
import { listHardwareIds } from '../../src/hardware/index.ts';
import { DEFAULT_HARDWARE } from '../../src/config/index.ts';

const file = join(import.meta.dirname, '../../scenarios/llama-3.1-8b-fsdp2-16xh100.yaml');
const yaml = readFileSync(file, 'utf8');
const ask = (text: string, name = 'llama-3.1-8b-fsdp2-16xh100') => simulateRequest({ type: 'simulate', id: 7, name, yaml: text });

describe('the playground worker’s session', () => {
  it('runs the same pipeline as the CLI: the result equals simulateFile’s, with specs and the explanation', async () => {
    const res = await ask(yaml);
    if (!res.ok) throw new Error(res.message);
    const cli = await simulateFile(file, {}, { recordMemory: true });
    expect(res.result).toEqual(cli.result);
    expect(res.id).toBe(7);
    expect(JSON.stringify(res.specs!.timeline)).toContain('exposed communication');
    expect(JSON.stringify(res.specs!.memory)).toContain('GPU memory');
    expect(res.explanation!.length).toBeGreaterThan(3);
    expect(res.tallies.some((t) => t.kind === 'all_gather' && t.phase === 'backward' && t.count > 0)).toBe(true);
  });

  it('bad input comes back as the CLI’s one line: location, key, problem and fix', async () => {
    const res = await ask(yaml.replace('micro_batch_size: 4', 'micro_batch_size: 0'));
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.badInput).toBe(true);
    expect(res.message).toMatch(/^llama-3\.1-8b-fsdp2-16xh100\.yaml:\d+:\d+: micro_batch_size: must be positive \(got 0\) — set micro_batch_size to a positive whole number$/);
  });

  it('unknown keys are warnings, as in the CLI', async () => {
    const res = await ask(`${yaml}micro_bach_size: 2\n`);
    if (!res.ok) throw new Error(res.message);
    expect(res.result.warnings.map((w) => w.message).join('\n')).toMatch(/unknown key "micro_bach_size" ignored( \(not an Axolotl key\))? — did you mean "micro_batch_size"\?/);
  });

  it('a DeepSpeed file path is refused with the way out (a page cannot read files)', async () => {
    const res = await ask(`${yaml.replace(/fsdp_version: 2\nfsdp_config:\n  reshard_after_forward: true\n/, '')}deepspeed: deepspeed_configs/zero3_bf16.json\n`);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.message).toMatch(/^deepspeed: the playground cannot read "deepspeed_configs\/zero3_bf16.json" — write the DeepSpeed config inline as a mapping/);
  });

  it('init lists every bundled hardware profile and catalog model', () => {
    const info = initInfo(3);
    expect(info.hardware.map((h) => h.id)).toEqual(listHardwareIds());
    expect(info.models).toEqual(catalogIds());
    expect(info.defaultHardware).toBe(DEFAULT_HARDWARE);
    expect(info.hardware.every((h) => h.gpusPerNode > 0 && h.name.length > 0)).toBe(true);
  });
});
