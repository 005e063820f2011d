import { ensureDir, writeFileAtomic } from '../util/output.ts';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { CHART_FONT_FAMILY, dejavuChartSubsetFiles, dejavuFontFiles, dejavuTextWidth, fontCoverage, type FontFiles } from './fonts.ts';
import { loadVegaBundles } from './vega-bundles.ts';
import { encodePng } from './png.ts';
import { directRectPaths, injectDirectRects, type DirectRects, type DirectScales } from './direct-rects.ts';

/**
 * Vega-Lite spec → SVG and PNG files, headless: vega-lite compile → vega View (renderer 'none') → toSVG
 * → resvg (shared/reference/ecosystem.md §1.1). vega, vega-lite, resvg and the font tables are loaded
 * lazily, on the first render, so commands that draw nothing (`simulate --no-report`, `list`) never pay
 * for them.
 */

/**
 * A .vl.json up to this many characters (compact) is written indented: a chart's encoding and a few
 * hundred rows, read by eye. Larger ones are mostly data rows (the memory chart's thousands of points, the
 * timeline's columns), read by vega and tools: compact, they take half the bytes and no second stringify.
 */
const PRETTY_SPEC_CHARS = 64_000;

/** PNGs at 2× for sharp text on high-density screens and in slides. */
const PNG_ZOOM = 2;

interface Renderer {
  toSvg(spec: object, direct?: readonly DirectRects[]): Promise<string>;
  toPng(svg: string): Buffer;
}

let renderer: Promise<Renderer> | undefined;

async function loadRenderer(): Promise<Renderer> {
  const { vega, vegaLite: vl } = loadVegaBundles();
  // `require`, not `import()`: the CLI bundle runs compiled from V8's code cache, where Node 20 gives a
  // script no dynamic-import callback (util/code-cache.ts). resvg-js is a CommonJS package.
  const { Resvg } = createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const width = await dejavuTextWidth();
  // The exported textMetrics object is mutable and vega calls `textMetrics.width(item, text)` for layout
  // and label truncation (vega-scenegraph `textMetrics`); real glyph widths replace its estimate.
  (vega as unknown as { textMetrics: { width: typeof width } }).textMetrics.width = width;
  const fonts = dejavuFontFiles();
  const subset = dejavuChartSubsetFiles();
  const subsetCovers = fontCoverage(subset);
  return {
    async toSvg(spec, direct = []) {
      const compiled = vl.compile(spec as Parameters<typeof vl.compile>[0]).spec;
      const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
      try {
        const svg = await view.toSVG();
        if (direct.length === 0) return svg;
        // The scales as the run that drew the SVG left them.
        const scale = (name: string) => view.scale(name) as unknown;
        return injectDirectRects(
          svg,
          direct.map((d) => ({ mark: d.mark, paths: directRectPaths(d.rows, { x: scale(d.xScale), y: scale(d.yScale), color: scale(d.colorScale) } as DirectScales) })),
        );
      } finally {
        view.finalize();
      }
    },
    toPng(svg) {
      // The whole SVG is scanned, attributes too: a stray character there only costs the faster files.
      const files: FontFiles = subsetCovers(svg) ? subset : fonts;
      const resvg = new Resvg(svg, {
        background: 'white',
        fitTo: { mode: 'zoom', value: PNG_ZOOM },
        font: {
          loadSystemFonts: false,
          fontFiles: [files.regular, files.bold],
          defaultFontFamily: CHART_FONT_FAMILY,
          sansSerifFamily: CHART_FONT_FAMILY,
        },
      });
      // Opaque pixels (the white background), so resvg's premultiplied RGBA is plain RGBA.
      const image = resvg.render();
      return encodePng(image.width, image.height, image.pixels);
    },
  };
}

/**
 * Renders `spec` (Vega-Lite) to `outBase.vl.json`, `outBase.svg` and `outBase.png` (2×, white background).
 * `staticSpec`, when given, is what the SVG and PNG draw: the same chart reduced to what a fixed image
 * can show (the .vl.json keeps the interactive spec). `directRects`: rect marks of `staticSpec` left empty
 * there and written into its SVG directly (direct-rects.ts). Returns the paths and the spec as compact
 * JSON (report.html inlines it).
 */
export async function renderVegaLite(spec: object, outBase: string, staticSpec: object = spec, directRects: readonly DirectRects[] = []): Promise<{ svgPath: string; pngPath: string; specPath: string; specJson: string }> {
  renderer ??= loadRenderer();
  const r = await renderer;
  ensureDir(dirname(outBase));
  const specPath = `${outBase}.vl.json`;
  const svgPath = `${outBase}.svg`;
  const pngPath = `${outBase}.png`;
  const specJson = JSON.stringify(spec);
  writeFileAtomic(specPath, (specJson.length <= PRETTY_SPEC_CHARS ? JSON.stringify(spec, null, 2) : specJson) + '\n');
  const svg = await r.toSvg(staticSpec, directRects);
  writeFileAtomic(svgPath, svg);
  writeFileAtomic(pngPath, r.toPng(svg));
  return { svgPath, pngPath, specPath, specJson };
}
