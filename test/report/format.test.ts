import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { count, grouped } from '../../src/report/format.ts';

describe('grouped', () => {
  it('is toLocaleString("en-US", { maximumFractionDigits }) for any double and 0–6 decimals', () => {
    const doubles = fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -1e9, max: 1e9 }).map((i) => i / 100), fc.integer().map((i) => i * 1e6 + 0.5), fc.constantFrom(5e-7, 4.9e-7, -5e-7, 1.5e-7, 9.9999995e-7, 0, -0, 0.05, 0.15, 0.25, 0.35, 999.95, 999_999.5, -0.04, 1e21, 1e20 + 2 ** 20));
    fc.assert(
      fc.property(doubles, fc.integer({ min: 0, max: 6 }), (x, d) => {
        expect(grouped(x, d)).toBe(x.toLocaleString('en-US', { maximumFractionDigits: d }));
      }),
      { numRuns: 20_000 },
    );
  });

  it('count rounds first: whole numbers with commas', () => {
    expect(count(1234567.5)).toBe('1,234,568');
    expect(count(999.4)).toBe('999');
    expect(count(-1234.6)).toBe('-1,235');
  });
});
