import type { SimulationRun } from '../../pipeline/simulate.ts';
import { MEMORY_CATEGORIES, memorySeries, type MemoryPoint } from '../../metrics/memory-series.ts';
import { CHART_WIDTH, GIB, MEMORY_COLORS, VEGA_LITE_SCHEMA, chartConfig, colorScale, memoryCategoryName } from './theme.ts';

/**
 * About one point per pixel of a 900 px chart; beyond this, each bucket keeps its highest point, so the
 * peak is always drawn.
 */
const MAX_POINTS = 1000;

function thin(points: readonly MemoryPoint[]): readonly MemoryPoint[] {
  if (points.length <= MAX_POINTS) return points;
  const per = Math.ceil(points.length / MAX_POINTS);
  const out: MemoryPoint[] = [];
  for (let i = 0; i < points.length; i += per) {
    let best = points[i]!;
    for (let j = i + 1; j < Math.min(points.length, i + per); j++) if (points[j]!.totalBytes > best.totalBytes) best = points[j]!;
    out.push({ ...best, time: points[i]!.time });
  }
  return out;
}

/** The rank whose allocated memory peaks highest (the one the memory verdict is about). */
export function memoryRank(run: SimulationRun): number {
  let rank = run.plan.ranks[0] ?? 0;
  let peak = -1;
  for (const [r, m] of run.timeline.memory) if (m.peakBytes > peak) [rank, peak] = [r, m.peakBytes];
  return rank;
}

interface MemoryRow {
  t_ms: number;
  gib: number;
  category: string;
}

type StackedRow = MemoryRow & { gib_start: number; gib_end: number };

/**
 * What the SVG and PNG of `memorySpec` draw: the same chart without the areas' tooltip and aria-label, the
 * areas stacked here, and only the rows that change an area's outline. vega formats every row's tooltip
 * (thousands of rows) only to describe each area by its first row, a label no static image needs.
 */
export function memoryImageSpec(spec: object): object {
  const s = spec as { layer: { mark: object; data: { values: MemoryRow[] }; encoding: Record<string, unknown> }[] };
  const [areas, ...rest] = s.layer;
  const { tooltip: _tooltip, order: _order, y, ...encoding } = areas!.encoding;
  const values = withoutRepeatedSteps(stackedMemoryRows(areas!.data.values));
  return {
    ...spec,
    layer: [
      { ...areas, data: { values }, mark: { ...areas!.mark, aria: false }, encoding: { ...encoding, y: { ...(y as object), field: 'gib_end', stack: null }, y2: { field: 'gib_start' } } },
      ...rest,
    ],
  };
}

/**
 * The rows stacked as vega stacks them (vega-encode `Stack`, offset "zero": per time, in `order`, each area
 * from the running sum to the sum plus its value; every value is ≥ 0), summed in the same order, so vega
 * draws the same SVG from them without running its impute and stack transforms over every row. The rows
 * come grouped by time, in `order` (memorySpec).
 */
export function stackedMemoryRows(rows: readonly MemoryRow[]): StackedRow[] {
  const stacked = new Array<StackedRow>(rows.length);
  let time = Number.NaN;
  let sum = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.t_ms !== time) [time, sum] = [r.t_ms, 0];
    const start = sum;
    sum += r.gib;
    // The field names vega-lite gives a stacked `gib`.
    stacked[i] = { ...r, gib_start: start, gib_end: sum };
  }
  return stacked;
}

/**
 * The areas are drawn step-after (a row's bounds hold until its category's next row): a row whose stacked
 * bounds are its category's previous row's adds only zero-length segments to that area's outline (d3-shape
 * `curveStepAfter`, and step-before back along the lower edge), so it is left out; each category's last row
 * stays, as it ends the area. Same pixels, about half the rows for vega to lay out and resvg to read.
 */
export function withoutRepeatedSteps(rows: readonly StackedRow[]): StackedRow[] {
  const last = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) last.set(rows[i]!.category, i);
  const previous = new Map<string, StackedRow>();
  const kept: StackedRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const p = previous.get(r.category);
    previous.set(r.category, r);
    if (p && p.gib_start === r.gib_start && p.gib_end === r.gib_end && last.get(r.category) !== i) continue;
    kept.push(r);
  }
  return kept;
}

/**
 * Allocated memory over the step, stacked by category, with the GPU's capacity, the reserved estimate
 * the fit check uses, and the peak marked. Needs a run simulated with `recordMemory: true`.
 */
