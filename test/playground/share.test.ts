import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeState, encodeState, packText, unpackText } from '../../src/playground/share.ts';

const yaml = readFileSync(join(import.meta.dirname, '../../scenarios/llama-3.1-70b-tp2-fsdp4-ddp2-16xh100.yaml'), 'utf8');

describe('the state in the URL fragment', () => {
  it('round-trips a scenario, a pinned run and a lesson exactly', async () => {
    const state = { name: 'a b&c', yaml, pinned: { name: 'pinned', yaml: yaml.replace('micro_batch_size: 1', 'micro_batch_size: 2') }, lesson: 'reshard' };
    const fragment = await encodeState(state);
    expect(fragment).not.toMatch(/[#\s]/);
    expect(await decodeState(`#${fragment}`)).toEqual(state);
  });

  it('compresses: a card scenario fits in a short link', async () => {
    expect((await packText(yaml)).length).toBeLessThan(yaml.length);
    expect(await unpackText(await packText('ü ≈ → ×'))).toBe('ü ≈ → ×');
  });

  it('a fragment without a state, or a damaged one, is no state (the page falls back to the default)', async () => {
    expect(await decodeState('')).toBeUndefined();
    expect(await decodeState('#lesson=reshard')).toBeUndefined();
    expect(await decodeState('#n=x&y=not-deflate-data')).toBeUndefined();
  });
});
