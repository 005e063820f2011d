import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { catalogIds, loadModel, parameterCounts } from '../../src/model/index.ts';
import { activeParameters } from '../../src/model/params.ts';

/** Published totals (HF safetensors metadata / model cards / papers). */
const OFFICIAL: Record<string, number> = {
  'meta-llama/Llama-2-7b-hf': 6_738_415_616,
  'meta-llama/Llama-2-13b-hf': 13_015_864_320,
  'meta-llama/Llama-2-70b-hf': 68_976_648_192,
  'meta-llama/Meta-Llama-3-8B': 8_030_261_248,
  'meta-llama/Meta-Llama-3-70B': 70_553_706_496,
  'meta-llama/Llama-3.1-8B': 8_030_261_248,
  'meta-llama/Llama-3.1-70B': 70_553_706_496,
  'meta-llama/Llama-3.1-405B': 405_853_388_800,
  'meta-llama/Llama-3.2-1B': 1_235_814_400,
  'meta-llama/Llama-3.2-3B': 3_212_749_824,
  'TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T': 1_100_048_384,
  'mistralai/Mistral-7B-v0.1': 7_241_732_096,
  'Qwen/Qwen2.5-7B': 7_615_616_512,
  'Qwen/Qwen2.5-14B': 14_770_033_664,
  'Qwen/Qwen2.5-32B': 32_763_876_352,
  'Qwen/Qwen2.5-72B': 72_706_203_648,
  'mosaicml/mpt-7b': 6_649_286_656,
  gpt2: 124_439_808,
  'EleutherAI/pythia-1b': 1_011_781_632,
  'EleutherAI/gpt-neox-20b': 20_554_567_680,
};

describe('parameterCounts', () => {
  for (const [id, total] of Object.entries(OFFICIAL)) {
    it(`${id} = ${total.toLocaleString('en-US')}`, () => {
      expect(parameterCounts(loadModel({ baseModel: id })).total).toBe(total);
    });
  }

  // Every catalog model has a total from outside shardsim: a published count above, or an independent
  // formula's (catalog-counts.json), or an explained difference below.
  const independent = JSON.parse(readFileSync(new URL('./catalog-counts.json', import.meta.url), 'utf8')) as { counts: Record<string, { total: number; active: number }> };
  const EXPLAINED: Record<string, string> = {
    // The hub config is Qwen3ForSequenceClassification (a score head of num_labels); a causal-LM load keeps lm_head.
    'Skywork/Skywork-Reward-V2-Qwen3-8B': 'lm_head',
    // transformers adds 8 image-token rows to the text embedding and cross-attention gates beyond the text config.
    'alpindale/Llama-3.2-11B-Vision-Instruct': 'mllama extras',
    // A recognised family that is refused (REFUSED_MODEL_TYPES): no count is claimed.
    'nvidia/DeepSeek-V4-Flash-NVFP4': 'refused',
  };
  it('every catalog model has an outside count (published, independent formula, or explained)', () => {
    const missing = catalogIds().filter((id) => !(id in OFFICIAL) && !(id in independent.counts) && !(id in EXPLAINED));
    expect(missing).toEqual([]);
  });
  for (const [id, c] of Object.entries(independent.counts)) {
    it(`${id}: total ${c.total.toLocaleString('en-US')}, active ${c.active.toLocaleString('en-US')} (independent formula)`, () => {
      const m = loadModel({ baseModel: id });
      expect(parameterCounts(m).total).toBe(c.total);
      expect(activeParameters(m)).toBe(c.active);
    });
  }

  it('breaks Llama-2-7b down by module', () => {
    expect(parameterCounts(loadModel({ baseModel: 'meta-llama/Llama-2-7b-hf' }))).toEqual({
      embedding: 131_072_000,
      positional: 0,
      layers: 32 * 202_383_360,
      perLayer: Array.from({ length: 32 }, () => 202_383_360),
      finalNorm: 4096,
      lmHead: 131_072_000,
      total: 6_738_415_616,
    });
  });

  it('pythia-1b non-embedding count matches the Pythia paper (805,736,448)', () => {
    const c = parameterCounts(loadModel({ baseModel: 'EleutherAI/pythia-1b' }));
    expect(c.total - c.embedding - c.lmHead).toBe(805_736_448);
  });

  it('gpt2 has a learned position table and a tied head', () => {
    const c = parameterCounts(loadModel({ baseModel: 'gpt2' }));
    expect(c.positional).toBe(1024 * 768);
    expect(c.lmHead).toBe(0);
  });
});
