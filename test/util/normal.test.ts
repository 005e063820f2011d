import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { maxOfNormals, normalQuantile } from '../../src/util/normal.ts';

describe('normal quantile and the maximum of k normals', () => {
  it('Φ⁻¹ at known points (tables), both tails without cancellation', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 8);
    // Upper tail 1e-12 (p = 1 − 1e-12 is not representable exactly): z = 7.034483825.
    expect(normalQuantile(1 - 1e-12, 1e-12)).toBeCloseTo(7.034483825, 6);
  });

  it('max of k: the median is Φ⁻¹(0.5^(1/k)); sampled means match the known expectations', () => {
    expect(maxOfNormals(1, 0.5)).toBeCloseTo(0, 12);
    // E[max of 2] = 1/√π; E[max of 16384] ≈ 3.86 (Monte Carlo over explicit maxima below).
    const rng = seedrandom('max');
    const n = 20000;
    let sum2 = 0;
    for (let i = 0; i < n; i++) sum2 += maxOfNormals(2, rng());
    expect(sum2 / n).toBeCloseTo(1 / Math.sqrt(Math.PI), 1);
    // Against brute force: the maximum of 64 Box–Muller draws, 2,000 times.
    const g = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    let brute = 0;
    let sampled = 0;
    for (let i = 0; i < 2000; i++) {
      let m = -Infinity;
      for (let j = 0; j < 64; j++) m = Math.max(m, g());
      brute += m;
      sampled += maxOfNormals(64, rng());
    }
    expect(Math.abs(brute / 2000 - sampled / 2000)).toBeLessThan(0.05);
  });
});
