import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEY_DOCS, keyDocsMarkdown } from '../../src/config/key-docs.ts';
import { MODELLED_KEYS } from '../../src/config/schema.ts';

describe('docs/AXOLOTL-KEYS.md', () => {
  it('documents every key the schema reads (a new key needs its line)', () => {
    expect(MODELLED_KEYS.filter((k) => !KEY_DOCS[k])).toEqual([]);
    expect(Object.keys(KEY_DOCS).filter((k) => !MODELLED_KEYS.includes(k))).toEqual([]);
  });

  it('is up to date with the key tables (npm run docs:keys)', () => {
    expect(readFileSync(new URL('../../docs/AXOLOTL-KEYS.md', import.meta.url), 'utf8')).toBe(keyDocsMarkdown());
  });
});
