import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.ts';
import type { DataFile, DataFolder, PathKind } from './data-folders.ts';

/**
 * The simulation pipeline's one door to the file system (docs/ARCHITECTURE.md, "The I/O seam"): the
 * project's data folders (model catalog, hardware profiles) and the user's own files (a scenario, a
 * DeepSpeed JSON, a model folder's config.json, a hardware profile given by path).
 *
 * This is the Node implementation. The playground's browser build (src/playground/build.ts) replaces
 * this module with files.browser.ts, which serves the data folders from JSON inlined at build time and
 * cannot read user files. Keep both to the same exports.
 */

export type { DataFile, DataFolder, PathKind } from './data-folders.ts';

/** Absolute path of a data folder. */
export function dataFolderPath(folder: DataFolder): string {
  return join(projectRoot(), folder);
}

/** Every *.json file of a data folder, sorted by name, read now (a rewritten file is seen at once). */
export function dataFiles(folder: DataFolder): DataFile[] {
  const dir = dataFolderPath(folder);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

/** Names of a data folder's *.json files, sorted, without reading them. */
export function dataFileNames(folder: DataFolder): string[] {
  return readdirSync(dataFolderPath(folder))
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** Text of one data file (throws the file system's error when it cannot be read). */
export function readDataFile(folder: DataFolder, name: string): string {
  return readFileSync(join(dataFolderPath(folder), name), 'utf8');
}

/** Whether a user path is a file, a directory, or nothing readable. */
export function pathKind(path: string): PathKind {
  try {
    const st = statSync(path);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Text of a user's file, bounded: a regular file, no larger than the heap can parse, UTF-8 only (one-line
 * ShardsimErrors otherwise; src/util/read-text.ts).
 */
export { readTextFile, type ReadTextOptions } from '../util/read-text.ts';
