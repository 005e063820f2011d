import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { resolveDataShape } from '../../src/config/attention.ts';
import { datasetNames, datasetProfile, profileOfDatasets } from '../../src/config/dataset-profiles.ts';
import { expectedLongest } from '../../src/model/attention-work.ts';
import { rowDatasets } from '../../src/validate/run.ts';

describe('dataset profiles (src/config/datasets/)', () => {
  it('answers to its id and aliases case-insensitively, with sources', () => {
    const alpaca = datasetProfile('tatsu-lab/alpaca');
    expect(alpaca?.documentLength.meanTokens).toBeGreaterThan(0);
    expect(alpaca?.sources.length).toBeGreaterThan(0);
    expect(datasetProfile('MHENRICHSEN/alpaca_2k_test')).toBe(alpaca);
    expect(datasetProfile('nobody/unknown')).toBeUndefined();
  });

  it('a datasets list takes a profile only when every entry names the same one', () => {
    expect(profileOfDatasets([{ path: 'tatsu-lab/alpaca', type: 'alpaca' }])?.id).toBe('tatsu-lab/alpaca');
    expect(profileOfDatasets(['tatsu-lab/alpaca'])?.id).toBe('tatsu-lab/alpaca');
    expect(profileOfDatasets([{ path: 'tatsu-lab/alpaca' }, { path: 'nobody/unknown' }])).toBeUndefined();
    expect(profileOfDatasets([])).toBeUndefined();
    expect(profileOfDatasets(undefined)).toBeUndefined();
  });

  it('names are searched longest first, so a longer name wins over a name it contains', () => {
    const names = datasetNames();
    for (let i = 1; i < names.length; i++) expect(names[i - 1]!.length).toBeGreaterThanOrEqual(names[i]!.length);
  });
});

