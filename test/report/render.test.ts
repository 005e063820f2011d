import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderVegaLite } from '../../src/report/render.ts';
import { stepBreakdownSpec } from '../../src/report/charts/breakdown.ts';
import { runForReport, ddpSmall } from './fixtures.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('renderVegaLite', () => {
  it('writes the spec, an SVG with its text, and a 2× PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-render-'));
    const run = await runForReport(ddpSmall, 'render-test');
    const spec = stepBreakdownSpec([{ name: 'render-test', result: run.result }]);
    const out = await renderVegaLite(spec, join(dir, 'breakdown'));
    expect(out).toEqual({ specPath: join(dir, 'breakdown.vl.json'), svgPath: join(dir, 'breakdown.svg'), pngPath: join(dir, 'breakdown.png'), specJson: expect.any(String) });
    expect(JSON.parse(readFileSync(out.specPath, 'utf8'))).toEqual(JSON.parse(JSON.stringify(spec)));

    const svg = readFileSync(out.svgPath, 'utf8');
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toContain('Where the step time goes');
    expect(texts).toContain('render-test');
    expect(texts).toContain('step time (ms)');
    // Real glyph widths, not vega's 0.8 × length estimate: nothing got truncated with an ellipsis.
    expect(texts.some((t) => t!.includes('…'))).toBe(false);
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);

    const png = readFileSync(out.pngPath);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // IHDR: width and height at offsets 16 and 20; 2× zoom.
    expect(png.readUInt32BE(16)).toBe(2 * width);
    expect(statSync(out.pngPath).size).toBeGreaterThan(20_000);
  });

  it('draws text in the PNG: the same chart without its labels is a smaller image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-render-'));
    const base = { data: { values: [{ k: 'alpha', v: 1 }, { k: 'beta', v: 2 }] }, mark: 'bar', encoding: { y: { field: 'k', type: 'nominal' }, x: { field: 'v', type: 'quantitative' } } };
    const withText = await renderVegaLite({ ...base, title: 'A title with many words in it to draw' }, join(dir, 'a'));
    const without = await renderVegaLite({ ...base, encoding: { y: { ...base.encoding.y, axis: null }, x: { ...base.encoding.x, axis: null } } }, join(dir, 'b'));
    expect(statSync(withText.pngPath).size).toBeGreaterThan(statSync(without.pngPath).size + 2_000);
  });

  it('writes a small spec indented and a large one compact, with the same content; returns it compact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-render-'));
    const chart = (n: number) => ({ data: { values: Array.from({ length: n }, (_, i) => ({ k: `row ${i}`, v: i % 7 })) }, mark: 'bar', encoding: { x: { field: 'v', type: 'quantitative', aggregate: 'sum' } } });
    for (const [n, indented] of [[10, true], [80_000, false]] as const) {
      const spec = chart(n);
      const out = await renderVegaLite(chart(n), join(dir, `n${n}`));
      const text = readFileSync(out.specPath, 'utf8');
      expect(JSON.parse(text)).toEqual(spec);
      expect(text.trimEnd().includes('\n')).toBe(indented);
      expect(out.specJson).toBe(JSON.stringify(spec));
    }
  });
});
