#!/usr/bin/env node
// `node scripts/same-output.mjs A B`: exit 0 when two report files say the same thing — equal bytes, or for
// .png the same decoded pixels (encoders differ in filters and compression), or for .json the same parsed
// value (indentation aside). Used by compare-report-outputs.sh.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/** 8-bit PNG → { width, height, rgba } (filters 0–4 undone, grey/RGB expanded to RGBA). */
function pixels(buf) {
  let at = 8;
  let width = 0, height = 0, colorType = 0, bitDepth = 0;
  const idat = [];
  while (at < buf.length) {
    const n = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + n);
    if (type === 'IHDR') [width, height, bitDepth, colorType] = [data.readUInt32BE(0), data.readUInt32BE(4), data[8], data[9]];
    if (type === 'IDAT') idat.push(data);
    at += 12 + n;
  }
  const bpp = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  if (bitDepth !== 8 || !bpp) throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const rgba = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      cur[i] = (row[i] + predictor) & 255;
    }
    for (let x = 0; x < width; x++) {
      const p = cur.subarray(x * bpp, (x + 1) * bpp);
      const [r, g, b2, alpha] = bpp >= 3 ? [p[0], p[1], p[2], bpp === 4 ? p[3] : 255] : [p[0], p[0], p[0], bpp === 2 ? p[1] : 255];
      rgba.set([r, g, b2, alpha], (y * width + x) * 4);
    }
    prev = cur;
  }
  return { width, height, rgba };
}

const [a, b] = process.argv.slice(2).map((f) => readFileSync(f));
let same = a.equals(b);
if (!same && process.argv[2].endsWith('.png')) {
  const [x, y] = [pixels(a), pixels(b)];
  same = x.width === y.width && x.height === y.height && x.rgba.equals(y.rgba);
} else if (!same && process.argv[2].endsWith('.json')) {
  same = JSON.stringify(JSON.parse(a.toString('utf8'))) === JSON.stringify(JSON.parse(b.toString('utf8')));
}
process.exit(same ? 0 : 1);
