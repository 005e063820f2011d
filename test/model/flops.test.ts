import { applyPeft } from '../../src/model/peft.ts';
import { describe, expect, it } from 'vitest';
import {
  attentionCoreFlops,
  gemmFlops,
  layerGemms,
  lmHeadGemm,
  forwardFlopsPerToken,
  loadModel,
  matmulParams,
  modelFlopsPerToken,
  parameterCounts,
  type AttentionMixer,
} from '../../src/model/index.ts';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('GEMMs', () => {
  for (const id of ['meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B', 'gpt2', 'EleutherAI/pythia-1b', 'mosaicml/mpt-7b']) {
    it(`${id}: forward GEMM flops per token ≈ 2 × non-embedding params`, () => {
      const spec = loadModel({ baseModel: id });
      const c = parameterCounts(spec);
      const perToken = spec.numLayers * sum(layerGemms(spec.layers[0]!, 1).map(gemmFlops)) + gemmFlops(lmHeadGemm(spec, 1));
      // non-embedding = everything but the input lookups; the lm_head matmul runs even when tied.
      const nonEmbedding = c.total - c.embedding - c.positional + (spec.tiedEmbeddings ? c.embedding : 0);
      expect(perToken / (2 * nonEmbedding)).toBeCloseTo(1, 2);
      expect(perToken).toBe(2 * matmulParams(spec)); // exactly, without biases and norms
    });
  }

  it('Llama-3.1-8B layer shapes', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    expect(layerGemms(spec.layers[0]!, 4096).map((g) => [g.name, g.m, g.k, g.n])).toEqual([
      ['q_proj', 4096, 4096, 4096],
      ['k_proj', 4096, 4096, 1024],
      ['v_proj', 4096, 4096, 1024],
      ['o_proj', 4096, 4096, 4096],
      ['gate_proj', 4096, 4096, 14336],
      ['up_proj', 4096, 4096, 14336],
      ['down_proj', 4096, 14336, 4096],
    ]);
  });

  it('tensor parallelism divides every layer GEMM by tp (column n, row k)', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-70B' });
    const full = layerGemms(spec.layers[0]!, 2048, 1);
    for (const tp of [2, 4, 8]) {
      const sharded = layerGemms(spec.layers[0]!, 2048, tp);
      sharded.forEach((g, i) => expect(gemmFlops(g) * tp).toBe(gemmFlops(full[i]!)));
      expect(sharded.find((g) => g.name === 'o_proj')!.k).toBe(8192 / tp);
      expect(sharded.find((g) => g.name === 'gate_proj')!.n).toBe(28672 / tp);
    }
    expect(gemmFlops(lmHeadGemm(spec, 10, 8)) * 8).toBe(gemmFlops(lmHeadGemm(spec, 10)));
  });

  it('replicates KV heads when tp exceeds them, and rejects tp not dividing heads', () => {
    const spec = loadModel({ baseModel: 'TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T' }); // 32 q, 4 kv heads
    expect(layerGemms(spec.layers[0]!, 1, 8).find((g) => g.name === 'k_proj')!.n).toBe(64);
    expect(() => layerGemms(loadModel({ baseModel: 'Qwen/Qwen2.5-7B' }).layers[0]!, 1, 8)).toThrow(/tensor_parallel_size/);
  });
});

describe('attention and model FLOPs', () => {
  it('attention core = 4·b·s²·a·d per layer, causal half, /tp', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    expect(attentionCoreFlops(spec.layers[0]!.mixer as AttentionMixer, 2, 1024, { causal: false })).toBe(4 * 2 * 1024 * 1024 * 32 * 128);
    expect(attentionCoreFlops(spec.layers[0]!.mixer as AttentionMixer, 2, 1024, { causal: true })).toBe(2 * 2 * 1024 * 1024 * 32 * 128);
    expect(attentionCoreFlops(spec.layers[0]!.mixer as AttentionMixer, 2, 1024, { causal: true, tp: 4 })).toBe(2 * 2 * 1024 * 1024 * 8 * 128);
  });

  it('modelFlopsPerToken = 6·N_matmul + 12·L·a·d·s', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const n = 8_030_261_248 - 128256 * 4096 - (32 * 2 + 1) * 4096; // minus embedding lookup and norms
    expect(matmulParams(spec)).toBe(n);
    expect(modelFlopsPerToken(spec, 8192)).toBe(6 * n + 12 * 32 * 32 * 128 * 8192);
    // training = 3 × forward (GEMMs + non-causal attention core)
    const fwd =
      spec.numLayers * (layerGemms(spec.layers[0]!, 1).map(gemmFlops).reduce((a, b) => a + b) + attentionCoreFlops(spec.layers[0]!.mixer as AttentionMixer, 1, 8192, { causal: false }) / 8192) +
      gemmFlops(lmHeadGemm(spec, 1));
    expect(modelFlopsPerToken(spec, 8192)).toBe(3 * fwd);
  });

  it('under LoRA a frozen weight counts 4 (no weight gradient) and an adapter parameter 6', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const n = matmulParams(spec);
    const lora = applyPeft(spec, { r: 16, dropout: false, dora: false, targets: { kind: 'all-linear' }, modulesToSave: [] });
    const adapters = 32 * 16 * (2 * (4096 + 4096) + 2 * (4096 + 1024) + 3 * (4096 + 14336));
    const attention = 12 * 32 * 32 * 128 * 8192;
    expect(modelFlopsPerToken(lora, 8192)).toBe(4 * n + 6 * adapters + attention);
    // modules_to_save: [lm_head] trains the output layer again.
    const head = applyPeft(spec, { r: 16, dropout: false, dora: false, targets: { kind: 'all-linear' }, modulesToSave: ['lm_head'] });
    expect(modelFlopsPerToken(head, 8192) - modelFlopsPerToken(lora, 8192)).toBe(2 * 128256 * 4096);
  });
});

describe('no-grad forwards (preference trainers)', () => {
  it('a forward-only pass is a third of the trained count without PEFT, and adds linearly', () => {
    const spec = loadModel({ baseModel: 'meta-llama/Llama-3.2-1B' });
    const trained = modelFlopsPerToken(spec, 2048);
    const fwd = forwardFlopsPerToken(spec, 2048);
    expect(3 * fwd).toBeCloseTo(trained, 0);
    expect(modelFlopsPerToken(spec, 2048, 3)).toBe(trained + 3 * fwd);
    expect(fwd).toBeGreaterThan(2 * matmulParams(spec));
  });
});
