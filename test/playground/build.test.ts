import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { browserSeam, buildPlayground, playgroundIsStale } from '../../src/playground/build.ts';
import { dataFiles } from '../../src/io/files.ts';
import { listHardwareIds } from '../../src/hardware/index.ts';

const root = join(import.meta.dirname, '../..');

describe('playground/index.html', () => {
  let dir: string;
  let html: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardsim-playground-build-'));
    html = readFileSync((await buildPlayground(dir)).file, 'utf8');
  }, 60_000);

  it('inlines every catalog model and hardware profile in the folders at build time (no fixed list)', () => {
    for (const f of dataFiles('src/model/catalog')) expect(html, f.name).toContain(JSON.stringify(f.name));
    for (const id of listHardwareIds()) expect(html, id).toContain(JSON.stringify(`${id}.json`));
  });

  it('is self-contained: no external script, style, font or image', () => {
    // The markup and styles, without the inlined scripts' text (minified libraries hold such strings).
    const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, '$1</script>');
    expect(markup).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
    expect(markup).not.toMatch(/url\((?!data:)/);
    expect(markup).not.toMatch(/https?:\/\//);
    expect(html).toContain("font-family: 'DejaVu Sans'; font-weight: 700; src: url(data:font/ttf;base64,");
  });

  it('is stale when a source is newer, fresh right after a build', () => {
    expect(playgroundIsStale(join(dir, 'index.html'))).toBe(false);
    expect(playgroundIsStale(join(dir, 'missing.html'))).toBe(true);
  });

  it('a pipeline module reading files directly fails the browser build, naming the seam', async () => {
    const src = mkdtempSync(join(tmpdir(), 'shardsim-seam-'));
    writeFileSync(join(src, 'entry.ts'), "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n");
    const err = await esbuild.build({ entryPoints: [join(src, 'entry.ts')], bundle: true, write: false, platform: 'browser', logLevel: 'silent', plugins: [browserSeam(root)] }).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/imports node:fs, which a browser does not have: read files through src\/io\/files\.ts/);
  });
});
