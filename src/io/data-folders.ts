/**
 * The project folders the simulation pipeline reads data from, relative to the project root. Node reads
 * them at run time (files.ts); the playground's browser build inlines every *.json file they hold at
 * build time (files.browser.ts), so a catalog entry or profile added to a folder is in the next build.
 * A pipeline stage that needs another data folder adds it here.
 */
export const DATA_FOLDERS = ['src/model/catalog', 'hardware-profiles', 'src/config/datasets'] as const;
export type DataFolder = (typeof DATA_FOLDERS)[number];

/** One data file: its name inside the folder (e.g. `dgx-h100.json`) and its text. */
export interface DataFile {
  name: string;
  text: string;
}

/** What a user path points at. */
export type PathKind = 'file' | 'directory' | undefined;
