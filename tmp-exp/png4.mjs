import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
const { Resvg } = createRequire(import.meta.url)('@resvg/resvg-js');
const dir = '/work/main/src/report/fonts/';
const fonts = readdirSync(dir).filter((f) => f.endsWith('.ttf')).map((f) => dir + f);
const files = process.argv.slice(2);
for (let round = 0; round < 5; round++) for (const f of files) {
  const svg = readFileSync(f, 'utf8');
  const t0 = performance.now();
  const r = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: false, fontFiles: fonts, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } });
  const t1 = performance.now(); r.render(); const t2 = performance.now();
  if (round >= 3) console.log(f, 'parse', (t1 - t0).toFixed(1), 'render', (t2 - t1).toFixed(1));
}
