import { CHART_FONT_STACK } from '../font-family.ts';

/** Shared look of every chart: one font, legible sizes (≥ 11 px), fixed colours per meaning. */

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Plot width in px: fits a 1000 px page and a slide. */
export const CHART_WIDTH = 900;

export function chartConfig(): object {
  return {
    font: CHART_FONT_STACK,
    background: 'white',
    padding: 8,
    title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#444', anchor: 'start', offset: 10 },
    // labelSeparation: keep tick labels apart (vega's overlap check otherwise lets them touch).
    axis: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'bold', labelLimit: 360, labelSeparation: 10, grid: true, gridColor: '#e6e6e6' },
    legend: { labelFontSize: 12, titleFontSize: 12, symbolSize: 140, labelLimit: 260 },
    text: { fontSize: 11 },
    view: { stroke: '#ccc' },
  };
}

/** Timeline categories: compute phases in blues, each collective its own hue, waste in grey and red. */
export const TIMELINE_COLORS: [string, string][] = [
  ['forward', '#4c78a8'],
  ['recompute', '#9ecae9'],
  ['backward', '#1d3c6e'],
  ['expert GEMMs', '#6b6ecf'],
  ['optimizer', '#9d755d'],
  ['AllGather', '#54a24b'],
  ['ReduceScatter', '#f58518'],
  ['AllReduce', '#b279a2'],
  ['Broadcast', '#72b7b2'],
  ['SendRecv', '#eeca3b'],
  ['AllToAll', '#bcbd22'],
  ['host copy', '#ff9da6'],
  ['waiting for peers', '#bab0ac'],
  ['exposed communication', '#e45756'],
];

export const MEMORY_COLORS: [string, string][] = [
  ['parameters', '#4c78a8'],
  ['gradients', '#f58518'],
  ['optimizer states', '#9d755d'],
  ['activations', '#54a24b'],
  ['communication buffers', '#b279a2'],
  ['other', '#bab0ac'],
];

/** Memory categories as the legend shows them. */
export const memoryCategoryName = (c: string) => c.replace(/_/g, ' ');

export const BREAKDOWN_COLORS: [string, string][] = [
  ['compute', '#4c78a8'],
  ['optimizer', '#9d755d'],
  ['exposed communication', '#e45756'],
  ['idle', '#bab0ac'],
];

/** Collective kinds as NCCL and the charts name them. */
export const COLLECTIVE_NAMES: Record<string, string> = {
  all_gather: 'AllGather',
  reduce_scatter: 'ReduceScatter',
  all_reduce: 'AllReduce',
  broadcast: 'Broadcast',
  send_recv: 'SendRecv',
  all_to_all: 'AllToAll',
  copy: 'host copy',
};

export const collectiveName = (kind: string) => COLLECTIVE_NAMES[kind] ?? kind;

/** A colour scale restricted to the categories present, keeping each category's colour. */
export function colorScale(pairs: [string, string][], present?: Iterable<string>): { domain: string[]; range: string[] } {
  const keep = present ? new Set(present) : undefined;
  const used = keep ? pairs.filter(([k]) => keep.has(k)) : pairs;
  return { domain: used.map(([k]) => k), range: used.map(([, c]) => c) };
}

export const GIB = 2 ** 30;
