import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hardwareProfilesDir, loadHardwareProfile } from '../../src/hardware/index.ts';
import { networkParams } from '../../src/network/index.ts';
import { run, llama8b } from '../helpers/run.ts';

/**
 * Issue 16: editing `scale_out.bytes_per_second_per_nic` (even to 1e-3) left the step time unchanged,
 * because an absolute fitted busbw shadowed it. NCCL's efficiency is now a ratio to the line rate.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'shardsim-nic-'));
function withNic(bytesPerSecondPerNic: number): string {
  const p = JSON.parse(readFileSync(path.join(hardwareProfilesDir(), 'dgx-h100.json'), 'utf8'));
  p.id = `nic-${bytesPerSecondPerNic}`;
  p.scale_out.bytes_per_second_per_nic = bytesPerSecondPerNic;
  const file = path.join(dir, `${p.id}.json`);
  writeFileSync(file, JSON.stringify(p));
  return file;
}

describe('the NIC line rate flows through to the step', () => {
  it('bus bandwidth across nodes = line rate × efficiency', () => {
    const p = loadHardwareProfile(withNic(25e9));
    expect(networkParams(p).nicBusBytesPerSecond).toBeCloseTo(25e9 * p.nccl.inter_busbw_efficiency, 0);
  });

  it('a slower NIC makes a 2-node FSDP step slower; a faster one never slower', async () => {
    const step = async (nic: number) => (await run({ ...llama8b, fsdp_version: 2, simulation: { hardware: withNic(nic), num_nodes: 2 } })).result.step_time_s;
    const [slow, normal, fast] = [await step(5e9), await step(50e9), await step(100e9)];
    expect(slow).toBeGreaterThan(1.2 * normal);
    expect(fast).toBeLessThanOrEqual(normal);
    const tiny = await step(1e-3);
    expect(tiny).toBeGreaterThan(1e6);
    expect(Number.isFinite(tiny)).toBe(true);
  });
});