describe('unpacked rows padded to the longest sample', () => {
  const docs = { mean_tokens: 125, sigma: 0.5, max_tokens: 1300 };
  const base = { micro_batch_size: 32, sequence_len: 512, sample_packing: false, datasets: [{ path: 'x/y' }], document_length: docs };

  it('the slowest of dp ranks sets the row the kernels run; each rank counts its own; memory takes the longest sample up to the cap', () => {
    const one = resolveDataShape(base, 'sdpa', 'block-mask', { dataParallel: 1, padMultiple: 1 }).shape;
    const four = resolveDataShape(base, 'sdpa', 'block-mask', { dataParallel: 4, padMultiple: 1 }).shape;
    const docLengths = { meanTokens: 125, sigma: 0.5 };
    expect(one.rowTokens).toBe(Math.ceil(expectedLongest(32, docLengths, 512)));
    expect(one.countedRowTokens).toBe(one.rowTokens);
    // Four ranks wait for the longest of 128 samples but each counts its own 32.
    expect(four.rowTokens).toBe(Math.ceil(expectedLongest(128, docLengths, 512)));
    expect(four.rowTokens).toBeGreaterThan(four.countedRowTokens);
    expect(four.countedRowTokens).toBe(one.countedRowTokens);
    // Alpaca's longest sample (1300) is past the 512 cap: the run's peak row is the cap.
    expect(four.peakRowTokens).toBe(512);
    const longCap = resolveDataShape({ ...base, sequence_len: 4096 }, 'sdpa', 'block-mask', { dataParallel: 1, padMultiple: 1 }).shape;
    expect(longCap.peakRowTokens).toBe(1300);
  });

  it('matches a seeded Monte Carlo of the slowest rank and the counted rows within a few percent', () => {
    const rng = seedrandom('padding');
    const sigma = 0.5;
    const mu = Math.log(125) - (sigma * sigma) / 2;
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const sample = () => Math.min(512, Math.exp(mu + sigma * normal()));
    let slowest = 0;
    let counted = 0;
    const steps = 4000;
    for (let i = 0; i < steps; i++) {
      const ranks = Array.from({ length: 4 }, () => Math.max(...Array.from({ length: 32 }, sample)));
      slowest += Math.max(...ranks);
      counted += ranks.reduce((a, b) => a + b, 0) / 4;
    }
    const shape = resolveDataShape(base, 'sdpa', 'block-mask', { dataParallel: 4, padMultiple: 1 }).shape;
    expect(shape.rowTokens / (slowest / steps)).toBeGreaterThan(0.93);
    expect(shape.rowTokens / (slowest / steps)).toBeLessThan(1.07);
    expect(shape.countedRowTokens / (counted / steps)).toBeGreaterThan(0.93);
    expect(shape.countedRowTokens / (counted / steps)).toBeLessThan(1.07);
  });

  it("rounds up to the collator's multiple; pad_to_sequence_len and packing keep full rows", () => {
    const r64 = resolveDataShape(base, 'sdpa', 'block-mask', { dataParallel: 1, padMultiple: 64 }).shape;
    expect(r64.rowTokens % 64).toBe(0);
    const padded = resolveDataShape({ ...base, pad_to_sequence_len: true }, 'sdpa', 'block-mask', { dataParallel: 4, padMultiple: 64 }).shape;
    expect([padded.rowTokens, padded.countedRowTokens, padded.peakRowTokens]).toEqual([512, 512, 512]);
    const noData = resolveDataShape({ micro_batch_size: 2, sequence_len: 512 }, 'sdpa', 'block-mask', { dataParallel: 4, padMultiple: 64 }).shape;
    expect([noData.rowTokens, noData.countedRowTokens, noData.peakRowTokens]).toEqual([512, 512, 512]);
  });

  it('a dataset profile supplies the lengths; simulation.document_length overrides it', () => {
    const alpaca = resolveDataShape({ micro_batch_size: 8, sequence_len: 2048, datasets: [{ path: 'tatsu-lab/alpaca' }] }, 'sdpa', 'block-mask', { dataParallel: 1, padMultiple: 1 });
    const profile = datasetProfile('tatsu-lab/alpaca')!.documentLength;
    expect(alpaca.attention.documents?.meanTokens).toBe(profile.meanTokens);
    expect(alpaca.shape.peakRowTokens).toBe(profile.maxTokens);
    const overridden = resolveDataShape({ micro_batch_size: 8, sequence_len: 2048, datasets: [{ path: 'tatsu-lab/alpaca' }], document_length: { mean_tokens: 900 } }, 'sdpa', 'block-mask', { dataParallel: 1, padMultiple: 1 });
    expect(overridden.attention.documents?.meanTokens).toBe(900);
    // A new mean without a new longest sample: the profile's longest no longer applies (the cap does).
    expect(overridden.shape.peakRowTokens).toBe(2048);
  });
});

describe('validation rows: the dataset an unpacked, dynamically padded row names in its notes', () => {
  const row = (scenario: Record<string, unknown>, notes: string) => ({ id: 'r', source: 's', hardware: 'h', num_nodes: 1, scenario, measured: {}, notes });
  it('names the profiled dataset only for unpacked rows without pad_to_sequence_len or datasets', () => {
    expect(rowDatasets(row({ sample_packing: false }, 'TRL SFTTrainer, tatsu-lab/alpaca with dynamic padding'))).toEqual({ datasets: [{ path: 'tatsu-lab/alpaca' }] });
    expect(rowDatasets(row({ sample_packing: false }, 'Unpacked alpaca-cleaned: padded to its longest'))).toEqual({ datasets: [{ path: 'yahma/alpaca-cleaned' }] });
    expect(rowDatasets(row({ sample_packing: true }, 'tatsu-lab/alpaca'))).toEqual({});
    expect(rowDatasets(row({ sample_packing: false, pad_to_sequence_len: true }, 'tatsu-lab/alpaca'))).toEqual({});
    expect(rowDatasets(row({}, 'tatsu-lab/alpaca'))).toEqual({});
    expect(rowDatasets(row({ sample_packing: false }, 'no dataset named'))).toEqual({});
  });
});
