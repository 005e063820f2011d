import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirs, prepareOutputDir, prepareOutputFile, prepareStreamingFile, writeFileAtomic } from '../../src/util/output.ts';
import { errorOf } from '../helpers/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'shardsim-out-'));

describe('writeFileAtomic', () => {
  it('replaces the file through a temporary name and leaves nothing else behind', () => {
    const p = join(dir, 'a.txt');
    writeFileSync(p, 'old');
    writeFileAtomic(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(readdirSync(dir).filter((f) => f.includes('a.txt'))).toEqual(['a.txt']);
  });

  it('writes a device directly (renaming over /dev/null would replace it) and reports a full one in one line', () => {
    writeFileAtomic('/dev/null', 'discarded');
    expect(existsSync('/dev/null')).toBe(true);
    if (existsSync('/dev/full')) expect(errorOf(() => writeFileAtomic('/dev/full', 'x', '--csv')).message).toBe('--csv "/dev/full": cannot write (no space left on the device)');
  });

  it('writes text pieces as they come; a piece that fails to be made is its own error, with no file left behind', () => {
    const p = join(dir, 'pieces.txt');
    writeFileAtomic(p, (function* () {
      yield 'a·';
      yield '';
      yield 'b'.repeat(100_000);
    })());
    expect(readFileSync(p, 'utf8')).toBe(`a·${'b'.repeat(100_000)}`);
    const broken = join(dir, 'broken.txt');
    const bug = new Error('bug while making the data');
    expect(() => writeFileAtomic(broken, (function* () {
      yield 'start';
      throw bug;
    })(), '--out')).toThrow(bug);
    expect(readdirSync(dir).filter((f) => f.includes('broken.txt'))).toEqual([]);
  });

  it('writes text of several MB as UTF-8, byte for byte, with no character split across the pieces it encodes', () => {
    // 2^18 characters are encoded at a time: an emoji (a surrogate pair) across every boundary, and
    // characters of 1, 2 and 3 UTF-8 bytes in between.
    const unit = 'a·▼'.repeat(87_381) + 'b'; // 262,144 characters: the pair below starts on the last one
    const text = Array.from({ length: 12 }, (_, i) => `${unit.slice(0, -1 - (i % 2))}😀${i % 2 ? 'c' : ''}`).join('') + ' end';
    expect(text.length).toBeGreaterThan(3 * 2 ** 20);
    const p = join(dir, 'big.txt');
    writeFileAtomic(p, text);
    expect(readFileSync(p).equals(Buffer.from(text, 'utf8'))).toBe(true);
    const pieces = join(dir, 'big-pieces.txt');
    writeFileAtomic(pieces, [text.slice(0, 1_000_001), text.slice(1_000_001)]);
    expect(readFileSync(pieces).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('a folder in the way is one line', () => {
    expect(errorOf(() => writeFileAtomic(dir, 'x', '--csv')).message).toMatch(/--csv ".*": is a folder, not a file/);
  });
});

describe('output folders', () => {
  it('creates missing levels one at a time and returns them', () => {
    const deep = join(dir, 'x', 'y', 'z');
    expect(makeDirs(deep)).toEqual([join(dir, 'x'), join(dir, 'x', 'y'), deep]);
    expect(makeDirs(deep)).toEqual([]);
  });

  it('/proc/x ends at once with the reason (Node 20 recursive mkdir never returns there)', () => {
    const started = performance.now();
    expect(errorOf(() => prepareOutputDir('/proc/x', '--out')).message).toMatch(/--out "\/proc\/x": cannot create the folder \(no such file or folder/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a folder inside a file is refused', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    expect(errorOf(() => prepareOutputDir(join(dir, 'plain', 'sub'), '--out')).message).toMatch(/cannot create the folder \(a part of the path is a file, not a folder\)/);
  });

  it('locks the folder while held; releasing removes the lock, and the folders it created if they stayed empty', () => {
    const target = join(dir, 'claimed', 'deeper');
    const held = prepareOutputDir(target, '--out');
    expect(existsSync(join(target, '.shardsim.lock'))).toBe(true);
    held.release();
    expect(existsSync(join(dir, 'claimed'))).toBe(false);
    const kept = prepareOutputDir(target, '--out');
    writeFileSync(join(target, 'report.html'), 'x');
    kept.release();
    expect(readdirSync(target)).toEqual(['report.html']);
  });
});

describe('output files', () => {
  it('needs an existing folder and refuses a folder as the file', () => {
    expect(errorOf(() => prepareOutputFile(join(dir, 'missing', 'f.csv'), '--csv')).message).toMatch(/the folder .*missing does not exist/);
    mkdirSync(join(dir, 'isdir'));
    expect(errorOf(() => prepareOutputFile(join(dir, 'isdir'), '--csv')).message).toMatch(/is a folder, not a file/);
  });

  it('a released file can be claimed and written again', () => {
    const p = join(dir, 'claim.csv');
    const a = prepareOutputFile(p, '--csv');
    a.release();
    const b = prepareOutputFile(p, '--csv');
    b.write('x');
    b.release();
    expect(readFileSync(p, 'utf8')).toBe('x');
  });

  it('streams lines to a part file, then writes the final content and removes the part', () => {
    const p = join(dir, 'rows.jsonl');
    const s = prepareStreamingFile(p, '--jsonl');
    s.append('{"b":2}');
    s.append('{"a":1}');
    expect(readFileSync(`${p}.part`, 'utf8')).toBe('{"b":2}\n{"a":1}\n');
    s.write('{"a":1}\n{"b":2}\n');
    s.release();
    expect(readFileSync(p, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(existsSync(`${p}.part`)).toBe(false);
  });

  it('salvage keeps the streamed lines under the final name (a second interrupt)', () => {
    const p = join(dir, 'salvage.jsonl');
    const s = prepareStreamingFile(p, '--jsonl');
    s.append('{"a":1}');
    s.salvage();
    s.release();
    expect(readFileSync(p, 'utf8')).toBe('{"a":1}\n');
  });
});