export function memorySpec(run: SimulationRun): object {
  const rank = memoryRank(run);
  // A copy: the series is shared (trace.json reads it too) and gets a closing point here.
  const series = [...thin(memorySeries(run.timeline, rank))];
  const end = run.timeline.makespan;
  if (series.length > 0) series.push({ ...series[series.length - 1]!, time: end });
  // Rounded: ~10 KiB resolution and µs times are more than the chart can show, and keep the spec small.
  const round = (x: number, digits: number) => Number(x.toFixed(digits));
  const timeMs = (p: { time: number }) => round(p.time * 1e3, 3);
  // One point per drawn time, the last state at it: vega-lite stacks the rows of one time, so two points
  // at one time (the closing point when the last sample is at the end) would be drawn as their sum.
  const points: MemoryPoint[] = [];
  for (const p of series) {
    if (points.length > 0 && timeMs(points[points.length - 1]!) === timeMs(p)) points[points.length - 1] = p;
    else points.push(p);
  }
  const present = MEMORY_CATEGORIES.filter((c) => points.some((p) => p.byCategory[c] > 0));
  const values = points.flatMap((p) =>
    present.map((c, i) => ({ t_ms: timeMs(p), category: memoryCategoryName(c), order: i, gib: round(Math.max(0, p.byCategory[c]) / GIB, 5), total_gib: round(p.totalBytes / GIB, 5) })),
  );
  const m = run.result.memory;
  const peak = run.timeline.memory.get(rank);
  const peakGib = (peak?.peakBytes ?? m.peak_bytes) / GIB;
  const peakMs = (peak?.peakTime ?? 0) * 1e3;
  const capacityGib = m.capacity_bytes / GIB;
  const requiredGib = m.required_bytes / GIB;
  const endMs = end * 1e3;
  const peakOnRight = peakMs > endMs / 2;
  const yMax = Math.max(capacityGib, requiredGib, peakGib) * 1.08;
  const xScale = { domain: [0, endMs] };
  const limits = [
    { y: capacityGib, label: `GPU memory: ${capacityGib.toFixed(1)} GiB` },
    { y: requiredGib, label: `reserved estimate + CUDA context at the peak: ${requiredGib.toFixed(1)} GiB` },
  ];
  const yScale = { domain: [0, yMax] };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `Memory on rank ${rank}: allocated by category`,
      subtitle: `Peak ${peakGib.toFixed(1)} GiB allocated; with allocator overhead and the CUDA context ≈ ${requiredGib.toFixed(1)} GiB of ${capacityGib.toFixed(1)} GiB → ${m.fits ? 'fits' : 'does NOT fit (OOM)'}.`,
    },
    width: CHART_WIDTH,
    height: 320,
    layer: [
      {
        data: { values },
        mark: { type: 'area', interpolate: 'step-after' },
        encoding: {
          x: { field: 't_ms', type: 'quantitative', title: 'time since the step started (ms)', scale: xScale },
          y: { field: 'gib', type: 'quantitative', stack: 'zero', title: 'allocated memory (GiB)', scale: yScale },
          color: { field: 'category', type: 'nominal', title: null, scale: colorScale(MEMORY_COLORS, present.map(memoryCategoryName)), legend: { orient: 'bottom', direction: 'horizontal' } },
          order: { field: 'order', type: 'quantitative' },
          tooltip: [
            { field: 'category' },
            { field: 't_ms', title: 'time (ms)', format: '.2f' },
            { field: 'gib', title: 'GiB', format: '.2f' },
            { field: 'total_gib', title: 'total allocated (GiB)', format: '.2f' },
          ],
        },
      },
      {
        // The two limits as dashed lines named in their own legend: text on the lines would collide
        // with the area wherever memory crosses them.
        data: { values: limits },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: {
          y: { field: 'y', type: 'quantitative', scale: yScale },
          color: { field: 'label', type: 'nominal', title: null, scale: { domain: limits.map((l) => l.label), range: ['#d62728', '#555'] }, legend: { orient: 'top', direction: 'horizontal', symbolStrokeWidth: 2, symbolDash: [6, 4], labelLimit: 600 } },
          tooltip: [{ field: 'label' }],
        },
      },
      {
        data: { values: [{ t_ms: peakMs, gib: peakGib, label: `peak ${peakGib.toFixed(1)} GiB at ${peakMs.toFixed(0)} ms` }] },
        layer: [
          { mark: { type: 'point', filled: true, color: 'black', size: 60 }, encoding: { x: { field: 't_ms', type: 'quantitative', scale: xScale }, y: { field: 'gib', type: 'quantitative', scale: yScale } } },
          {
            mark: { type: 'text', align: peakOnRight ? 'right' : 'left', dx: peakOnRight ? -8 : 8, dy: -8, fontSize: 12, fontWeight: 'bold' },
            encoding: { x: { field: 't_ms', type: 'quantitative', scale: xScale }, y: { field: 'gib', type: 'quantitative', scale: yScale }, text: { field: 'label' } },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: chartConfig(),
  };
}
