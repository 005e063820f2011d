import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderVegaLite } from '../../src/report/render.ts';
import { timelineSpec, timelineSpecs } from '../../src/report/charts/timeline.ts';
import { injectDirectRects } from '../../src/report/direct-rects.ts';
import { runForReport, fsdp2Small } from './fixtures.ts';
import { drawnPixels } from '../helpers/pixels.ts';
import { CHART_WIDTH } from '../../src/report/charts/theme.ts';

const BAR_GROUP = /<g class="mark-rect role-mark (concat_\d_layer_0_marks)"( clip-path="url\(#clip\d+\)")?( aria-hidden="true")?>(.*?)<\/g>/gs;
const PATH = /<path d="M([^,]+),([^h]+)h([^v]+)v([^h]+)h[^Z]+Z" fill="([^"]+)"\/>/g;

/** vega's SVG as the direct writer draws it: each bar group unclipped, its bars clipped to the plot's [0, width]. */
function clippedByHand(svg: string, width: number): string {
  return svg.replace(BAR_GROUP, (_all, mark: string, _clip, aria: string | undefined, body: string) => {
    const paths = body.replace(PATH, (_p, xs: string, y: string, ws: string, h: string, fill: string) => {
      let x = Number(xs);
      let x2 = x + Number(ws);
      if (x2 < 0 || x > width) return '';
      x = Math.max(0, x);
      x2 = Math.min(width, x2);
      return `<path d="M${x},${y}h${x2 - x}v${h}h${-(x2 - x)}Z" fill="${fill}"/>`;
    });
    return `<g class="mark-rect role-mark ${mark}"${aria ?? ''}>${paths}</g>`;
  });
}

/** Clip paths renumbered by order of appearance (vega numbers them per process), unused ones dropped. */
function normalizedClips(svg: string): string {
  const used = new Set([...svg.matchAll(/url\(#(clip\d+)\)/g)].map((m) => m[1]));
  const kept = svg.replace(/<clipPath id="(clip\d+)">.*?<\/clipPath>/gs, (all, id: string) => (used.has(id) ? all : ''));
  const ids = new Map<string, number>();
  return kept.replace(/clip\d+/g, (id) => `clip#${ids.get(id) ?? ids.set(id, ids.size).size - 1}`);
}

describe('direct rects', () => {
  it('the timeline image with its bars written directly is the SVG vega draws from the same bars as data, clipped by hand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-direct-'));
    const run = await runForReport(fsdp2Small, 'direct');
    const { spec, image } = timelineSpecs(run);
    expect(image.rects.map((r) => r.mark)).toEqual(['concat_0_layer_0_marks', 'concat_1_layer_0_marks', 'concat_2_layer_0_marks']);
    expect(image.rects.every((r) => r.rows.length > 0)).toBe(true);
    const byVega = readFileSync((await renderVegaLite(spec, join(dir, 'vega'), timelineSpec(run, { staticImage: true }))).svgPath, 'utf8');
    const direct = readFileSync((await renderVegaLite(spec, join(dir, 'direct'), image.spec, image.rects)).svgPath, 'utf8');
    // The zoom panels draw bars beyond their window, which only the clip path hid in vega's drawing.
    expect([...byVega.matchAll(PATH)].some((m) => Number(m[1]) < 0 || Number(m[1]) + Number(m[3]) > CHART_WIDTH)).toBe(true);
    expect(normalizedClips(direct)).toEqual(normalizedClips(clippedByHand(byVega, CHART_WIDTH)));
    // Only the ▼ markers keep a clip path.
    expect(direct.match(/clip-path=/g)).toHaveLength(1);
    // Drawn, the two differ only where a bar's anti-aliased edge is composited: by at most 2 of 255.
    const a = drawnPixels(byVega);
    const b = drawnPixels(direct);
    expect(b.length).toBe(a.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('refuses to inject into a mark vega did not draw as an empty group', () => {
    const svg = '<svg><g class="mark-rect role-mark a" clip-path="url(#c)"/><g class="mark-rect role-mark b"><path/></g></svg>';
    expect(injectDirectRects(svg, [{ mark: 'a', paths: '<path d="M0,0h1v1h-1Z"/>' }])).toBe('<svg><g class="mark-rect role-mark a" clip-path="url(#c)"><path d="M0,0h1v1h-1Z"/></g><g class="mark-rect role-mark b"><path/></g></svg>');
    expect(() => injectDirectRects(svg, [{ mark: 'b', paths: '' }])).toThrow(/mark b/);
    expect(() => injectDirectRects(svg, [{ mark: 'c', paths: '' }])).toThrow(/mark c/);
  });
});
