import { loadScenarioObject } from '../config/index.ts';
import { loadHardwareProfile } from '../hardware/index.ts';
import { simulateLoaded } from '../pipeline/simulate.ts';
import type { SimulationResult } from '../metrics/result.ts';
import { percentile } from '../metrics/result.ts';
import { ShardsimError } from '../util/errors.ts';
import { datasetNames, datasetProfile } from '../config/dataset-profiles.ts';
import type { ValidationRow } from './dataset.ts';
import { countsRealTokens, scenarioWithSourceFacts, withSourceFacts } from './source-facts.ts';

export type MetricName = 'tokens_per_s_per_gpu' | 'step_time_s' | 'peak_memory_bytes';
export const METRICS: MetricName[] = ['tokens_per_s_per_gpu', 'step_time_s', 'peak_memory_bytes'];

export interface Comparison {
  id: string;
  source: string;
  metric: MetricName;
  predicted: number;
  measured: number;
  /** (predicted − measured) / measured. */
  error: number;
  /** For memory: which estimate was compared (allocated or reserved). */
  kind?: string;
  /**
   * For reserved memory: the profile's `runtime.allocator_reserved_over_allocated` the prediction used
   * (reserved scales linearly with it, so cross-validation can refit it without re-simulating).
   */
  allocatorFactor?: number;
  model: string;
  parameters: number;
  gpus: number;
  hardware: string;
}

export interface Skipped {
  id: string;
  reason: string;
}

export interface MetricSummary {
  n: number;
  median_abs_error: number;
  p90_abs_error: number;
  /** Median signed error: > 0 means we over-predict. */
  bias: number;
}

export interface ValidationReport {
  rows: Comparison[];
  skipped: Skipped[];
  summary: Partial<Record<MetricName, MetricSummary>>;
}

/**
 * The dataset an unpacked, dynamically padded row trained on, when its notes name one with a profile
 * (src/config/datasets/). A row that says `sample_packing: false` without `pad_to_sequence_len` padded each
 * micro-batch to its longest sample (the source's collator), so its rows are as long as that dataset's samples;
 * the rows carry no `datasets` key (the data contract has Axolotl keys only for what ran), but their notes quote
 * the source's dataset (e.g. Liger's training.py: tatsu-lab/alpaca; torchtune: alpaca-cleaned). Packed rows and
 * rows padded to sequence_len do not depend on it and are left as they are.
 */
export function rowDatasets(row: ValidationRow): { datasets?: { path: string }[] } {
  const s = row.scenario;
  if (s.sample_packing !== false || s.pad_to_sequence_len !== undefined || s.datasets !== undefined || s.pretraining_dataset !== undefined) return {};
  const notes = (row.notes ?? '').toLowerCase();
  const name = datasetNames().find((n) => notes.includes(n));
  return name ? { datasets: [{ path: datasetProfile(name)!.id }] } : {};
}

/** The source's short name: the repository or paper before the first space or em dash. */
export const sourceName = (s: string) => s.split(/\s|—/)[0] ?? s;

function predicted(r: SimulationResult, metric: MetricName, kind?: string, realTokens = false): number {
  if (metric === 'tokens_per_s_per_gpu') return realTokens ? r.throughput.real_tokens_per_s_per_gpu : r.throughput.tokens_per_s_per_gpu;
  if (metric === 'step_time_s') return r.step_time_s;
  // max_memory_reserved ↔ our reserved estimate; allocated / active / unspecified ↔ peak allocated.
  return kind === 'reserved' ? r.memory.reserved_bytes : r.memory.peak_bytes;
}

export async function validateRows(rows: ValidationRow[]): Promise<ValidationReport> {
  const out: Comparison[] = [];
  const skipped: Skipped[] = [];
  for (const row of rows) {
    // What the source documents about its runs that the row's keys cannot say (src/validate/source-facts.ts).
    const sim = withSourceFacts(row);
    // A published row records what ran, with its framework's own modules (torchtune, a PEFT script, Liger's
    // benchmarks, or an Axolotl version before it switched its fused LoRA kernels on by itself — 2025-04-29,
    // axolotl #2589): Axolotl's automatic choices are not assumed; a row that ran the kernels sets lora_*_kernel.
    const framework = sim.framework ?? 'other';
    const facts = scenarioWithSourceFacts(row);
    const scenario = { ...facts, ...rowDatasets({ ...row, scenario: facts }), simulation: { ...sim, framework, hardware: row.hardware, num_nodes: row.num_nodes } };
    let result: SimulationResult;
    try {
      result = (await simulateLoaded(loadScenarioObject(scenario, { name: row.id }))).result;
    } catch (e) {
      if (e instanceof ShardsimError) {
        skipped.push({ id: row.id, reason: e.message });
        continue;
      }
      throw e;
    }
    for (const metric of METRICS) {
      const measured: unknown = row.measured[metric];
      if (measured === undefined || measured === null) continue;
      // A value that cannot be compared (0, negative, a string) is reported, never dropped silently.
      if (typeof measured !== 'number' || !(measured > 0) || !Number.isFinite(measured)) {
        skipped.push({ id: row.id, reason: `measured.${metric} is ${JSON.stringify(measured)}, not a positive number: not compared` });
        continue;
      }
      const kind = metric === 'peak_memory_bytes' ? (row.measured.peak_memory_kind ?? 'unspecified') : undefined;
      const p = predicted(result, metric, kind, countsRealTokens(row));
      out.push({
        id: row.id, source: sourceName(row.source), metric, predicted: p, measured, error: (p - measured) / measured,
        ...(kind ? { kind } : {}), ...(kind === 'reserved' ? { allocatorFactor: loadHardwareProfile(result.hardware).runtime.allocator_reserved_over_allocated } : {}),
        model: result.model.id, parameters: result.model.parameters, gpus: result.world_size, hardware: result.hardware,
      });
    }
  }
  return { rows: out, skipped, summary: summarise(out) };
}

export function summarise(rows: Comparison[]): Partial<Record<MetricName, MetricSummary>> {
  const summary: Partial<Record<MetricName, MetricSummary>> = {};
  for (const metric of METRICS) {
    const errs = rows.filter((r) => r.metric === metric).map((r) => r.error);
    if (errs.length === 0) continue;
    const abs = errs.map(Math.abs).sort((a, b) => a - b);
    const signed = [...errs].sort((a, b) => a - b);
    summary[metric] = { n: errs.length, median_abs_error: percentile(abs, 0.5), p90_abs_error: percentile(abs, 0.9), bias: percentile(signed, 0.5) };
  }
  return summary;
}
