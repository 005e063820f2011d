import { describe, expect, it } from 'vitest';
import { loadScenarioText, resolveConfig } from '../../src/config/index.ts';

/** What Axolotl (067b021c) does with a config before anything runs, as shardsim resolves it. */
const shape = { hardware: 'dgx-h100', gpusPerNode: 8 };
const base = { base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 2048, micro_batch_size: 2, bf16: true, simulation: { gpus: 8 } };
const resolve = (extra: Record<string, unknown>) => resolveConfig(loadScenarioText(JSON.stringify({ ...base, ...extra }), { name: 't' }), shape);

describe('fsdp_config as Axolotl reads it', () => {
  it('fsdp_config.fsdp_version (or .version) becomes the FSDP version (check_fsdp_version_in_fsdp_config)', async () => {
    expect((await resolve({ fsdp_config: { fsdp_version: 2, offload_params: false } })).strategy).toBe('fsdp2');
    expect((await resolve({ fsdp_config: { version: 2 } })).strategy).toBe('fsdp2');
    expect((await resolve({ fsdp_config: { reshard_after_forward: true } })).strategy).toBe('fsdp1');
  });

  it("drops the FSDP1 keys its FSDPConfig does not carry, with a warning; accelerate's defaults apply", async () => {
    const cfg = await resolve({ fsdp_version: 1, fsdp_config: { fsdp_backward_prefetch: 'BACKWARD_PRE', limit_all_gathers: false, sharding_strategy: 'SHARD_GRAD_OP' } });
    expect(cfg.fsdp.backwardPrefetch).toBe('NONE');
    expect(cfg.fsdp.limitAllGathers).toBe(true);
    expect(cfg.fsdp.reshardAfterForward).toBe(true);
    const dropped = cfg.warnings.map(String).filter((w) => w.includes("Axolotl's FSDPConfig drops it"));
    expect(dropped.map((w) => w.split(':')[0])).toEqual(['fsdp_config.backward_prefetch', 'fsdp_config.limit_all_gathers', 'fsdp_config.sharding_strategy']);
  });

  it('a run outside Axolotl honours them (simulation.framework: other)', async () => {
    const cfg = await resolve({ fsdp_version: 1, fsdp_config: { backward_prefetch: 'BACKWARD_PRE', sharding_strategy: 'SHARD_GRAD_OP' }, simulation: { gpus: 8, framework: 'other' } });
    expect(cfg.fsdp.backwardPrefetch).toBe('BACKWARD_PRE');
    expect(cfg.fsdp.reshardAfterForward).toBe(false);
  });
});

describe('plugins gate their keys', () => {
  it('Liger keys apply only with LigerPlugin listed', async () => {
    const without = await resolve({ liger_rms_norm: true, liger_glu_activation: true });
    expect(without.kernels.fusion.norm).toBe(false);
    expect(without.warnings.map(String).some((w) => w.startsWith('liger_rms_norm: not applied'))).toBe(true);
    const withPlugin = await resolve({ plugins: ['axolotl.integrations.liger.LigerPlugin'], liger_rms_norm: true });
    expect(withPlugin.kernels.fusion.norm).toBe(true);
  });

  it('listing CutCrossEntropyPlugin switches Cut Cross-Entropy on; the key alone does nothing', async () => {
    expect((await resolve({ plugins: ['axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin'] })).kernels.loss).toBe('cce');
    expect((await resolve({ plugins: ['axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin'], cut_cross_entropy: false })).kernels.loss).toBe('hf');
    expect((await resolve({ cut_cross_entropy: true })).kernels.loss).toBe('hf');
    expect((await resolve({ cut_cross_entropy: true, simulation: { gpus: 8, framework: 'other' } })).kernels.loss).toBe('cce');
  });

  it('torch_compile: auto compiles (torch ≥ 2.5.1)', async () => {
    expect((await resolve({ torch_compile: 'auto' })).kernels.compiled).toBe(true);
  });
});

describe('packed rows by attention backend', () => {
  const packed = { sample_packing: true, datasets: [{ path: 'x' }] };
  it('varlen backends get one row of micro × sequence_len with per-document attention', async () => {
    const cfg = await resolve({ ...packed, attn_implementation: 'flash_attention_2' });
    expect([cfg.shape.rows, cfg.shape.rowTokens, cfg.attention.masking]).toEqual([1, 4096, 'documents']);
  });
  it('sdpa chosen explicitly: micro rows with a block-diagonal mask', async () => {
    const cfg = await resolve({ ...packed, attn_implementation: 'sdpa' });
    expect([cfg.shape.rows, cfg.shape.rowTokens, cfg.attention.masking]).toEqual([2, 2048, 'dense']);
  });
  it('attention unset: the mask is kept, each row attends causally across its samples, and a warning says so', async () => {
    const cfg = await resolve(packed);
    expect([cfg.shape.rows, cfg.shape.rowTokens, cfg.attention.masking]).toEqual([2, 2048, 'causal']);
    expect(cfg.warnings.map(String).some((w) => w.startsWith('sample_packing: with this attention backend'))).toBe(true);
  });
  it('a hub kernel without packing support behaves like unset; the kernels-community flash kernels pack', async () => {
    expect((await resolve({ ...packed, attn_implementation: 'kernels-community/vllm-flash-attn3' })).attention.masking).toBe('causal');
    expect((await resolve({ ...packed, attn_implementation: 'kernels-community/flash-attn3' })).shape.rows).toBe(1);
  });
});
