import { describe, expect, it } from 'vitest';
import { activeParameters, loadModel, parameterCounts, specFromHfConfig } from '../../../src/model/index.ts';
import { applyPeft, linearPath } from '../../../src/model/peft.ts';

// DBRX config.json (databricks/dbrx model/config.json).
const DBRX = {
  model_type: 'dbrx', d_model: 6144, n_heads: 48, n_layers: 40, vocab_size: 100352, max_seq_len: 32768,
  attn_config: { kv_n_heads: 8, clip_qkv: 8, rope_theta: 500000 },
  ffn_config: { ffn_hidden_size: 10752, moe_num_experts: 16, moe_top_k: 4 },
};

describe('dbrx', () => {
  it('DBRX: 131.6 B total (a third-party safetensors count of the converted checkpoint) and 36.5 B active (card: 132B / 36B)', () => {
    const m = specFromHfConfig(DBRX, 'x');
    expect(Math.round(parameterCounts(m).total / 1e8) / 10).toBe(131.6);
    expect(Math.round(activeParameters(m) / 1e8) / 10).toBe(36.5);
  });

  it('transformers layout: fused Wqkv and 3-D experts; the converted checkpoint: q/k/v_proj and per-expert nn.Linear under transformer.blocks', () => {
    const native = specFromHfConfig(DBRX, 'x');
    expect(native.layers[0]!.linears.map((l) => l.name).slice(0, 2)).toEqual(['Wqkv', 'out_proj']);
    expect(native.layers[0]!.linears.filter((l) => l.experts).every((l) => !l.experts!.linear)).toBe(true);
    const conv = loadModel({ baseModel: 'LnL-AI/dbrx-base-converted-v2' });
    const q = conv.layers[0]!.linears.find((l) => l.name === 'q_proj')!;
    expect(linearPath(3, q, conv)).toBe('transformer.blocks.3.norm_attn_norm.attn.q_proj');
    expect(conv.layers[0]!.linears.filter((l) => l.experts).every((l) => l.experts!.linear)).toBe(true);
    // Axolotl's DBRX LoRA targets (q/k/v/out_proj and the router's `layer`) adapt 360,576 parameters per block.
    const lora = applyPeft(conv, { r: 8, dropout: false, dora: false, targets: { kind: 'names', names: ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'layer'] }, modulesToSave: [] });
    const adapted = lora.layers[0]!.linears.filter((l) => l.lora);
    expect(adapted.map((l) => l.name)).toEqual(['q_proj', 'k_proj', 'v_proj', 'out_proj', 'router.layer']);
    expect(adapted.reduce((s, l) => s + 8 * (l.in + l.out), 0)).toBe(360_576);
  });
});
