import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The project folder (where package.json names "shardsim"), found by walking up from this module, so
 * data files resolve the same from src/ under tsx and from the esbuild bundle in dist/.
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'shardsim') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the shardsim project folder (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
