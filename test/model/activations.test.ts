import { describe, expect, it } from 'vitest';
import {
  activationBytesPerLayer,
  activationTensorsPerLayer,
  checkpointedLayerInputBytes,
  loadModel,
  logitsBytes,
  specFromHfConfig,
} from '../../src/model/index.ts';

// A GPT-3-like layer as in Korthikanti et al. 2022 (MHA, 4h GELU MLP, dropout).
const gpt = specFromHfConfig({ model_type: 'gpt2', n_embd: 2048, n_layer: 4, n_head: 16, n_positions: 2048, vocab_size: 50257 }, 'gpt');
const s = 2048;
const b = 4;
const h = 2048;
const a = 16;

describe('activationBytesPerLayer', () => {
  it("reproduces Korthikanti's s·b·h·(34 + 5·a·s/h)", () => {
    const bytes = activationBytesPerLayer(gpt.layers[0]!, { microBatch: b, seqLen: s, flashAttention: false, bytesPerElement: 2, dropout: true });
    expect(bytes).toBe(s * b * h * (34 + (5 * a * s) / h));
  });

  it('flash attention removes the 5as²b term (keeping only the b·a·s fp32 logsumexp)', () => {
    const bytes = activationBytesPerLayer(gpt.layers[0]!, { microBatch: b, seqLen: s, flashAttention: true, dropout: true });
    expect(bytes).toBe(34 * s * b * h + 4 * b * a * s);
  });

  it('tensor parallel: sbh(10 + 24/t + 5as/(ht)); with sequence parallel: sbh/t(34 + 5as/h)', () => {
    const t = 4;
    const opts = { microBatch: b, seqLen: s, flashAttention: false, dropout: true, tp: t };
    expect(activationBytesPerLayer(gpt.layers[0]!, opts)).toBe(s * b * h * (10 + 24 / t + (5 * a * s) / (h * t)));
    expect(activationBytesPerLayer(gpt.layers[0]!, { ...opts, sequenceParallel: true })).toBe(((s * b * h) / t) * (34 + (5 * a * s) / h));
  });

  it('without dropout the GPT layer keeps 32·sbh + 2as²b', () => {
    const bytes = activationBytesPerLayer(gpt.layers[0]!, { microBatch: b, seqLen: s, flashAttention: false });
    expect(bytes).toBe(32 * s * b * h + 2 * a * s * s * b);
  });

  it('SwiGLU + GQA (Llama-3.1-8B, flash): per-tensor list', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const T = 1 * 4096;
    const tensors = activationTensorsPerLayer(spec.layers[0]!, { microBatch: 1, seqLen: 4096, flashAttention: true });
    const byName = Object.fromEntries(tensors.map((x) => [x.name, x.bytes]));
    expect(byName.q).toBe(T * 4096 * 2);
    expect(byName.k).toBe(T * 1024 * 2);
    expect(byName.v).toBe(T * 1024 * 2);
    expect(byName.gate_output).toBe(T * 14336 * 2);
    expect(byName.softmax_lse).toBe(32 * 4096 * 4);
    // 4 h-wide (norm inputs, qkv/mlp inputs) + q + o_proj input (h each) + k, v (h/4 each) + 4 MLP tensors (I each)
    const total = tensors.reduce((x, y) => x + y.bytes, 0);
    expect(total).toBe(2 * T * (6 * 4096 + 2 * 1024 + 4 * 14336) + 32 * 4096 * 4);
  });

  it('context parallel splits the tokens', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const one = activationBytesPerLayer(spec.layers[0]!, { microBatch: 1, seqLen: 8192, flashAttention: true });
    expect(activationBytesPerLayer(spec.layers[0]!, { microBatch: 1, seqLen: 8192, flashAttention: true, cp: 2 })).toBe(one / 2);
  });

  it('parallel residual (gpt_neox) stores the shared norm input once', () => {
    const spec = loadModel({ baseModel: 'EleutherAI/pythia-1b' });
    const names = activationTensorsPerLayer(spec.layers[0]!, { microBatch: 1, seqLen: 16, flashAttention: true }).map((x) => x.name);
    expect(names).not.toContain('mlp_norm_input');
  });
});

describe('checkpointing and logits', () => {
  it('checkpointed layer input is b·s·h elements', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    expect(checkpointedLayerInputBytes(spec, { microBatch: 2, seqLen: 4096, bytesPerElement: 2 })).toBe(2 * 4096 * 4096 * 2);
    expect(checkpointedLayerInputBytes(spec, { microBatch: 2, seqLen: 4096, tp: 4, sequenceParallel: true, cp: 2 })).toBe(
      (2 * 4096 * 4096 * 2) / 8,
    );
  });

  it('logits are b·s·V (vocab-parallel under tp)', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    expect(logitsBytes(spec, 1, 4096)).toEqual({ elements: 4096 * 128256, bf16Bytes: 2 * 4096 * 128256, fp32Bytes: 4 * 4096 * 128256 });
    expect(logitsBytes(spec, 1, 4096, 8).elements).toBe(4096 * 16032);
  });
});
