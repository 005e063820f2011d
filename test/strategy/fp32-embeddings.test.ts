import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

// Axolotl loaders/model.py _configure_embedding_dtypes: without FSDP, embed_tokens and lm_head go to fp32 and
// come back to the model dtype only for an adapter, an attention that needs the cast (not sdpa/eager/unset) or CCE.
const base = { base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 2048, micro_batch_size: 1, bf16: true, optimizer: 'adamw_torch_fused', gradient_checkpointing: true, simulation: { gpus: 2 } };
const VH = 128256 * 4096;

describe("Axolotl's fp32 embedding modules (DDP, sdpa)", () => {
  it('a bf16 full fine-tune with sdpa keeps embed_tokens and lm_head weights, gradients and AdamW states in fp32', async () => {
    const sdpa = (await run(base)).result;
    const flash = (await run({ ...base, flash_attention: true })).result;
    // Two V×h matrices: +2 B of weight, +2 B of gradient, +4 B of AdamW state per element.
    expect(sdpa.memory.model_states_bytes - flash.memory.model_states_bytes).toBe(2 * VH * (2 + 2 + 4));
    expect(sdpa.precision.rationale).toMatch(/_configure_embedding_dtypes/);
    expect(flash.precision.rationale).not.toMatch(/_configure_embedding_dtypes/);
  });

  it('not with an adapter, Cut Cross-Entropy, FSDP, or outside Axolotl', async () => {
    const cases = [
      { ...base, adapter: 'lora', lora_r: 8, lora_target_linear: true },
      { ...base, plugins: ['axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin'] },
      { ...base, fsdp_version: 2, fsdp_config: { reshard_after_forward: true } },
      { ...base, simulation: { gpus: 2, framework: 'other' } },
    ];
    for (const c of cases) expect((await run(c)).result.precision.rationale).not.toMatch(/_configure_embedding_dtypes/);
  });
});
