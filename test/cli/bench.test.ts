import { describe, expect, it } from 'vitest';
import { targetVerdict } from '../../src/cli/bench.ts';

describe('bench targets', () => {
  it('names the limits and says whether the figures stay under every one of them', () => {
    expect(targetVerdict({ cpuSeconds: 2 }, 1.99, 5e9)).toBe('< 2 s: met');
    expect(targetVerdict({ cpuSeconds: 2 }, 2, 1)).toBe('< 2 s: NOT met');
    expect(targetVerdict({ cpuSeconds: 10, peakRssBytes: 4 * 2 ** 30 }, 0.9, 156 * 2 ** 20)).toBe('< 10 s, < 4 GiB: met');
    expect(targetVerdict({ cpuSeconds: 10, peakRssBytes: 4 * 2 ** 30 }, 0.9, 4 * 2 ** 30)).toBe('< 10 s, < 4 GiB: NOT met');
    expect(targetVerdict(undefined, 100, 1e12)).toBe('');
  });
});
