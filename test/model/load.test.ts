import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogConfig, catalogIds, loadModel, specFromHfConfig, SUPPORTED_MODEL_TYPES, type AttentionMixer, type DenseFfn, type ModelSpec } from '../../src/model/index.ts';
import { errorOf } from '../helpers/errors.ts';


describe('catalog', () => {
  it('has the required ids, each with a _source, matched case-insensitively', () => {
    for (const id of [
      'meta-llama/Llama-2-7b-hf', 'meta-llama/Llama-2-13b-hf', 'meta-llama/Llama-2-70b-hf', 'meta-llama/Llama-3.1-8B',
      'meta-llama/Llama-3.1-70B', 'meta-llama/Llama-3.1-405B', 'mistralai/Mistral-7B-v0.1', 'Qwen/Qwen2.5-7B',
      'Qwen/Qwen2.5-14B', 'Qwen/Qwen2.5-32B', 'Qwen/Qwen2.5-72B',
    ]) {
      expect(catalogIds()).toContain(id);
      expect(typeof catalogConfig(id)!._source).toBe('string');
    }
    expect(catalogConfig('META-LLAMA/llama-3.1-8b')!.hidden_size).toBe(4096);
    expect(loadModel({ baseModel: 'meta-llama/llama-3.1-8b' }).id).toBe('meta-llama/Llama-3.1-8B');
    expect(catalogConfig('nope/nope')).toBeUndefined();
  });
});

describe('loadModel', () => {
  it('unknown id names base_model and suggests close ids', () => {
    const e = errorOf(() => loadModel({ baseModel: 'meta-llama/Llama-3.1-13B' }));
    expect(e.key).toBe('base_model');
    expect(e.message).toMatch(/^base_model: unknown model "meta-llama\/Llama-3.1-13B" — closest catalog ids: /);
    expect(e.message).toContain('meta-llama/Llama-2-13b-hf');
    expect(e.message).toContain('meta-llama/Llama-3.1-8B');
    expect(e.message).toContain('or give model_config');
  });

  it('reads a local folder with config.json relative to baseDir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-model-'));
    mkdirSync(join(dir, 'my-model'));
    writeFileSync(join(dir, 'my-model', 'config.json'), JSON.stringify(catalogConfig('meta-llama/Llama-2-7b-hf')));
    const spec = loadModel({ baseModel: 'my-model', baseDir: dir });
    expect(spec.id).toBe('my-model');
    expect(spec.hiddenSize).toBe(4096);
  });

  it('inline model_config overrides base_model keys, or stands alone', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B', modelConfig: { num_hidden_layers: 2 } });
    expect(spec.numLayers).toBe(2);
    expect(spec.hiddenSize).toBe(4096);
    const inline = loadModel({ modelConfig: { ...catalogConfig('gpt2') } });
    expect(inline.id).toBe('inline');
    const named = loadModel({ baseModel: 'acme/secret-7b', modelConfig: { ...catalogConfig('mistralai/Mistral-7B-v0.1') } });
    expect(named.id).toBe('acme/secret-7b');
    expect(named.modelType).toBe('mistral');
  });

  it('no model at all', () => {
    expect(errorOf(() => loadModel({})).key).toBe('base_model');
  });
});

