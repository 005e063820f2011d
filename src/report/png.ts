import { crc32, deflateSync } from 'node:zlib';

/**
 * A PNG of 8-bit RGBA pixels (W3C PNG spec: signature, IHDR, one IDAT, IEND; every row filter 0, "None").
 * resvg's own `asPng()` took ~60 ms of CPU for a 2334 × 1610 timeline; node's zlib at level 3 over the
 * unfiltered rows takes ~20 ms and the file comes out smaller (flat chart colours compress well without
 * row filters). The pixels are the renderer's, unchanged.
 */

/** zlib level: 3 is ~3× faster than 6 here for files ~40% larger, still smaller than resvg's encoder writes. */
const DEFLATE_LEVEL = 3;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** IHDR: 8 bits per channel, colour type 6 (RGBA), deflate, adaptive filtering method 0, no interlace. */
const BIT_DEPTH = 8;
const COLOR_TYPE_RGBA = 6;

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  // The CRC covers the type and the data.
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const stride = width * 4;
  if (!(width > 0 && height > 0) || rgba.length !== stride * height) throw new Error(`encodePng: ${rgba.length} bytes for ${width} × ${height} RGBA pixels`);
  // Each row: filter byte 0, then the row's pixels.
  const raw = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1);
    raw[at] = 0;
    raw.set(rgba.subarray(y * stride, (y + 1) * stride), at + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = BIT_DEPTH;
  header[9] = COLOR_TYPE_RGBA;
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: DEFLATE_LEVEL })), chunk('IEND', new Uint8Array(0))]);
}
