import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

const base = {
  base_model: 'meta-llama/Llama-3.1-8B', fsdp_version: 2, sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 4,
  bf16: true, flash_attention: true, gradient_checkpointing: true,
};

describe('FSDP gradient sync under accumulation', () => {
  it('final_micro_batch (default, HF Trainer no_sync) keeps unsharded gradients; every_micro_batch reduce-scatters each time', async () => {
    const last = await run({ ...base, simulation: { hardware: 'dgx-h100' } });
    const every = await run({ ...base, simulation: { hardware: 'dgx-h100', fsdp_gradient_sync: 'every_micro_batch' } });
    const rs = (r: typeof last) => r.timeline.spans.filter((s) => s.tag.kind === 'reduce_scatter');
    expect(rs(last)).toHaveLength(33); // 32 layers + root, final micro-batch only
    expect(rs(every)).toHaveLength(4 * 33);
    // Without the held unsharded gradients the peak is far lower; the traffic is 4× the reduce-scatters.
    expect(every.result.memory.peak_bytes).toBeLessThan(last.result.memory.peak_bytes - 8 * 2 ** 30);
    expect(every.result.communication.by_kind.reduce_scatter!.bytes_per_gpu).toBeCloseTo(4 * last.result.communication.by_kind.reduce_scatter!.bytes_per_gpu, -3);
    // Every allocation is freed by the end of the step except the persistent model states.
    for (const r of [last, every]) {
      const m = r.timeline.memory.get(0)!;
      expect(m.finalBytes).toBeCloseTo(r.plan.persistentBytes.parameters + r.plan.persistentBytes.optimizer_states, -3);
    }
  });
});
