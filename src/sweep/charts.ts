import { CHART_FONT_STACK } from '../report/fonts.ts';
import { HARDWARE_KEY, NODES_KEY } from './grid.ts';
import { isSimulated, paretoFront, type SimulatedRow } from './rank.ts';
import { abbreviatedKeyNames, shortKeyNames } from './table.ts';
import type { Scalar, SweepRow } from './types.ts';

/** Vega-Lite specs for sweeps. Pure: rows in, spec out; rendering is report/render.ts's job. */

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const BASE_CONFIG = { font: CHART_FONT_STACK, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14, subtitleFontSize: 11 } };

/** A row's value of any axis key, hardware and nodes included. */
export function axisValue(r: SweepRow, key: string): Scalar | undefined {
  if (key === HARDWARE_KEY) return r.hardware;
  if (key === NODES_KEY) return r.nodes;
  return r.values[key];
}

/** Axis titles: the two simulation axes by their flag names. */
const title = (key: string) => (key === HARDWARE_KEY ? 'hardware' : key === NODES_KEY ? 'nodes' : key);

/** Keys whose values differ across rows, in axis order (hardware, nodes, then the varied keys). */
export function variedKeys(keys: readonly string[], rows: readonly SweepRow[]): string[] {
  return [HARDWARE_KEY, NODES_KEY, ...keys].filter((k) => new Set(rows.map((r) => JSON.stringify(axisValue(r, k)))).size > 1);
}

/** Distinct values of a key in grid order (the order the user listed them, for a full grid). */
function orderedValues(rows: readonly SweepRow[], key: string): string[] {
  const seen: string[] = [];
  for (const r of [...rows].sort((a, b) => a.index - b.index)) {
    const v = String(axisValue(r, key));
    if (!seen.includes(v)) seen.push(v);
  }
  return seen;
}

/** "tp=2 mbs=4 ga=8": a config in a few characters, for chart labels. */
export function compactLabel(r: SweepRow, keys: readonly string[]): string {
  const names = abbreviatedKeyNames(keys);
  return keys.map((k, i) => `${names[i]}=${String(axisValue(r, k))}`).join(' ');
}

const OOM_TEXT = '#b00020';
const SKIPPED_TEXT = '#666666';

export interface HeatCell {
  x: string;
  y: string;
  state: 'fits' | 'OOM' | 'skipped';
  tokens_per_s_per_gpu: number | null;
  label: string;
  text_color: string;
}

/**
 * One cell per (x, y) pair: the best config that fits over every other varied key (by tokens/s per GPU);
 * OOM when configs ran but none fits; skipped when none could be simulated.
 */
export function heatmapCells(rows: readonly SweepRow[], xKey: string, yKey: string | undefined): HeatCell[] {
  const xs = orderedValues(rows, xKey);
  const ys = yKey ? orderedValues(rows, yKey) : [''];
  const cells: HeatCell[] = [];
  for (const y of ys) {
    for (const x of xs) {
      const here = rows.filter((r) => String(axisValue(r, xKey)) === x && (!yKey || String(axisValue(r, yKey)) === y));
      const sim = here.filter(isSimulated);
      const fit = sim.filter((r) => r.metrics.fits);
      if (fit.length > 0) {
        const v = Math.max(...fit.map((r) => r.metrics.tokens_per_s_per_gpu));
        cells.push({ x, y, state: 'fits', tokens_per_s_per_gpu: v, label: Math.round(v).toLocaleString('en-US'), text_color: 'black' });
      } else if (sim.length > 0) {
        cells.push({ x, y, state: 'OOM', tokens_per_s_per_gpu: null, label: 'OOM', text_color: OOM_TEXT });
      } else if (here.length > 0) {
        cells.push({ x, y, state: 'skipped', tokens_per_s_per_gpu: null, label: 'skipped', text_color: SKIPPED_TEXT });
      }
    }
  }
  // viridis is dark below about the middle of its domain: white text there, black on the light end.
  const [lo, hi] = colorDomain(cells);
  for (const c of cells) if (c.tokens_per_s_per_gpu !== null && (c.tokens_per_s_per_gpu - lo) / (hi - lo) < 0.55) c.text_color = 'white';
  return cells;
}

/** Below this spread the colours would exaggerate noise-sized differences. */
const MIN_COLOR_SPREAD = 0.1;

/**
 * The colour scale's domain: from the lowest to the highest value, but at least 10 % of the highest
 * wide, so that 777.2 against 777.5 tokens/s is not drawn as dark against light.
 */
function colorDomain(cells: readonly HeatCell[]): [number, number] {
  const vs = cells.map((c) => c.tokens_per_s_per_gpu).filter((v): v is number => v !== null);
  if (vs.length === 0) return [0, 1];
  const hi = Math.max(...vs);
  const lo = Math.min(Math.min(...vs), hi * (1 - MIN_COLOR_SPREAD));
  return [lo, hi];
}

