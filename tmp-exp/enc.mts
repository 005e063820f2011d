import { readFileSync } from 'node:fs';
import { deflateSync, constants } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { dejavuChartSubsetFiles } from '../src/report/fonts.ts';
const files = dejavuChartSubsetFiles();
for (const n of ['timeline', 'memory']) {
  const svg = readFileSync(`/tmp/o1/${n}.svg`, 'utf8');
  const img = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: false, fontFiles: [files.regular, files.bold], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render();
  const { width, height } = img; const px = img.pixels;
  const mk = (ch: number, filter: number) => { const stride = width * ch; const raw = Buffer.allocUnsafe((stride + 1) * height);
    for (let y = 0; y < height; y++) { const at = y * (stride + 1); raw[at] = filter;
      if (ch === 4) { if (filter===0) raw.set(px.subarray(y * width*4, (y + 1) * width*4), at + 1); else { for (let i=0;i<stride;i++){const cur=px[y*width*4+i]; const up = y>0?px[(y-1)*width*4+i]:0; raw[at+1+i]=(cur-up)&255;} } }
      else { let o = at + 1, s = y * width * 4; for (let x = 0; x < width; x++, s += 4) { raw[o++] = px[s]; raw[o++] = px[s + 1]; raw[o++] = px[s + 2]; } } }
    return raw; };
  for (const [label, ch, filter] of [['rgba', 4, 0], ['rgb', 3, 0], ['rgba-up', 4, 2]] as const) {
    const t0 = performance.now(); const raw = mk(ch, filter); const t1 = performance.now();
    for (const [lname, opts] of [['l3', { level: 3 }], ['l1', { level: 1 }], ['rle', { level: 3, strategy: constants.Z_RLE }], ['l6', { level: 6 }]] as const) {
      let best = 1e9, size = 0; for (let k = 0; k < 3; k++) { const a = performance.now(); size = deflateSync(raw, opts).length; best = Math.min(best, performance.now() - a); }
      console.log(n, label, lname, 'prep', (t1 - t0).toFixed(1), 'deflate', best.toFixed(1), 'KB', (size / 1024).toFixed(0));
    }
  }
}
