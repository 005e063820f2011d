import { describe, expect, it } from 'vitest';
import { causalPairs, expectedLongest, normalQuantile, packedCausalPairs } from '../../src/model/attention-work.ts';

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
    expect(expectedLongest(10_000, docs, 4096)).toBe(4096);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
  });
});
