import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readValidationRows } from '../../src/validate/dataset.ts';
import { errorOf } from '../helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'shardsim-validate-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const row = (o: Record<string, unknown> = {}) => JSON.stringify({ id: 'r1', source: 'org/repo README', hardware: 'dgx-h100', num_nodes: 1, scenario: { sequence_len: 512 }, measured: { tokens_per_s_per_gpu: 1000 }, ...o });

describe('validation rows (.jsonl)', () => {
  it('reads one row per line and skips blank lines', () => {
    const rows = readValidationRows(file('ok.jsonl', `${row()}\n\n${row({ id: 'r2' })}\n`));
    expect(rows.map((r) => r.id)).toEqual(['r1', 'r2']);
    expect(rows[0]!.measured.tokens_per_s_per_gpu).toBe(1000);
  });

  it('names the file and line of a row that is not JSON', () => {
    const e = errorOf(() => readValidationRows(file('bad.jsonl', `${row()}\n{oops\n`)));
    expect(e.message).toMatch(/bad\.jsonl:2: not a validation row/);
  });

  it('names the missing fields', () => {
    const e = errorOf(() => readValidationRows(file('missing.jsonl', row({ source: undefined, hardware: '' }))));
    expect(e.message).toMatch(/missing source, hardware/);
    expect(errorOf(() => readValidationRows(file('nodes.jsonl', row({ num_nodes: 0 })))).message).toMatch(/num_nodes/);
  });

  it('refuses an unreadable file, naming --data', () => {
    const e = errorOf(() => readValidationRows(join(dir, 'nope.jsonl')));
    expect(e.key).toBe('--data');
  });
});
