import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The one font every chart is drawn in, shipped as an npm package (`dejavu-fonts-ttf`) so a PNG looks
 * the same on any machine: resvg gets these files explicitly and never looks at system fonts
 * (with `loadSystemFonts: false` and no files it silently drops every <text>; shared/reference/ecosystem.md §1.3).
 */
export { CHART_FONT_FAMILY, CHART_FONT_STACK } from './font-family.ts';

export interface FontFiles {
  regular: string;
  bold: string;
}

export function dejavuFontFiles(): FontFiles {
  const path = (file: string) => fileURLToPath(import.meta.resolve(`dejavu-fonts-ttf/ttf/${file}`));
  return { regular: path('DejaVuSans.ttf'), bold: path('DejaVuSans-Bold.ttf') };
}

/** A vega text item as far as measuring is concerned. */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}

/** Vega's default font size when a mark sets none (vega-scenegraph `fontSize`). */
const VEGA_DEFAULT_FONT_SIZE = 11;

/**
 * Text width in pixels from the TTF's glyph advances. Without node-canvas vega estimates a width of
 * 0.8 × length × size, about 1.65× too wide for DejaVu, which truncates axis labels with "…"
 * (vega-scenegraph `src/util/text.js`). We sum `charToGlyph().advanceWidth` because opentype.js's
 * `getAdvanceWidth` throws on DejaVu's GSUB tables (ecosystem.md §1.2).
 */
export async function dejavuTextWidth(files: FontFiles = dejavuFontFiles()): Promise<(item: TextItem, text: unknown) => number> {
  // opentype.js 1.3 is a UMD build without `exports`: under ESM its API arrives as the default export.
  const mod = (await import('opentype.js')) as typeof import('opentype.js') & { default?: typeof import('opentype.js') };
  const opentype = mod.default ?? mod;
  const parse = (file: string) => {
    const buf = readFileSync(file);
    // lowMemory reads glyphs on demand: 30 ms instead of 100 ms per face, and we need only a few glyphs.
    return opentype.parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), { lowMemory: true });
  };
  const regular = parse(files.regular);
  const bold = parse(files.bold);
  const cache = new Map<string, number>();
  return (item, text) => {
    const size = item.fontSize ?? VEGA_DEFAULT_FONT_SIZE;
    const isBold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    const s = text == null ? '' : String(text);
    const key = `${isBold ? 'b' : 'r'}|${s}`;
    let unitsWidth = cache.get(key);
    if (unitsWidth === undefined) {
      const font = isBold ? bold : regular;
      unitsWidth = 0;
      for (const ch of s) unitsWidth += font.charToGlyph(ch).advanceWidth ?? 0;
      unitsWidth /= font.unitsPerEm;
      cache.set(key, unitsWidth);
    }
    return unitsWidth * size;
  };
}
