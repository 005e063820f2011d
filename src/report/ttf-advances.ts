/**
 * Advance widths of a TrueType font's characters, read straight from its `cmap`, `head`, `hhea` and `hmtx`
 * tables (OpenType spec, "cmap — Character to Glyph Index Mapping Table", formats 4 and 12; "hmtx"). This
 * is all text measuring needs, and it answers what opentype.js 1.3's `font.charToGlyph(ch).advanceWidth`
 * does (same subtable choice, unmapped characters measured as glyph 0, .notdef; only the cmap formats
 * 4 and 12 are read, Mac-only fonts are refused) without loading its
 * 0.6 MB module and parsing whole fonts (~60 ms of a one-shot report).
 */
export interface TtfAdvances {
  unitsPerEm: number;
  /** Advance width in font units of the glyph the code point maps to. */
  advance(codePoint: number): number;
  /** Whether the font has a glyph of its own for the code point (not .notdef). */
  has(codePoint: number): boolean;
}

function tableOffsets(font: DataView): Map<string, number> {
  const tables = new Map<string, number>();
  const numTables = font.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(font.getUint8(at), font.getUint8(at + 1), font.getUint8(at + 2), font.getUint8(at + 3));
    tables.set(tag, font.getUint32(at + 8));
  }
  return tables;
}

/**
 * The code point → glyph map of the Unicode subtable opentype.js 1.3.5 `parseCmapTable` picks: the last in
 * table order among platform 3 (Windows) encodings 0, 1, 10 and platform 0 (Unicode) encodings 0–4 and 6
 * (DejaVu: its format-12 table, which also maps characters beyond the BMP).
 */
function glyphIndexMap(font: DataView, cmap: number): Map<number, number> {
  const numTables = font.getUint16(cmap + 2);
  let sub = -1;
  for (let i = numTables - 1; i >= 0 && sub < 0; i--) {
    const platform = font.getUint16(cmap + 4 + 8 * i);
    const encoding = font.getUint16(cmap + 6 + 8 * i);
    if ((platform === 3 && (encoding === 0 || encoding === 1 || encoding === 10)) || (platform === 0 && (encoding <= 4 || encoding === 6))) sub = cmap + font.getUint32(cmap + 8 + 8 * i);
  }
  if (sub < 0) throw new Error('font has no Unicode cmap subtable');
  const map = new Map<number, number>();
  const format = font.getUint16(sub);
  if (format === 12) {
    const groups = font.getUint32(sub + 12);
    for (let g = 0; g < groups; g++) {
      const at = sub + 16 + 12 * g;
      const start = font.getUint32(at);
      const end = font.getUint32(at + 4);
      const glyph = font.getUint32(at + 8);
      for (let c = start; c <= end; c++) map.set(c, glyph + (c - start));
    }
  } else if (format === 4) {
    const segments = font.getUint16(sub + 6) >> 1;
    const ends = sub + 14;
    const starts = ends + 2 * segments + 2;
    const deltas = starts + 2 * segments;
    const rangeOffsets = deltas + 2 * segments;
    for (let i = 0; i < segments; i++) {
      const end = font.getUint16(ends + 2 * i);
      const start = font.getUint16(starts + 2 * i);
      const delta = font.getInt16(deltas + 2 * i);
      const rangeOffset = font.getUint16(rangeOffsets + 2 * i);
      for (let c = start; c <= end; c++) {
        let glyph: number;
        if (rangeOffset !== 0) {
          glyph = font.getUint16(rangeOffsets + 2 * i + rangeOffset + 2 * (c - start));
          if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
        } else {
          glyph = (c + delta) & 0xffff;
        }
        map.set(c, glyph);
      }
    }
  } else {
    throw new Error(`cmap subtable format ${format} is not read (only 4 and 12)`);
  }
  return map;
}

export function ttfAdvances(bytes: Uint8Array): TtfAdvances {
  const font = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = tableOffsets(font);
  const need = (tag: string) => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`font has no ${tag} table`);
    return at;
  };
  const unitsPerEm = font.getUint16(need('head') + 18);
  const numberOfHMetrics = font.getUint16(need('hhea') + 34);
  const hmtx = need('hmtx');
  const glyphs = glyphIndexMap(font, need('cmap'));
  // Glyphs past numberOfHMetrics share the last advance (monospaced tails).
  const advanceOf = (glyph: number) => font.getUint16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  return { unitsPerEm, advance: (codePoint) => advanceOf(glyphs.get(codePoint) ?? 0), has: (codePoint) => (glyphs.get(codePoint) ?? 0) !== 0 };
}
