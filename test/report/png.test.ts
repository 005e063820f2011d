import { describe, expect, it } from 'vitest';
import { inflateSync, crc32 } from 'node:zlib';
import { encodePng } from '../../src/report/png.ts';

/** The chunks of a PNG, CRCs checked. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const n = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + n);
    expect(png.readUInt32BE(at + 8 + n)).toBe(crc32(png.subarray(at + 4, at + 8 + n)));
    out.push({ type, data });
    at += 12 + n;
  }
  return out;
}

describe('encodePng', () => {
  it('writes IHDR, IDAT and IEND; the IDAT inflates to the pixels, row by row after filter byte 0', () => {
    const [w, h] = [5, 3];
    const rgba = new Uint8Array(w * h * 4).map((_, i) => (i * 37) % 256);
    const cs = chunks(encodePng(w, h, rgba));
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = cs[0]!.data;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ...ihdr.subarray(8)]).toEqual([w, h, 8, 6, 0, 0, 0]);
    const raw = inflateSync(cs[1]!.data);
    expect(raw.length).toBe(h * (w * 4 + 1));
    for (let y = 0; y < h; y++) {
      expect(raw[y * (w * 4 + 1)]).toBe(0);
      expect([...raw.subarray(y * (w * 4 + 1) + 1, (y + 1) * (w * 4 + 1))]).toEqual([...rgba.subarray(y * w * 4, (y + 1) * w * 4)]);
    }
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(/15 bytes for 2 × 2/);
  });
});
