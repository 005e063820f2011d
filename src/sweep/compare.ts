import { basename, extname } from 'node:path';
import { loadScenarioFile, type SimulationOverrides } from '../config/index.ts';
import { loadHardwareProfile } from '../hardware/index.ts';
import { simulateLoaded } from '../pipeline/simulate.ts';
import type { SimulationResult } from '../metrics/result.ts';
import { CHART_FONT_STACK } from '../report/fonts.ts';
import { count, pct, seconds } from '../report/format.ts';
import { ShardsimError } from '../util/errors.ts';
import { textTable } from './table.ts';

/** `shardsim compare`: several scenarios, or one scenario on several hardware profiles, side by side. */

export interface CompareRun {
  label: string;
  scenario: string;
  hardware?: string;
  result?: SimulationResult;
  /** The ShardsimError that stopped this run (e.g. the mesh does not fit the other profile's node). */
  error?: string;
}

export interface CompareSpec {
  scenarios: string[];
  /** Profile ids: every scenario runs on each (scenarios × hardware). */
  hardware?: string[];
  nodes?: number;
}

/**
 * Runs every (scenario, hardware) pair in order. A ShardsimError in one pair (a mesh that does not
 * divide the other profile's GPU count) is kept as that run's error rather than stopping the rest.
 */
export async function runCompare(spec: CompareSpec): Promise<CompareRun[]> {
  if (spec.scenarios.length === 0) throw new ShardsimError('compare needs at least one scenario', { fix: 'e.g. shardsim compare a.yaml b.yaml, or shardsim compare a.yaml --hardware dgx-h100,dgx-a100-80gb' });
  const hardware = spec.hardware ?? [];
  for (const id of hardware) loadHardwareProfile(id);
  if (spec.scenarios.length < 2 && hardware.length < 2) {
    throw new ShardsimError('nothing to compare: give two or more scenarios, or --hardware with two or more ids', { fix: 'e.g. shardsim compare a.yaml --hardware dgx-h100,dgx-a100-80gb' });
  }
  const names = spec.scenarios.map((p) => basename(p, extname(p)));
  const pairs: { path: string; name: string; hw: string | undefined }[] = [];
  spec.scenarios.forEach((path, i) => {
    for (const hw of hardware.length > 0 ? hardware : [undefined]) pairs.push({ path, name: names[i]!, hw });
  });
  const runs: CompareRun[] = [];
  for (const p of pairs) {
    const label = compareLabel(p.name, p.hw, spec.scenarios.length, hardware.length);
    const overrides: SimulationOverrides = { ...(p.hw ? { hardware: p.hw } : {}), ...(spec.nodes ? { num_nodes: spec.nodes } : {}) };
    // A bad file is the user's to fix: fail the command (as `simulate` would).
    const loaded = loadScenarioFile(p.path, overrides);
    try {
      // Results only (no timeline is drawn): the steady-state plan gives the same numbers with less work.
      const run = await simulateLoaded(loaded, { steadyState: true });
      runs.push({ label, scenario: p.name, ...(p.hw ? { hardware: p.hw } : {}), result: run.result });
    } catch (err) {
      if (!(err instanceof ShardsimError)) throw err;
      runs.push({ label, scenario: p.name, ...(p.hw ? { hardware: p.hw } : {}), error: err.message });
    }
  }
  const seen = new Map<string, number>();
  for (const r of runs) {
    const n = (seen.get(r.label) ?? 0) + 1;
    seen.set(r.label, n);
    if (n > 1) r.label = `${r.label} (${n})`;
  }
  return runs;
}

function compareLabel(name: string, hw: string | undefined, scenarios: number, hardware: number): string {
  if (!hw) return name;
  if (scenarios === 1) return hw;
  return hardware > 1 ? `${name} @ ${hw}` : name;
}

