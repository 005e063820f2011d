import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataFileNames, dataFiles, dataFolderPath, pathKind, readDataFile, readTextFile } from '../../src/io/files.ts';
import { DATA_FOLDERS } from '../../src/io/data-folders.ts';

const root = join(import.meta.dirname, '../..');

describe('the I/O seam (Node side)', () => {
  it('a data folder is every *.json in it, sorted, read from disk', () => {
    for (const folder of DATA_FOLDERS) {
      const onDisk = readdirSync(join(root, folder)).filter((f) => f.endsWith('.json')).sort();
      expect(dataFileNames(folder)).toEqual(onDisk);
      const files = dataFiles(folder);
      expect(files.map((f) => f.name)).toEqual(onDisk);
      expect(files[0]!.text).toBe(readFileSync(join(root, folder, onDisk[0]!), 'utf8'));
      expect(readDataFile(folder, onDisk[0]!)).toBe(files[0]!.text);
      expect(dataFolderPath(folder)).toBe(join(root, folder));
    }
  });

  it('user paths: a file, a directory, nothing', () => {
    expect(pathKind(join(root, 'package.json'))).toBe('file');
    expect(pathKind(join(root, 'src'))).toBe('directory');
    expect(pathKind(join(root, 'no-such-file'))).toBeUndefined();
    expect(readTextFile(join(root, 'package.json'), { what: 'test file', fix: '-', heapBytesPerByte: 10 })).toContain('"shardsim"');
  });
});
