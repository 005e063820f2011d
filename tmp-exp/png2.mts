import { readFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { dejavuChartSubsetFiles } from '../src/report/fonts.ts';
const files = dejavuChartSubsetFiles();
for (let round = 0; round < 3; round++) for (const f of ['/tmp/o1/timeline.svg', '/tmp/tl-nobars.svg', '/tmp/tl-rect.svg']) {
  const svg = readFileSync(f, 'utf8');
  const t0 = performance.now();
  const r = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: false, fontFiles: [files.regular, files.bold], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } });
  const t1 = performance.now(); const img = r.render(); const t2 = performance.now();
  if (round === 2) console.log(f, 'parse', (t1 - t0).toFixed(1), 'render', (t2 - t1).toFixed(1));
}