/** reports/compare-<a>-vs-<b>…, shortened to stay a sensible folder name. */
export function compareFolderName(runs: readonly CompareRun[]): string {
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  const hardware = [...new Set(runs.map((r) => r.hardware).filter((h): h is string => h !== undefined))];
  const name = scenarios.length === 1 && hardware.length > 1 ? `${scenarios[0]}-on-${hardware.join('-vs-')}` : `${scenarios.join('-vs-')}${hardware.length === 1 ? `-on-${hardware[0]}` : ''}`;
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `compare-${safe.length > 100 ? safe.slice(0, 100) : safe}`;
}

type Metric = { name: string; value: (r: SimulationResult) => string; best?: { of: (r: SimulationResult) => number; higher: boolean } };

const METRICS: Metric[] = [
  { name: 'model', value: (r) => r.model.id },
  { name: 'hardware', value: (r) => `${r.num_nodes} × ${r.hardware}` },
  // measured / partial / derived: whether this GPU's compute rates rest on its own microbenchmarks.
  { name: 'calibration', value: (r) => r.calibration.compute },
  { name: 'GPUs', value: (r) => String(r.world_size) },
  { name: 'strategy · mesh', value: (r) => `${r.strategy} rep=${r.mesh.dp_replicate} shard=${r.mesh.dp_shard} tp=${r.mesh.tp}` },
  { name: 'global batch', value: (r) => `${r.batch.global_batch_size} × ${r.batch.sequence_len}` },
  { name: 'step time', value: (r) => seconds(r.step_time_s), best: { of: (r) => r.step_time_s, higher: false } },
  { name: 'tokens/s', value: (r) => count(r.throughput.tokens_per_s), best: { of: (r) => r.throughput.tokens_per_s, higher: true } },
  { name: 'tokens/s/GPU', value: (r) => count(r.throughput.tokens_per_s_per_gpu), best: { of: (r) => r.throughput.tokens_per_s_per_gpu, higher: true } },
  { name: 'MFU', value: (r) => pct(r.throughput.mfu), best: { of: (r) => r.throughput.mfu, higher: true } },
  { name: 'exposed comm', value: (r) => `${seconds(r.communication.exposed_s)} (${pct(r.communication.exposed_ratio)})`, best: { of: (r) => r.communication.exposed_ratio, higher: false } },
  { name: 'peak memory', value: (r) => `${(r.memory.peak_bytes / 2 ** 30).toFixed(1)} GiB`, best: { of: (r) => r.memory.peak_bytes, higher: false } },
  { name: 'needed / capacity', value: (r) => `${(r.memory.required_bytes / 2 ** 30).toFixed(1)} / ${(r.memory.capacity_bytes / 2 ** 30).toFixed(1)} GiB` },
  { name: 'fits', value: (r) => (r.memory.fits ? 'yes' : 'NO (OOM)') },
  { name: '$/M tokens', value: (r) => `$${r.cost.usd_per_million_tokens.toFixed(3)}`, best: { of: (r) => r.cost.usd_per_million_tokens, higher: false } },
];

/** Metrics down, runs across; `*` marks the best run of a row among runs that fit. */
export function compareTable(runs: readonly CompareRun[]): string {
  const ok = runs.filter((r): r is CompareRun & { result: SimulationResult } => r.result !== undefined);
  const header = ['', ...ok.map((r) => r.label)];
  const body = METRICS.map((m) => {
    let bestLabel: string | undefined;
    const fitting = ok.filter((r) => r.result.memory.fits);
    if (m.best && fitting.length > 1) {
      const b = m.best;
      bestLabel = fitting.reduce((a, c) => ((b.higher ? b.of(c.result) > b.of(a.result) : b.of(c.result) < b.of(a.result)) ? c : a)).label;
    }
    return [m.name, ...ok.map((r) => `${m.value(r.result)}${r.label === bestLabel ? ' *' : ''}`)];
  });
  const lines: string[] = [];
  if (ok.length > 0) lines.push(textTable(header, body, new Set([0])));
  if (ok.some((r) => r.result.memory.fits) && ok.length > 1) lines.push('', '* best among the runs that fit');
  for (const r of runs) if (r.error) lines.push(`skipped ${r.label}: ${r.error}`);
  return lines.join('\n');
}

