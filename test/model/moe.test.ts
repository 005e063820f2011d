import { describe, expect, it } from 'vitest';
import { activeParameters, parameterCounts, specFromHfConfig } from '../../src/model/index.ts';
import { run } from '../helpers/run.ts';

// Architecture keys of the published config.json files (Hugging Face hub).
const QWEN3_8B = { model_type: 'qwen3', hidden_size: 4096, intermediate_size: 12288, num_hidden_layers: 36, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, tie_word_embeddings: false };
const QWEN3_30B_A3B = { model_type: 'qwen3_moe', hidden_size: 2048, intermediate_size: 6144, moe_intermediate_size: 768, num_hidden_layers: 48, num_attention_heads: 32, num_key_value_heads: 4, head_dim: 128, num_experts: 128, num_experts_per_tok: 8, decoder_sparse_step: 1, mlp_only_layers: [], vocab_size: 151936, tie_word_embeddings: false };
const MIXTRAL_8X7B = { model_type: 'mixtral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, num_local_experts: 8, num_experts_per_tok: 2, vocab_size: 32000, tie_word_embeddings: false };

describe('MoE and Qwen3 parameter counts (hand-derived, against the published totals)', () => {
  it('Qwen3-8B: 36 × (q 4096² + k, v 4096·1024 + o 4096² + 3·4096·12288 + 2·4096 + q/k norms 2·128) + 2 · 151936·4096 + 4096 = 8,190,735,360', () => {
    expect(parameterCounts(specFromHfConfig(QWEN3_8B, 'x')).total).toBe(8_190_735_360);
  });

  it('Qwen3-30B-A3B: 30,532,122,624 total (128 experts × 3 × 2048 × 768 per layer), 3,353,032,704 active (8 of them)', () => {
    const m = specFromHfConfig(QWEN3_30B_A3B, 'x');
    expect(parameterCounts(m).total).toBe(30_532_122_624);
    expect(activeParameters(m)).toBe(3_353_032_704);
  });

  it('Mixtral-8x7B: 46,702,792,704 total, 12,879,921,152 active (2 of 8 experts)', () => {
    const m = specFromHfConfig(MIXTRAL_8X7B, 'x');
    expect(parameterCounts(m).total).toBe(46_702_792_704);
    expect(activeParameters(m)).toBe(46_702_792_704 - 32 * 6 * 3 * 4096 * 14336);
  });

  it('qwen3_moe keeps the layers in mlp_only_layers dense', () => {
    const m = specFromHfConfig({ ...QWEN3_30B_A3B, mlp_only_layers: [0, 1] }, 'x');
    expect(m.layers[0]!.ffn).toEqual({ kind: 'dense', intermediate: 6144, gated: true });
    expect(m.layers[2]!.ffn!.kind).toBe('moe');
  });
});

describe('MoE training step', () => {
  const base = { model_config: QWEN3_30B_A3B, sequence_len: 2048, micro_batch_size: 1, bf16: true, flash_attention: true, gradient_checkpointing: true, fsdp_version: 2, fsdp_config: { reshard_after_forward: true } };
  it('FSDP2 gathers and shards every expert; the step pays grouped GEMMs and routing; eager experts are slower', async () => {
    const grouped = (await run({ ...base })).result;
    const eager = (await run({ ...base, experts_implementation: 'eager' })).result;
    expect(grouped.model.active_parameters).toBeLessThan(grouped.model.parameters / 5);
    // Model states follow the total (all experts), 8 bytes/param bf16 with AdamW, sharded 8 ways.
    expect(grouped.memory.model_states_bytes).toBeGreaterThan((30.5e9 * 8) / 8 * 0.99);
    expect(eager.step_time_s).toBeGreaterThan(grouped.step_time_s);
  });
});

describe('hybrid SSM models: nemotron_h', () => {
  // NVIDIA-Nemotron-3-Nano-30B-A3B config.json (architecture keys).
  const NANO = {
    model_type: 'nemotron_h', hidden_size: 2688, num_hidden_layers: 52, vocab_size: 131072, tie_word_embeddings: false,
    hybrid_override_pattern: 'MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME',
    num_attention_heads: 32, num_key_value_heads: 2, head_dim: 128, attention_bias: false,
    mamba_num_heads: 64, mamba_head_dim: 64, ssm_state_size: 128, n_groups: 8, conv_kernel: 4, chunk_size: 128, use_bias: false, use_conv_bias: true,
    intermediate_size: 1856, moe_intermediate_size: 1856, moe_shared_expert_intermediate_size: 3712, n_routed_experts: 128, n_shared_experts: 1, num_experts_per_tok: 6, mlp_bias: false,
  };
  it('Nemotron-3-Nano-30B-A3B: 31,577,940,288 total (NVIDIA: 31.6 B), 3,580,076,352 active (3.6 B with embeddings)', () => {
    const m = specFromHfConfig(NANO, 'nano');
    expect(parameterCounts(m).total).toBe(31_577_940_288);
    expect(activeParameters(m)).toBe(3_580_076_352);
    expect(m.layers.filter((l) => l.mixer?.kind === 'mamba2')).toHaveLength(23);
  });

  it('simulates a step: Mamba-2 scans, attention and experts on the timeline; a bad pattern is one error', async () => {
    const r = (await run({ model_config: NANO, sequence_len: 4096, micro_batch_size: 1, bf16: true, flash_attention: true, gradient_checkpointing: true, fsdp_version: 2 })).result;
    expect(r.step_time_s).toBeGreaterThan(0);
    expect(r.model.active_parameters).toBe(3_580_076_352);
    expect(() => specFromHfConfig({ ...NANO, hybrid_override_pattern: 'MX' }, 'x')).toThrow(/hybrid_override_pattern/);
  });
});

describe('hybrid SSM models: falcon_h1 (parallel attention + Mamba-2) and jamba (Mamba-1, attention, MoE)', () => {
  const FALCON_H1_05B = {
    model_type: 'falcon_h1', hidden_size: 1024, intermediate_size: 2048, num_hidden_layers: 36, num_attention_heads: 8, num_key_value_heads: 2, head_dim: 64, vocab_size: 32784, tie_word_embeddings: false,
    mamba_chunk_size: 128, mamba_conv_bias: true, mamba_d_conv: 4, mamba_d_head: 64, mamba_d_ssm: 1536, mamba_d_state: 128, mamba_n_groups: 1, mamba_n_heads: 24, mamba_proj_bias: false, mamba_rms_norm: false,
  };
  const JAMBA = { model_type: 'jamba', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, attn_layer_offset: 4, attn_layer_period: 8, expert_layer_offset: 1, expert_layer_period: 2, mamba_d_conv: 4, mamba_d_state: 16, mamba_expand: 2, mamba_dt_rank: 256, num_experts: 16, num_experts_per_tok: 2, vocab_size: 65536, tie_word_embeddings: false };
  it('Falcon-H1-0.5B: 521,411,104 (hub 0.52 B); Jamba-v0.1: 51,570,323,328 total, ~12 B active', () => {
    expect(parameterCounts(specFromHfConfig(FALCON_H1_05B, 'x')).total).toBe(521_411_104);
    const j = specFromHfConfig(JAMBA, 'x');
    expect(parameterCounts(j).total).toBe(51_570_323_328);
    expect(activeParameters(j) / 1e9).toBeCloseTo(12.1, 1);
    expect(j.layers.filter((l) => l.mixer?.kind === 'attention')).toHaveLength(4);
  });
  it('both simulate a step with their scans on the timeline', async () => {
    for (const cfg of [FALCON_H1_05B, JAMBA]) {
      const r = await run({ model_config: cfg, sequence_len: 2048, micro_batch_size: 1, bf16: true, flash_attention: true, gradient_checkpointing: true, fsdp_version: 2 });
      expect(r.result.step_time_s).toBeGreaterThan(0);
      expect(r.timeline.spans.some((s) => s.tag.kind === 'compute' && s.tag.phase === 'backward')).toBe(true);
    }
  });
});