describe('specFromHfConfig', () => {
  it('unknown model_type lists the supported ones', () => {
    const e = errorOf(() => specFromHfConfig({ model_type: 'not_a_family' }, 'x'));
    expect(e.key).toBe('model_config.model_type');
    for (const t of SUPPORTED_MODEL_TYPES) expect(e.message).toContain(t);
  });

  it('missing and invalid keys are named', () => {
    const cfg = { ...catalogConfig('meta-llama/Llama-2-7b-hf') };
    delete cfg.intermediate_size;
    expect(errorOf(() => specFromHfConfig(cfg, 'x')).key).toBe('model_config.intermediate_size');
    expect(errorOf(() => specFromHfConfig({ ...cfg, intermediate_size: 11008, hidden_size: -1 }, 'x')).key).toBe(
      'model_config.hidden_size',
    );
    expect(errorOf(() => specFromHfConfig({ ...cfg, intermediate_size: 11008, num_attention_heads: 30, num_key_value_heads: 30 }, 'x')).key).toBe(
      'model_config.num_attention_heads',
    );
    // head_dim given: heads need not divide hidden
    expect(attn(specFromHfConfig({ ...cfg, intermediate_size: 11008, num_attention_heads: 30, num_key_value_heads: 10, head_dim: 128 }, 'x')).headDim).toBe(128);
  });

  it('qwen2: q/k/v bias, no o_proj bias', () => {
    const s = loadModel({ baseModel: 'Qwen/Qwen2.5-7B' });
    expect(biases(s)).toEqual({ q_proj: true, k_proj: true, v_proj: true, o_proj: false, gate_proj: false, up_proj: false, down_proj: false });
    expect([attn(s).numKvHeads, attn(s).headDim]).toEqual([4, 128]);
  });

  it('mpt: ALiBi, no biases, weight-only LayerNorm, tied, 4× MLP', () => {
    const s = loadModel({ baseModel: 'mosaicml/mpt-7b' });
    expect(s).toMatchObject({ modelType: 'mpt', hiddenSize: 4096, numLayers: 32, learnedPositions: false, maxPositions: 2048, tiedEmbeddings: true });
    expect(attn(s)).toMatchObject({ numHeads: 32, numKvHeads: 32, rotaryDims: 0 });
    expect(s.layers[0]!.ffn).toEqual({ kind: 'dense', intermediate: 16384, gated: false });
    expect(s.layers[0]!.linears.map((l) => [l.name, l.bias])).toEqual([['Wqkv', false], ['out_proj', false], ['up_proj', false], ['down_proj', false]]);
    expect(s.layers[0]!.norms[0]).toEqual({ kind: 'layernorm', bias: false, width: 4096 });
    const learned = specFromHfConfig({ ...catalogConfig('mosaicml/mpt-7b'), attn_config: { alibi: false } }, 'x');
    expect(learned.learnedPositions).toBe(true);
    const biased = specFromHfConfig({ model_type: 'mpt', d_model: 64, n_heads: 4, n_layers: 2, vocab_size: 100, no_bias: false }, 'x');
    expect([biases(biased).Wqkv, biased.layers[0]!.norms[0]!.bias]).toEqual([true, true]);
    const gqa = specFromHfConfig({ model_type: 'mpt', d_model: 64, n_heads: 4, n_layers: 2, vocab_size: 100, attn_config: { attn_type: 'grouped_query_attention', kv_n_heads: 2 } }, 'x');
    expect(attn(gqa).numKvHeads).toBe(2);
  });

  it('gpt2: n_inner default 4h, biases, learned positions, tied', () => {
    const s = loadModel({ baseModel: 'gpt2' });
    expect(s).toMatchObject({ hiddenSize: 768, numLayers: 12, maxPositions: 1024, learnedPositions: true, tiedEmbeddings: true });
    expect(attn(s)).toMatchObject({ numHeads: 12, headDim: 64 });
    expect(s.layers[0]!.linears.map((l) => [l.name, l.in, l.out, l.bias])).toEqual([['c_attn', 768, 2304, true], ['c_proj', 768, 768, true], ['c_fc', 768, 3072, true], ['c_proj', 3072, 768, true]]);
    expect(s.layers[0]!.norms[0]).toEqual({ kind: 'layernorm', bias: true, width: 768 });
    expect((specFromHfConfig({ ...catalogConfig('gpt2'), n_inner: 1000 }, 'x').layers[0]!.ffn as DenseFfn).intermediate).toBe(1000);
  });

  it('gpt_neox: biases, LayerNorm, parallel residual, untied by default', () => {
    const s = loadModel({ baseModel: 'EleutherAI/gpt-neox-20b' });
    expect(s).toMatchObject({ hiddenSize: 6144, numLayers: 44, tiedEmbeddings: false, learnedPositions: false });
    expect(attn(s)).toMatchObject({ numHeads: 64, rotaryDims: 24 });
    expect(s.layers[0]!.ffn).toMatchObject({ intermediate: 24576, gated: false });
    expect(Object.values(biases(s)).every((b) => b)).toBe(true);
    expect(s.layers[0]!.parallelResidual).toBe(true);
  });
});

function attn(s: ModelSpec): AttentionMixer {
  return s.layers[0]!.mixer as AttentionMixer;
}

function biases(s: ModelSpec): Record<string, boolean> {
  return Object.fromEntries(s.layers[0]!.linears.map((l) => [l.name, l.bias]));
}
