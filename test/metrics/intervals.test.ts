import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { subtract, subtractFromMerged, union, type Interval } from '../../src/metrics/intervals.ts';

describe('subtractFromMerged (one interval minus a merged busy set, by binary search)', () => {
  it('equals subtract() on random interval sets (seeded)', () => {
    const rng = seedrandom('intervals');
    for (let trial = 0; trial < 200; trial++) {
      const busy: Interval[] = Array.from({ length: 1 + Math.floor(rng() * 30) }, () => {
        const a = rng() * 100;
        return [a, a + rng() * 10];
      });
      const merged = union(busy);
      const a = rng() * 110 - 5;
      const e = a + rng() * 40;
      expect(subtractFromMerged(a, e, merged)).toEqual(subtract([[a, e]], busy));
    }
  });
});
