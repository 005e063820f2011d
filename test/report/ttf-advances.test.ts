import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import opentype from 'opentype.js';
import { dejavuFontFiles } from '../../src/report/fonts.ts';
import { ttfAdvances } from '../../src/report/ttf-advances.ts';

describe('ttfAdvances', () => {
  it("gives opentype.js's charToGlyph(ch).advanceWidth for every code point of the BMP and beyond, in both chart fonts", () => {
    const files = dejavuFontFiles();
    for (const file of [files.regular, files.bold]) {
      const bytes = readFileSync(file);
      const reference = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { lowMemory: true });
      const ours = ttfAdvances(bytes);
      expect(ours.unitsPerEm).toBe(reference.unitsPerEm);
      let mapped = 0;
      for (let cp = 0; cp < 0x20000; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        const ch = String.fromCodePoint(cp);
        const want = reference.charToGlyph(ch).advanceWidth ?? 0;
        if (ours.advance(cp) !== want) expect({ cp, got: ours.advance(cp) }).toEqual({ cp, got: want });
        if (reference.charToGlyphIndex(ch) !== 0) mapped++;
      }
      // DejaVu Sans covers thousands of characters: the map was really read.
      expect(mapped).toBeGreaterThan(3000);
    }
  });

  it('refuses a file that is not a font with tables it needs', () => {
    expect(() => ttfAdvances(new Uint8Array(64))).toThrow(/no head table/);
  });
});
