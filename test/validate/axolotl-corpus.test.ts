import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusFiles, runCorpusConfig, summarizeCorpus, type CorpusOutcome } from '../../src/validate/corpus.ts';

/**
 * Issue 11/12: Axolotl's own example configs (../shared/axolotl-examples, run from that folder as
 * `axolotl train examples/...` would) simulate or are refused with one line naming why; none crashes, and no
 * LoRA/QLoRA config is silently simulated as a full fine-tune. Skipped where the corpus is not checked out.
 */
const ROOT = resolve(import.meta.dirname, '../../../shared/axolotl-examples');
const present = existsSync(ROOT);

describe.skipIf(!present)('Axolotl example corpus', () => {
  let outcomes: CorpusOutcome[] = [];

  it('runs every config without a crash (one line per refusal)', { timeout: 300_000 }, async () => {
    for (const f of corpusFiles(ROOT)) outcomes.push(await runCorpusConfig(ROOT, f));
    console.log(summarizeCorpus(outcomes));
    expect(outcomes.length).toBeGreaterThanOrEqual(150);
    expect(outcomes.filter((o) => o.status === 'crashed')).toEqual([]);
    for (const o of outcomes) if (o.status === 'refused') expect(o.message, o.file).toMatch(/^[^\n]{10,}$/);
  });

  it('refuses only for a named reason: an out-of-scope trainer, a model it does not know, or a combination Axolotl refuses', () => {
    const inputErrors = outcomes.filter((o) => o.status === 'refused' && o.reason === 'input error');
    expect(inputErrors.map((o) => o.status === 'refused' && `${o.file}: ${o.message}`)).toEqual([]);
    // A regression guard on coverage (123 of 157 on 2026-12-05, 141 with the diffusion and strided EBFT
    // trainers, 143 with Falcon-H1-1.5B-Deep; new families and trainers only raise it).
    expect(outcomes.filter((o) => o.status === 'simulated').length).toBeGreaterThanOrEqual(143);
  });

  it('simulates every LoRA / QLoRA config with adapter-sized trainable parameters (never as a full fine-tune)', () => {
    const adapters = outcomes.filter((o): o is Extract<CorpusOutcome, { status: 'simulated' }> => o.status === 'simulated' && o.adapter !== undefined);
    expect(adapters.length).toBeGreaterThan(50);
    for (const o of adapters) {
      expect(o.trainableParameters, o.file).toBeGreaterThan(0);
      // modules_to_save adds full trainable copies of embed_tokens / lm_head (PEFT ModulesToSaveWrapper).
      const bound = o.modulesToSave > 0 ? 0.6 : 0.05;
      expect(o.trainableParameters / o.parameters, o.file).toBeLessThan(bound);
    }
  });
});
