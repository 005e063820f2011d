import { describe, expect, it } from 'vitest';
import { loadScenarioText, resolveConfig } from '../../src/config/index.ts';
import { resolveTrainer } from '../../src/config/trainer.ts';

const shape = { hardware: 'dgx-h100', gpusPerNode: 8 };
const plugin = 'axolotl.integrations.diffusion.DiffusionPlugin';
const base = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 512, micro_batch_size: 4, bf16: true, plugins: [plugin], simulation: { gpus: 1 } };
const load = (extra: Record<string, unknown>) => loadScenarioText(JSON.stringify({ ...base, ...extra }), { name: 't' });
const resolve = (extra: Record<string, unknown>) => resolveConfig(load(extra), shape);

describe('the diffusion plugin (axolotl integrations/diffusion)', () => {
  it('is switched on by the plugin alone; masks E[p_mask] = (1 + eps) / 2 of the tokens', () => {
    // args.py default eps = 1e-3; trainer.py: p_mask = (1 − eps)·t + eps with t ~ U(0, 1).
    expect(resolveTrainer({ plugins: [plugin] })).toEqual({ kind: 'diffusion', maskedFraction: 0.5005 });
    expect(resolveTrainer({ plugins: [plugin], diffusion: { eps: 5e-4 } })).toEqual({ kind: 'diffusion', maskedFraction: 0.50025 });
    expect(resolveTrainer({ diffusion: { eps: 5e-4 } })).toEqual({ kind: 'sft' });
  });

  it('attends bidirectionally: every score of the row, even without packing or padding', async () => {
    const sft = await resolveConfig(loadScenarioText(JSON.stringify({ ...base, plugins: [] }), { name: 't' }), shape);
    const diffusion = await resolve({});
    expect(sft.attention.masking).toBe('causal');
    expect(diffusion.attention.masking).toBe('dense');
    expect(diffusion.shape).toEqual(sft.shape);
  });

  it('drops the diffusion block without the plugin, as Axolotl drops plugin keys', async () => {
    const cfg = await resolve({ plugins: [], diffusion: { eps: 5e-4 } });
    expect(cfg.trainer.kind).toBe('sft');
    expect(cfg.warnings.join('\n')).toMatch(/^diffusion: not applied/m);
  });

  it('refuses what the plugin does not support: flash attention, RL, ring attention', async () => {
    await expect(resolve({ attn_implementation: 'flash_attention_2' })).rejects.toThrow(/^attn_implementation: flash_attention_2 with the diffusion plugin/);
    await expect(resolve({ flash_attention: true })).rejects.toThrow(/^flash_attention: flash_attention_2 with the diffusion plugin/);
    await expect(resolve({ rl: 'dpo' })).rejects.toThrow(/^rl: .*No RL training support/);
    await expect(resolve({ context_parallel_size: 2, simulation: { gpus: 2 } })).rejects.toThrow(/^context_parallel_size: /);
  });

  it("checks the diffusion block's keys as DiffusionConfig does", () => {
    expect(() => load({ diffusion: { min_mask_ratio: 0.9, max_mask_ratio: 0.1 } })).toThrow(/min_mask_ratio must be ≤ max_mask_ratio/);
    expect(() => load({ diffusion: { noise_schedule: 'sqrt' } })).toThrow(/diffusion\.noise_schedule/);
    expect(() => load({ diffusion: { eps: 2 } })).toThrow(/diffusion\.eps/);
  });
});
