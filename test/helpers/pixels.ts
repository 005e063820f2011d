import { Resvg } from '@resvg/resvg-js';
import { CHART_FONT_FAMILY, dejavuFontFiles, type FontFiles } from '../../src/report/fonts.ts';

/** RGBA pixels of `svg` drawn by resvg as the chart renderer draws it: 2×, white background, only `files`. */
export function drawnPixels(svg: string, files: FontFiles = dejavuFontFiles()): Buffer {
  const image = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: false, fontFiles: [files.regular, files.bold], defaultFontFamily: CHART_FONT_FAMILY, sansSerifFamily: CHART_FONT_FAMILY },
  }).render();
  return Buffer.from(image.pixels);
}
