import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

describe('HFU counts what checkpointing recomputes', () => {
  it('full > selective > none, and none equals MFU', async () => {
    const base = { base_model: 'meta-llama/Llama-3.1-8B', fsdp_version: 2, sequence_len: 4096, micro_batch_size: 1, bf16: true, flash_attention: true, simulation: { hardware: 'dgx-h100' } };
    const ratio = async (gradient_checkpointing: boolean | string) => {
      const r = (await run({ ...base, gradient_checkpointing })).result;
      return r.throughput.hfu / r.throughput.mfu;
    };
    const none = await ratio(false);
    const selective = await ratio('selective');
    const full = await ratio(true);
    expect(none).toBeCloseTo(1, 12);
    expect(selective).toBeGreaterThan(1.05);
    expect(full).toBeGreaterThan(selective + 0.1);
  });
});