const BREAKDOWN: [key: keyof SimulationResult['time_breakdown_s'], title: string][] = [
  ['compute', 'compute'],
  ['optimizer', 'optimizer'],
  ['exposed_communication', 'exposed communication'],
  ['idle', 'idle'],
];

const MEMORY: [key: keyof SimulationResult['memory']['breakdown_at_peak'], title: string][] = [
  ['parameters', 'parameters'],
  ['gradients', 'gradients'],
  ['optimizer_states', 'optimizer states'],
  ['activations', 'activations'],
  ['communication_buffers', 'communication buffers'],
  ['other', 'other'],
];

const CONFIG = { font: CHART_FONT_STACK, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14, subtitleFontSize: 11 } };

/** The step of each run split into compute / optimizer / exposed communication / idle (a stacked bar). */
export function stepBreakdownSpec(runs: readonly CompareRun[]): object {
  const ok = runs.filter((r) => r.result);
  const values = ok.flatMap((r) => BREAKDOWN.map(([k, title], j) => ({ run: r.label, part: title, order: j, seconds: r.result!.time_breakdown_s[k] })));
  const totals = ok.map((r) => ({ run: r.label, seconds: r.result!.step_time_s, label: seconds(r.result!.step_time_s) }));
  const y = { field: 'run', type: 'nominal', sort: ok.map((r) => r.label), title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Step time breakdown', subtitle: 'per run, on the slowest simulated rank' },
    width: 520,
    height: { step: 34 },
    layer: [
      {
        data: { values },
        mark: { type: 'bar' },
        encoding: {
          y,
          x: { field: 'seconds', type: 'quantitative', stack: 'zero', title: 'seconds per step' },
          color: { field: 'part', type: 'nominal', sort: BREAKDOWN.map(([, t]) => t), scale: { domain: BREAKDOWN.map(([, t]) => t), range: ['#4c78a8', '#72b7b2', '#e45756', '#bab0ac'] }, title: null, legend: { orient: 'bottom' } },
          order: { field: 'order', type: 'quantitative' },
        },
      },
      {
        data: { values: totals },
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: { y, x: { field: 'seconds', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
    config: CONFIG,
  };
}

/** Peak memory per GPU by category for each run, with each run's usable capacity as a tick. */
export function memorySpec(runs: readonly CompareRun[]): object {
  const ok = runs.filter((r) => r.result);
  const values = ok.flatMap((r) => MEMORY.map(([k, title], j) => ({ run: r.label, category: title, order: j, gib: r.result!.memory.breakdown_at_peak[k] / 2 ** 30 })));
  const capacity = ok.map((r) => ({ run: r.label, gib: r.result!.memory.capacity_bytes / 2 ** 30, fits: r.result!.memory.fits ? 'fits' : 'OOM' }));
  const y = { field: 'run', type: 'nominal', sort: ok.map((r) => r.label), title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Peak memory per GPU by category', subtitle: 'allocated at the peak; black tick: GPU memory' },
    width: 520,
    height: { step: 34 },
    layer: [
      {
        data: { values },
        mark: { type: 'bar' },
        encoding: {
          y,
          x: { field: 'gib', type: 'quantitative', stack: 'zero', title: 'GiB' },
          color: { field: 'category', type: 'nominal', sort: MEMORY.map(([, t]) => t), scale: { domain: MEMORY.map(([, t]) => t), scheme: 'tableau10' }, title: null, legend: { orient: 'bottom', columns: 3 } },
          order: { field: 'order', type: 'quantitative' },
        },
      },
      {
        data: { values: capacity },
        mark: { type: 'tick', color: 'black', opacity: 1, thickness: 2, size: 28 },
        encoding: { y, x: { field: 'gib', type: 'quantitative' } },
      },
    ],
    config: CONFIG,
  };
}
