import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { CHART_FONT_FAMILY, dejavuChartSubsetFiles, dejavuFontFiles, fontCoverage } from '../../src/report/fonts.ts';
import { ttfAdvances } from '../../src/report/ttf-advances.ts';
import { renderVegaLite } from '../../src/report/render.ts';
import { drawnPixels } from '../helpers/pixels.ts';

const full = dejavuFontFiles();
const cut = dejavuChartSubsetFiles();

/** Every code point both cut faces have a glyph for. */
function cutCodePoints(): number[] {
  const regular = ttfAdvances(readFileSync(cut.regular));
  const bold = ttfAdvances(readFileSync(cut.bold));
  const out: number[] = [];
  for (let c = 0; c <= 0x10ffff; c++) if (regular.has(c) && bold.has(c)) out.push(c);
  return out;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Lines of 40 characters, in the regular face and in bold. */
function specimen(codePoints: number[]): string {
  const lines: string[] = [];
  for (let i = 0; i < codePoints.length; i += 40) lines.push(escapeXml(String.fromCodePoint(...codePoints.slice(i, i + 40))));
  const text = (line: string, y: number, weight: string) => `<text x="4" y="${y}" font-family="${CHART_FONT_FAMILY}, sans-serif" font-size="11" font-weight="${weight}" xml:space="preserve">${line}</text>`;
  const rows = lines.flatMap((line, i) => [text(line, 14 + 28 * i, 'normal'), text(line, 28 + 28 * i, 'bold')]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="420" height="${28 * lines.length + 8}">${rows.join('')}</svg>`;
}

/** The RGBA pixels of a PNG written by encodePng (one IDAT, every row filter 0). */
function decodeOwnPng(png: Buffer): Buffer {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idatLength = png.readUInt32BE(33);
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  const stride = 4 * width;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) raw.copy(out, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  return out;
}

describe('chart fonts cut to the characters charts use', () => {
  it('keep every printable ASCII character and every non-ASCII character the report code writes', () => {
    const covers = fontCoverage(cut);
    const ascii = String.fromCharCode(...Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i));
    expect(covers(ascii)).toBe(true);
    for (const ch of '·×—→…−÷▼▲≤≥≈–µ²±∪αΣΔ“”§€°') expect(covers(ch), ch).toBe(true);
  });

  it('draw every glyph they keep with the same pixels as the full DejaVu Sans, regular and bold', () => {
    const codePoints = cutCodePoints();
    expect(codePoints.length).toBeGreaterThan(900);
    const svg = specimen(codePoints);
    const byCut = drawnPixels(svg, cut);
    expect(byCut.equals(drawnPixels(svg, full))).toBe(true);
    // Not a blank image: the glyphs are there.
    expect(byCut.some((v) => v < 128)).toBe(true);
  });

  it('say which texts they cannot draw: a Cyrillic or astral character, not ASCII or µ', () => {
    const covers = fontCoverage(cut);
    expect(covers('step time 1.2 µs · 8 × H100')).toBe(true);
    expect(covers('Жизнь')).toBe(false);
    expect(covers('rank 0 🚀')).toBe(false);
    expect(fontCoverage(full)('Жизнь')).toBe(true);
  });

  it('leave a chart with a character they lack to the full fonts: its PNG is what the full fonts draw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-fonts-'));
    const chart = { title: 'Жизнь ŋ on 8 × H100', data: { values: [{ k: 'alpha', v: 1 }] }, mark: 'bar', encoding: { y: { field: 'k', type: 'nominal' }, x: { field: 'v', type: 'quantitative' } } };
    const out = await renderVegaLite(chart, join(dir, 'cyrillic'));
    const svg = readFileSync(out.svgPath, 'utf8');
    const drawn = decodeOwnPng(readFileSync(out.pngPath));
    expect(drawn.equals(drawnPixels(svg, full))).toBe(true);
    // The cut fonts alone would have left the Cyrillic out.
    expect(drawn.equals(drawnPixels(svg, cut))).toBe(false);
  });
});
