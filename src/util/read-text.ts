import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ShardsimError } from './errors.ts';
import { gigabytes, heapBudgetBytes } from './heap.ts';

export interface ReadTextOptions {
  /** What the file is, for messages: "scenario file", "DeepSpeed config", "shard file". */
  what: string;
  /** The config key or flag the path came from, if any. */
  key?: string;
  /** How to fix a missing or unreadable file. */
  fix: string;
  /**
   * Heap bytes parsing one byte of this text takes (measured per format, see callers): with the process's
   * heap it sets the largest file read, so a huge file is refused before it is parsed instead of crashing V8.
   */
  heapBytesPerByte: number;
}

/**
 * Reads a UTF-8 text file, bounded: only a regular file (a FIFO or device could block or never end), at
 * most what the heap can parse, and only UTF-8 — UTF-16/32 (by their byte-order mark, or NUL bytes without
 * one) and invalid UTF-8 are refused with the encoding expected. A UTF-8 byte-order mark is dropped.
 */
export function readTextFile(path: string, opts: ReadTextOptions): string {
  const where = opts.key ? { key: opts.key } : {};
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer forever. Regular files
    // read the same either way; anything else is refused below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable');
    throw new ShardsimError(`cannot read ${opts.what} "${path}" (${why})`, { ...where, fix: opts.fix });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ShardsimError(`cannot read ${opts.what} "${path}" (${st.isDirectory() ? 'it is a directory' : 'not a regular file'})`, { ...where, fix: opts.fix });
    const max = Math.floor(heapBudgetBytes() / opts.heapBytesPerByte);
    if (st.size > max) {
      throw new ShardsimError(`${opts.what} "${path}" is ${gigabytes(st.size)}; parsing it needs ~${gigabytes(st.size * opts.heapBytesPerByte)}, more than this process can hold (~${gigabytes(heapBudgetBytes())} of heap)`, {
        ...where,
        fix: `keep it below ${gigabytes(max)} (drop what the simulator ignores), or raise the heap with NODE_OPTIONS=--max-old-space-size`,
      });
    }
    // Read what the size says and one byte more: a file that grew since is caught, not read unbounded.
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) throw new ShardsimError(`${opts.what} "${path}" changed while being read`, { ...where, fix: 'read it again once it is written' });
    }
    return decodeUtf8(buf.subarray(0, n), path, opts);
  } finally {
    closeSync(fd);
  }
}

function decodeUtf8(bytes: Buffer, path: string, opts: ReadTextOptions): string {
  const where = opts.key ? { key: opts.key } : {};
  const fix = 're-save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`, or "Save with encoding: UTF-8" in the editor)';
  const starts = (...b: number[]) => b.every((x, i) => bytes[i] === x);
  const bom =
    starts(0x00, 0x00, 0xfe, 0xff) || starts(0xff, 0xfe, 0x00, 0x00) ? 'UTF-32' : starts(0xfe, 0xff) ? 'UTF-16 (big-endian)' : starts(0xff, 0xfe) ? 'UTF-16 (little-endian)' : undefined;
  if (bom) throw new ShardsimError(`${opts.what} "${path}" is ${bom} text; UTF-8 is expected`, { ...where, fix });
  if (bytes.subarray(0, 4096).includes(0)) throw new ShardsimError(`${opts.what} "${path}" holds NUL bytes (UTF-16 without a byte-order mark, or not text at all); UTF-8 text is expected`, { ...where, fix });
  const body = starts(0xef, 0xbb, 0xbf) ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new ShardsimError(`${opts.what} "${path}" is not valid UTF-8; UTF-8 text is expected`, { ...where, fix });
  }
}
