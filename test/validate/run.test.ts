import { describe, expect, it } from 'vitest';
import { validateRows } from '../../src/validate/run.ts';
import type { ValidationRow } from '../../src/validate/dataset.ts';

const scenario = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 1024, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true };
const row = (id: string, o: Partial<ValidationRow> = {}): ValidationRow => ({ id, source: 'org/repo notes', hardware: 'dgx-h100', num_nodes: 1, scenario, measured: {}, ...o });

describe('validating rows', () => {
  it('compares every measured metric, with error = (predicted − measured) / measured', async () => {
    const report = await validateRows([row('x', { measured: { tokens_per_s_per_gpu: 10_000, peak_memory_bytes: 20 * 2 ** 30, peak_memory_kind: 'reserved' } })]);
    expect(report.rows.map((r) => r.metric)).toEqual(['tokens_per_s_per_gpu', 'peak_memory_bytes']);
    for (const r of report.rows) expect(r.error).toBeCloseTo((r.predicted - r.measured) / r.measured, 12);
    const mem = report.rows[1]!;
    expect(mem.kind).toBe('reserved');
    expect(mem.allocatorFactor).toBeGreaterThanOrEqual(1);
    expect(report.rows[0]!.source).toBe('org/repo');
  }, 30_000);

  it('skips a row the simulator refuses, with the reason, and keeps the others', async () => {
    const report = await validateRows([row('bad', { scenario: { ...scenario, optimizer: 'not_an_optimizer' }, measured: { tokens_per_s_per_gpu: 1 } }), row('ok', { measured: { step_time_s: 1 } })]);
    expect(report.skipped).toEqual([{ id: 'bad', reason: expect.stringMatching(/optimizer/) }]);
    expect(report.rows.map((r) => r.id)).toEqual(['ok']);
    expect(report.summary.step_time_s!.n).toBe(1);
  }, 30_000);
});
