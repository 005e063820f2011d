import { describe, expect, it } from 'vitest';
import { fitWidth, wrapLines } from '../../src/playground/fit-width.ts';
import { CHART_WIDTH } from '../../src/report/charts/theme.ts';

const subtitle = 'Peak 103.8 GiB allocated; with allocator overhead and the CUDA context ≈ 115.6 GiB of 79.6 GiB → does NOT fit (OOM).';

describe('charts in a narrower column (A/B mode)', () => {
  it('wraps words into lines no longer than asked, keeping every word in order', () => {
    const lines = wrapLines(subtitle, 50);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(50);
    expect(lines.join(' ')).toBe(subtitle);
    expect(wrapLines(subtitle, 1000)).toEqual([subtitle]);
  });

  it('at full width only the width changes; narrower, the subtitle wraps and horizontal legends take columns', () => {
    const spec = {
      title: { text: 'Memory', subtitle },
      width: CHART_WIDTH,
      encoding: { color: { scale: { domain: ['parameters', 'gradients', 'optimizer states', 'activations', 'communication buffers'] }, legend: { orient: 'bottom', direction: 'horizontal' } } },
    };
    expect(fitWidth(spec, CHART_WIDTH)).toEqual(spec);
    const narrow = fitWidth(spec, 430) as typeof spec & { title: { subtitle: string[] }; encoding: { color: { legend: { columns: number; labelLimit: number } } } };
    expect(narrow.width).toBe(430);
    expect(Array.isArray(narrow.title.subtitle)).toBe(true);
    expect(narrow.title.subtitle.join(' ')).toBe(subtitle);
    const legend = narrow.encoding.color.legend;
    expect(legend.columns).toBeGreaterThanOrEqual(1);
    expect(legend.columns).toBeLessThan(5);
    expect(legend.labelLimit).toBeLessThanOrEqual(430 + 60);
  });
});
