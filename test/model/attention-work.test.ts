import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { causalPairs, equivalentFromPairs, expectedLongest, keptDocumentMoments, normalQuantile, packedCausalPairs, stridedMaskPairs } from '../../src/model/attention-work.ts';

describe('attention work: causal pairs, windows, packed documents, padding', () => {
  it('a causal document of l tokens has l(l+1)/2 pairs; a window w caps each query at w keys', () => {
    expect(causalPairs(4)).toBe(10);
    expect(causalPairs(4, 2)).toBe(3 + 2 * 2);
    expect(causalPairs(4, 8)).toBe(10);
  });

  it('packing short documents into a row does far less attention work than one causal row', () => {
    const row = 4096;
    const packed = packedCausalPairs(row, { meanTokens: 512, sigma: 0 });
    expect(packed).toBeCloseTo((row / 512) * causalPairs(512), 6);
    expect(packed).toBeLessThan(causalPairs(row) / 6);
    // A wider spread of lengths (same mean) means more pairs: E[l²] grows with σ.
    expect(packedCausalPairs(row, { meanTokens: 512, sigma: 1 })).toBeGreaterThan(packed);
    // Documents as long as the row: one causal row.
    expect(packedCausalPairs(row, { meanTokens: 1e6, sigma: 0 })).toBeCloseTo(causalPairs(row), 6);
  });

  it('unpacked rows are padded to the longest of the micro-batch: longer for bigger batches, never past the cap', () => {
    const docs = { meanTokens: 512, sigma: 0.8 };
    expect(expectedLongest(1, docs, 4096)).toBeLessThan(expectedLongest(8, docs, 4096));
    expect(expectedLongest(10_000, docs, 4096)).toBeCloseTo(4096, 0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
  });

  it('the longest of n matches a seeded Monte Carlo within 2 % (σ 0.5 and 1, capped and not)', () => {
    const rng = seedrandom('longest');
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    for (const [sigma, n, cap] of [[0.5, 2, 1e9], [0.5, 128, 1e9], [1, 32, 2000], [1, 32, 1000]] as const) {
      const mu = Math.log(125) - (sigma * sigma) / 2;
      const trials = 8000;
      let sum = 0;
      for (let t = 0; t < trials; t++) {
        let m = 0;
        for (let i = 0; i < n; i++) m = Math.max(m, Math.exp(mu + sigma * normal()));
        sum += Math.min(cap, m);
      }
      const predicted = expectedLongest(n, { meanTokens: 125, sigma }, cap);
      expect(Math.abs(predicted / (sum / trials) - 1)).toBeLessThan(0.02);
    }
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
  });
});

describe('documents kept after min_sample_len (a log-normal conditioned on l ≥ a)', () => {
  const docs = { meanTokens: 512, sigma: 1 };
  it('without a minimum: the log-normal moments, E[l²] = E[l]² · exp(σ²)', () => {
    const m = keptDocumentMoments(docs);
    expect(m.mean).toBeCloseTo(512, 6);
    expect(m.meanSq / (512 * 512)).toBeCloseTo(Math.E, 6);
  });

  it('matches a seeded Monte Carlo of the same distribution with the short samples dropped', () => {
    const rng = seedrandom('kept-documents');
    const mu = Math.log(512) - 0.5;
    const min = 1024;
    let n = 0;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < 400_000; i++) {
      // Box–Muller
      const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
      const l = Math.exp(mu + z);
      if (l < min) continue;
      n++;
      s1 += l;
      s2 += l * l;
    }
    const m = keptDocumentMoments({ ...docs, minTokens: min });
    expect(Math.abs(m.mean / (s1 / n) - 1)).toBeLessThan(0.02);
    expect(Math.abs(m.meanSq / (s2 / n) - 1)).toBeLessThan(0.06);
  });

  it('far in the tail (Axolotl ALST: min_sample_len 200_000) every kept document is a little above the minimum, and the longest is too', () => {
    const m = keptDocumentMoments({ ...docs, minTokens: 200_000 });
    expect(m.mean).toBeGreaterThan(200_000);
    expect(m.mean).toBeLessThan(260_000);
    const longest = expectedLongest(4, { ...docs, minTokens: 200_000 }, 1_000_000);
    expect(longest).toBeGreaterThan(m.mean);
    expect(longest).toBeLessThan(400_000);
    // A higher minimum never shortens the kept documents.
    let prev = 0;
    for (const a of [2, 100, 1000, 1e4, 1e5, 1e6, 1e8]) {
      const x = keptDocumentMoments({ ...docs, minTokens: a }).mean;
      expect(x).toBeGreaterThanOrEqual(prev);
      prev = x;
    }
  });
});

describe('strided EBFT attention mask (axolotl core/trainers/ebft/strided.py _strided_mask_mod)', () => {
  // S = 16 prompt tokens, anchors from 4 every 4 tokens, G = 2: NB = (16 − 2 − 4) // 4 + 1 = 3, L = 16 + 3·2 = 22.
  const m = { promptTokens: 16, anchorOffset: 4, generateTokens: 2, stride: 4, blocks: 3 };

  it('counts the allowed pairs by hand: causal prompt, then context + self + earlier steps of the same block', () => {
    // Prompt: Σ_{q<16} (q + 1) = 136. Generated q = 16 + step·3 + b: context ends at min(4b + 4, 14) = 4, 8, 12;
    // step 0: (4+1) + (8+1) + (12+1) = 27; step 1 adds one earlier same-block token each: 30. 136 + 57 = 193.
    expect(stridedMaskPairs(m, 8).pairs).toBe(193);
    expect(stridedMaskPairs(m, 8).tokens).toBe(22);
  });

  it('executes whole blocks: 8-token blocks over 22 tokens touch 1 + 2 + 3 blocks of 64 pairs', () => {
    // q-block 0: kv block 0; q-block 1: kv blocks 0–1; q-block 2 (the generated tokens 16–21): context up to
    // token 12 (kv blocks 0–1) and itself and its block's earlier steps (tokens 16–21: kv block 2).
    expect(stridedMaskPairs(m, 8).blockPairs).toBe(6 * 64);
    // At flex_attention's 128-token blocks the whole row is one block.
    expect(stridedMaskPairs(m).blockPairs).toBe(128 * 128);
  });

  it('turns executed pairs into an equivalent batch with the same tokens and pairs', () => {
    const causal = equivalentFromPairs(2, 100, 2000);
    expect(causal).toEqual({ batch: 5, seqLen: 40, causal: true });
    const dense = equivalentFromPairs(1, 22, 384);
    expect(dense.causal).toBe(false);
    expect(dense.batch * dense.seqLen).toBeCloseTo(22, 9);
    expect(dense.batch * dense.seqLen ** 2).toBeCloseTo(384, 9);
  });
});
