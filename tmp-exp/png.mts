import { readFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { dejavuChartSubsetFiles } from '../src/report/fonts.ts';
const files = dejavuChartSubsetFiles();
const mode = process.argv[2] ?? 'base';
for (let round = 0; round < 3; round++) for (const n of ['timeline', 'memory', 'communication', 'breakdown']) {
  let svg = readFileSync(`/tmp/o1/${n}.svg`, 'utf8');
  const t0 = performance.now();
  const r = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, shapeRendering: mode === 'crisp' ? 0 : 2, textRendering: mode==='crisp'?1:1,
    font: { loadSystemFonts: false, fontFiles: [files.regular, files.bold], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } });
  const t1 = performance.now();
  const img = r.render();
  const t2 = performance.now();
  if (round === 2) console.log(n, 'parse', (t1 - t0).toFixed(1), 'render', (t2 - t1).toFixed(1), img.width, img.height);
}
