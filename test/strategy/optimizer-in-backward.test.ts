import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';
import { ShardsimError } from '../../src/util/errors.ts';

const refusal = async (scenario: Record<string, unknown>): Promise<string> => {
  const err = await run(scenario).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ShardsimError);
  return (err as Error).message;
};

// torchtune's optimizer_in_bwd (full_finetune_single_device): each parameter is stepped from its
// post-accumulate-grad hook and its gradient dropped, so gradients never accumulate for the whole model.
const base = {
  base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 1, bf16: true,
  flash_attention: true, gradient_checkpointing: true, optimizer: 'adamw_torch_fused', simulation: { gpus: 1, framework: 'other' },
};

describe('optimizer in backward (torchtune optimizer_in_bwd)', () => {
  it('frees each gradient when it is stepped: the peak holds at most the tied weight’s gradient, not the model’s', async () => {
    const after = (await run(base)).result;
    const inBwd = (await run({ ...base, optimizer_in_bwd: true })).result;
    const P = after.model.parameters;
    expect(after.memory.model_states_bytes - inBwd.memory.model_states_bytes).toBe(P * 2);
    // Llama-3.2-1B ties lm_head to the embedding: that V×h gradient lives from the head's backward to the embedding's.
    expect(inBwd.memory.breakdown_at_peak.gradients).toBeLessThanOrEqual((128256 * 2048 + 2048) * 2); // + the final norm's, stepped right after the head
    // With few activations the peak is the optimizer step's (every gradient alive): in backward it is gone.
    const short = { ...base, sequence_len: 256, micro_batch_size: 1 };
    const afterShort = (await run(short)).result;
    const inBwdShort = (await run({ ...short, optimizer_in_bwd: true })).result;
    expect(afterShort.memory.peak_bytes - inBwdShort.memory.peak_bytes).toBeGreaterThan(P * 2 * 0.5);
    // The same optimizer work, now inside backward; no clip_grad_norm (torchtune refuses clipping with it).
    expect(inBwd.time_breakdown_s.optimizer).toBeGreaterThan(0);
    expect(inBwd.step_time_s).toBeLessThan(after.step_time_s * 1.05);
  });

  it('steps inside backward: optimizer tasks sit between backward segments', async () => {
    const { plan } = await run({ ...base, optimizer_in_bwd: true });
    const tags = plan.tasks.filter((t) => t.process === 0).map((t) => t.tag);
    const firstStep = tags.findIndex((t) => t.kind === 'optimizer');
    const lastBackward = tags.map((t) => t.phase).lastIndexOf('backward');
    expect(firstStep).toBeGreaterThan(0);
    expect(firstStep).toBeLessThan(lastBackward);
    expect(tags.some((t) => t.label === 'clip_grad_norm')).toBe(false);
  });

  it('refuses what torchtune refuses, and is not read under Axolotl', async () => {
    expect(await refusal({ ...base, optimizer_in_bwd: true, gradient_accumulation_steps: 2 })).toMatch(/^optimizer_in_bwd: .*gradient accumulation/);
    expect(await refusal({ ...base, optimizer_in_bwd: true, simulation: { gpus: 2, framework: 'other' } })).toMatch(/^optimizer_in_bwd: .*one GPU/);
    const ax = (await run({ ...base, optimizer_in_bwd: true, simulation: { gpus: 1 } })).result;
    expect(ax.warnings.map((w) => w.message).join('\n')).toMatch(/optimizer_in_bwd: torchtune's key/);
  });
});
