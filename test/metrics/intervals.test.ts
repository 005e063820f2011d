import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { length, subtract, subtractFromMerged, subtractMerged, total, union, type Interval } from '../../src/metrics/intervals.ts';

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

describe('merged interval sets (rankBreakdown merges each set once)', () => {
  it('union of two merged lists = union of the raw lists; subtractMerged = subtract; length = total (seeded)', () => {
    const rng = seedrandom('merged');
    const random = (): Interval[] => Array.from({ length: Math.floor(rng() * 25) }, () => {
      const a = Math.floor(rng() * 50);
      return [a, a + Math.floor(rng() * 6)];
    });
    for (let trial = 0; trial < 200; trial++) {
      const [a, b, c] = [random(), random(), random()];
      expect(union([...union(a), ...union(b)])).toEqual(union([...a, ...b]));
      expect(subtractMerged(union(c), union([...a, ...b]))).toEqual(subtract(c, [...a, ...b]));
      expect(length(union(c))).toBe(total(c));
    }
  });
});
