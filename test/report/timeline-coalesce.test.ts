import { describe, expect, it } from 'vitest';
import { coalesceBars, type TimelineBar } from '../../src/report/charts/timeline.ts';

const bar = (lane: string, category: string, start: number, end: number): TimelineBar => ({ lane, category, start_ms: start, end_ms: end, duration_ms: end - start, op: category, detail: '' });

describe('timeline bars thinned for the static image', () => {
  it('merges a run of one category closer than a pixel, never across another category or exposed marks', () => {
    const bars = [
      bar('c', 'forward', 0, 1), bar('c', 'forward', 1.2, 2), bar('c', 'forward', 2.1, 3),
      bar('c', 'backward', 3, 4), bar('c', 'recompute', 4, 5), bar('c', 'backward', 5, 6),
      bar('x', 'exposed communication', 0, 0.1), bar('x', 'exposed communication', 0.2, 0.3),
      bar('c', 'forward', 10, 11),
    ];
    const out = coalesceBars(bars, 0.5);
    const compute = out.filter((b) => b.lane === 'c');
    expect(compute.map((b) => [b.category, b.start_ms, b.end_ms])).toEqual([
      ['forward', 0, 3], ['backward', 3, 4], ['recompute', 4, 5], ['backward', 5, 6], ['forward', 10, 11],
    ]);
    expect(compute[0]!.op).toBe('3 forward spans');
    expect(out.filter((b) => b.lane === 'x')).toHaveLength(2);
  });
});
