import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hardwareProfileSchema,
  hardwareProfilesDir,
  listHardwareIds,
  loadHardwareProfile,
} from '../../src/hardware/index.ts';
import { errorOf } from '../helpers/errors.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'shardsim-hw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bundled(id: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(hardwareProfilesDir(), `${id}.json`), 'utf8'));
}

function writeProfile(name: string, data: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
  return file;
}


describe('listHardwareIds', () => {
  it('lists bundled ids sorted, without extensions', () => {
    const ids = listHardwareIds();
    expect(ids).toEqual([...ids].sort());
    expect(ids.every((id) => !id.endsWith('.json'))).toBe(true);
    expect(ids).toContain('dgx-h100');
  });
});

describe('loadHardwareProfile', () => {
  it('caches: the same id returns the same frozen object', () => {
    const a = loadHardwareProfile('dgx-h100');
    expect(loadHardwareProfile('dgx-h100')).toBe(a);
    expect(Object.isFrozen(a.gpu)).toBe(true);
  });

  it('accepts a path to a .json file', () => {
    const data = bundled('dgx-a100-80gb');
    data.id = 'my-a100';
    const file = writeProfile('my-a100.json', data);
    const p = loadHardwareProfile(file);
    expect(p.id).toBe('my-a100');
    expect(p.gpu.memory_bytes).toBe(85899345920);
  });

  it('names the closest ids for an unknown id', () => {
    const err = errorOf(() => loadHardwareProfile('dgx-h10'));
    expect(err.key).toBe('simulation.hardware');
    expect(err.message).toContain('unknown hardware profile "dgx-h10"');
    expect(err.message).toMatch(/did you mean dgx-h100\b/);
    expect(err.message).toContain('shardsim list hardware');
  });

  it('suggests several ids for a typo of a longer id', () => {
    const err = errorOf(() => loadHardwareProfile('8x-rtx-4090'));
    expect(err.message).toContain('8x-rtx4090-pcie');
  });

  it('reports a missing file path', () => {
    const err = errorOf(() => loadHardwareProfile(path.join(tmp, 'nope.json')));
    expect(err.message).toContain('nope.json');
  });

  it('reports invalid JSON with the file name', () => {
    const file = writeProfile('broken.json', '{ "id": ');
    const err = errorOf(() => loadHardwareProfile(file));
    expect(err.message).toContain(file);
    expect(err.message).toContain('invalid JSON');
  });

  it('reports a schema violation with the file and the dotted key', () => {
    const data = bundled('dgx-h100');
    data.gpu.memory_bytes = -1;
    const file = writeProfile('negative.json', data);
    const err = errorOf(() => loadHardwareProfile(file));
    expect(err.message).toContain(file);
    expect(err.message).toContain('gpu.memory_bytes');
  });

  it('rejects unknown keys (strict objects) naming the key', () => {
    const data = bundled('dgx-h100');
    data.nccl.tree_busbw = 1;
    const file = writeProfile('extra.json', data);
    const err = errorOf(() => loadHardwareProfile(file));
    expect(err.message).toContain('nccl.tree_busbw');
  });

  it('rejects a wrong enum value', () => {
    const data = bundled('dgx-h100');
    data.scale_out.kind = 'carrier-pigeon';
    const err = errorOf(() => loadHardwareProfile(writeProfile('enum.json', data)));
    expect(err.message).toContain('scale_out.kind');
  });

  it('requires a source for every number', () => {
    const data = bundled('dgx-h100');
    delete data.sources['nccl.intra_latency_seconds'];
    const err = errorOf(() => loadHardwareProfile(writeProfile('nosource.json', data)));
    expect(err.message).toContain('nccl.intra_latency_seconds');
  });

  it('rejects NVLS bandwidth on a system without NVLS', () => {
    const data = bundled('dgx-a100-80gb');
    data.nccl.intra_nvls_busbw_bytes_per_second = 3e11;
    const err = errorOf(() => loadHardwareProfile(writeProfile('nvls.json', data)));
    expect(err.message).toContain('nccl.intra_nvls_busbw_bytes_per_second');
  });
});

describe('hardwareProfileSchema', () => {
  it('accepts every bundled profile file as stored', () => {
    for (const id of listHardwareIds()) {
      const result = hardwareProfileSchema.safeParse(bundled(id));
      expect(result.success, `${id}: ${result.success ? '' : result.error.message}`).toBe(true);
    }
  });
});
