import { describe, expect, it } from 'vitest';
import { chunkSize, chunked } from '../../src/sweep/pool.ts';

describe('sweep chunks (configs per worker message)', () => {
  it('at most 16 configs, at least 8 chunks per thread when there are enough configs, never 0', () => {
    expect(chunkSize(1600, 2)).toBe(16);
    expect(chunkSize(100, 2)).toBe(6);
    expect(chunkSize(10, 4)).toBe(1);
    expect(chunkSize(1, 1)).toBe(1);
    for (const [n, jobs] of [[1600, 2], [300, 4], [33, 2]] as const) expect(Math.ceil(n / chunkSize(n, jobs))).toBeGreaterThanOrEqual(Math.min(n, 8 * jobs));
  });

  it('chunks cover every item once, in order', () => {
    const items = Array.from({ length: 37 }, (_, i) => i);
    const chunks = chunked(items, 5);
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 5, 5, 5, 5, 5, 2]);
    expect(chunks.flat()).toEqual(items);
  });
});

describe('default worker threads', () => {
  it('one fewer than the cores, at least one (which runs in the main thread)', async () => {
    const { defaultJobs } = await import('../../src/cli/commands/sweep.ts');
    expect([1, 2, 3, 8, 64].map(defaultJobs)).toEqual([1, 1, 2, 7, 63]);
  });
});
