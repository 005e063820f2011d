import { ShardsimError } from '../util/errors.ts';
// Type only: erased from the bundle, so util/read-text.ts (node:fs) stays out of the browser build.
import type { ReadTextOptions } from '../util/read-text.ts';
export type { ReadTextOptions };
import type { DataFile, DataFolder, PathKind } from './data-folders.ts';

/**
 * files.ts for the browser (the playground): src/playground/build.ts swaps this module in and defines
 * `__SHARDSIM_DATA_FILES__` as every *.json file of every data folder, read at build time. A page has
 * no file system, so a user path is never a file; scenarios inline what they would read (e.g. a
 * `deepspeed:` mapping instead of a path — `shardsim playground` inlines those for you).
 */

export type { DataFile, DataFolder, PathKind } from './data-folders.ts';

declare const __SHARDSIM_DATA_FILES__: Record<DataFolder, DataFile[]>;

/** Where the folder would be in the project (for messages only). */
export function dataFolderPath(folder: DataFolder): string {
  return `shardsim/${folder}`;
}

export function dataFiles(folder: DataFolder): DataFile[] {
  return __SHARDSIM_DATA_FILES__[folder] ?? [];
}

export function dataFileNames(folder: DataFolder): string[] {
  return dataFiles(folder).map((f) => f.name);
}

export function readDataFile(folder: DataFolder, name: string): string {
  const file = dataFiles(folder).find((f) => f.name === name);
  if (!file) throw new Error(`${dataFolderPath(folder)}/${name} is not in this build`);
  return file.text;
}

export function pathKind(_path: string): PathKind {
  return undefined;
}

export function readTextFile(path: string, opts: ReadTextOptions): string {
  throw new ShardsimError(`the browser cannot read the ${opts.what} "${path}": write its content inline in the scenario`, opts.key ? { key: opts.key } : {});
}
