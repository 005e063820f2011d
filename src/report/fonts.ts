import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../util/paths.ts';
import { ttfAdvances, type TtfAdvances } from './ttf-advances.ts';

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

/**
 * The same two faces cut to the characters chart text uses (scripts/subset-chart-fonts.sh: ASCII, Latin,
 * Greek, punctuation, arrows, mathematical and technical symbols, geometric shapes), 110 KB each instead of
 * 700. resvg 2.6 (fontdb with font files) reads a face's whole file again for every glyph it outlines, so
 * the time it spends on text grows with the file: ~35 µs a glyph with the full DejaVu Sans, 0.1 s of a
 * 16-GPU report's four charts, against ~10 µs with the cut files. The outlines, advances and layout tables
 * of the kept glyphs are the full font's, so an image drawn with them has the same pixels.
 */
export function dejavuChartSubsetFiles(): FontFiles {
  const dir = join(projectRoot(), 'src', 'report', 'fonts');
  return { regular: join(dir, 'DejaVuSans-charts.ttf'), bold: join(dir, 'DejaVuSans-Bold-charts.ttf') };
}

function faceTables(files: FontFiles): { regular: TtfAdvances; bold: TtfAdvances } {
  return { regular: ttfAdvances(readFileSync(files.regular)), bold: ttfAdvances(readFileSync(files.bold)) };
}

/**
 * Whether every character of `text` has a glyph in both faces of `files`. A text with a character the cut
 * files lack is drawn with the full files: from the cut ones resvg would take the glyph from another
 * face, or draw nothing.
 */
export function fontCoverage(files: FontFiles): (text: string) => boolean {
  const { regular, bold } = faceTables(files);
  const known = new Set<number>();
  return (text) => {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit <= LAST_ASCII_PRINTABLE) continue;
      const codePoint = text.codePointAt(i)!;
      if (codePoint > 0xffff) i++;
      if (known.has(codePoint)) continue;
      if (!regular.has(codePoint) || !bold.has(codePoint)) return false;
      known.add(codePoint);
    }
    return true;
  };
}

/** `~`: the cut files keep every printable ASCII character (a test pins it), so the scan skips them. */
const LAST_ASCII_PRINTABLE = 0x7e;

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
 * (vega-scenegraph `src/util/text.js`). The advances come from the font's cmap and hmtx tables
 * (ttf-advances.ts, what opentype.js's `charToGlyph().advanceWidth` gives; its `getAdvanceWidth` throws
 * on DejaVu's GSUB tables, ecosystem.md §1.2), summed per code point.
 */
export async function dejavuTextWidth(files: FontFiles = dejavuFontFiles()): Promise<(item: TextItem, text: unknown) => number> {
  const { regular, bold } = faceTables(files);
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
      for (const ch of s) unitsWidth += font.advance(ch.codePointAt(0)!);
      unitsWidth /= font.unitsPerEm;
      cache.set(key, unitsWidth);
    }
    return unitsWidth * size;
  };
}
