import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderVegaLite } from '../../src/report/render.ts';
import { timelineSpec, timelineSpecs } from '../../src/report/charts/timeline.ts';
import { injectDirectRects } from '../../src/report/direct-rects.ts';
import { runForReport, fsdp2Small } from './fixtures.ts';

describe('direct rects', () => {
  it('the timeline image with its bars written directly is the SVG vega draws from the same bars as data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-direct-'));
    const run = await runForReport(fsdp2Small, 'direct');
    const { spec, image } = timelineSpecs(run);
    expect(image.rects.map((r) => r.mark)).toEqual(['concat_0_layer_0_marks', 'concat_1_layer_0_marks', 'concat_2_layer_0_marks']);
    expect(image.rects.every((r) => r.rows.length > 0)).toBe(true);
    const byVega = await renderVegaLite(spec, join(dir, 'vega'), timelineSpec(run, { staticImage: true }));
    const direct = await renderVegaLite(spec, join(dir, 'direct'), image.spec, image.rects);
    // vega numbers clip paths per process: compare them by order of appearance.
    const clipsInOrder = (text: string) => {
      const ids = new Map<string, number>();
      return text.replace(/clip\d+/g, (id) => `clip#${ids.get(id) ?? ids.set(id, ids.size).size - 1}`);
    };
    const svg = readFileSync(direct.svgPath, 'utf8');
    expect(clipsInOrder(svg)).toEqual(clipsInOrder(readFileSync(byVega.svgPath, 'utf8')));
    expect(svg.match(/<path d="M[^"]*" fill="#[0-9a-f]{6}"\/>/g)!.length).toBeGreaterThanOrEqual(image.rects.reduce((n, r) => n + r.rows.length, 0));
  });

  it('refuses to inject into a mark vega did not draw as an empty group', () => {
    const svg = '<svg><g class="mark-rect role-mark a" clip-path="url(#c)"/><g class="mark-rect role-mark b"><path/></g></svg>';
    expect(injectDirectRects(svg, [{ mark: 'a', paths: '<path d="M0,0h1v1h-1Z"/>' }])).toBe('<svg><g class="mark-rect role-mark a" clip-path="url(#c)"><path d="M0,0h1v1h-1Z"/></g><g class="mark-rect role-mark b"><path/></g></svg>');
    expect(() => injectDirectRects(svg, [{ mark: 'b', paths: '' }])).toThrow(/mark b/);
    expect(() => injectDirectRects(svg, [{ mark: 'c', paths: '' }])).toThrow(/mark c/);
  });
});