export function heatmapSpec(rows: readonly SweepRow[], keys: readonly string[], xKey: string, yKey: string | undefined, base: string): object {
  const cells = heatmapCells(rows, xKey, yKey);
  const xs = orderedValues(rows, xKey);
  const ys = yKey ? orderedValues(rows, yKey) : [''];
  const others = variedKeys(keys, rows).filter((k) => k !== xKey && k !== yKey);
  const subtitle = others.length > 0
    ? [`each cell: the best config that fits over ${shortKeyNames(others).join(', ')}`, 'grey OOM: simulated, none fits in GPU memory · grey skipped: not simulated (invalid or not yet supported)']
    : ['grey OOM: does not fit in GPU memory · grey skipped: not simulated (invalid or not yet supported)'];
  return {
    $schema: SCHEMA,
    title: { text: `${base}: tokens/s per GPU`, subtitle },
    width: Math.max(260, 80 * xs.length),
    height: Math.max(140, 44 * ys.length),
    data: { values: cells },
    encoding: {
      x: { field: 'x', type: 'ordinal', sort: xs, title: title(xKey), axis: { labelAngle: 0 } },
      y: { field: 'y', type: 'ordinal', sort: ys, title: yKey ? title(yKey) : null, ...(yKey ? {} : { axis: null }) },
    },
    layer: [
      {
        transform: [{ filter: "datum.state === 'fits'" }],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: { color: { field: 'tokens_per_s_per_gpu', type: 'quantitative', title: 'tokens/s/GPU', scale: { scheme: 'viridis', domain: colorDomain(cells) } } },
      },
      {
        transform: [{ filter: "datum.state !== 'fits'" }],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: { color: { value: '#e6e6e6' } },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        // A value per cell through conditions, not a color field: a second (nominal) color scale in the
        // same layer stack makes vega-lite try to merge it with the quantitative one and fail.
        encoding: {
          text: { field: 'label' },
          color: { condition: [{ test: "datum.text_color === 'white'", value: 'white' }, { test: "datum.state === 'OOM'", value: OOM_TEXT }, { test: "datum.state === 'skipped'", value: SKIPPED_TEXT }], value: 'black' },
        },
      },
    ],
    config: BASE_CONFIG,
  };
}

/**
 * Throughput against cost per million tokens for every config that fits, coloured by peak memory, with
 * the Pareto front (nothing else is both cheaper and faster) drawn as a line and labelled.
 */
export function paretoSpec(rows: readonly SweepRow[], keys: readonly string[], base: string): object {
  // Label points by the keys that differ among the plotted configs only.
  const varied = variedKeys(keys, rows.filter((r) => r.metrics?.fits));
  const front = new Set(paretoFront(rows).map((r) => r.index));
  const point = (r: SimulatedRow) => ({
    index: r.index,
    usd_per_million_tokens: r.metrics.usd_per_million_tokens,
    tokens_per_s: r.metrics.tokens_per_s,
    peak_gib: r.metrics.peak_bytes / 2 ** 30,
    front: front.has(r.index),
    label: compactLabel(r, varied),
  });
  const points = rows.filter(isSimulated).filter((r) => r.metrics.fits).map(point);
  const frontPoints = points.filter((p) => p.front).sort((a, b) => a.usd_per_million_tokens - b.usd_per_million_tokens);
  const labelFront = frontPoints.length <= 12;
  return {
    $schema: SCHEMA,
    title: { text: `${base}: throughput vs cost`, subtitle: [`${points.length} configs that fit; line: Pareto front (${frontPoints.length}), nothing is both cheaper and faster`] },
    width: 560,
    height: 360,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
        encoding: {
          x: { field: 'usd_per_million_tokens', type: 'quantitative', title: '$ per million tokens', scale: { zero: false, padding: 16 } },
          y: { field: 'tokens_per_s', type: 'quantitative', title: 'tokens/s (whole job)', scale: { zero: false, padding: 16 } },
          color: { field: 'peak_gib', type: 'quantitative', title: 'peak GiB/GPU', scale: { scheme: 'plasma' } },
        },
      },
      {
        data: { values: frontPoints },
        mark: { type: 'line', color: '#222222', strokeWidth: 1.5, point: { color: '#222222', size: 20 } },
        encoding: {
          x: { field: 'usd_per_million_tokens', type: 'quantitative' },
          y: { field: 'tokens_per_s', type: 'quantitative' },
          order: { field: 'usd_per_million_tokens' },
        },
      },
      ...(labelFront && frontPoints.length > 0
        ? [{
            data: { values: frontPoints },
            mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10, color: '#222222' },
            encoding: {
              x: { field: 'usd_per_million_tokens', type: 'quantitative' },
              y: { field: 'tokens_per_s', type: 'quantitative' },
              text: { field: 'label' },
            },
          }]
        : []),
    ],
    config: BASE_CONFIG,
  };
}
