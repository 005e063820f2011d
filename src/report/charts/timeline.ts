import type { SimulationRun } from '../../pipeline/simulate.ts';
import type { Span } from '../../engine/index.ts';
import type { OpTag } from '../../strategy/index.ts';
import { exposedIntervals } from '../../metrics/exposure.ts';
import { slowestRank } from '../../metrics/activity.ts';
import { spansOf } from '../../metrics/spans.ts';
import { bytesHuman } from '../format.ts';
import { streamRank, streamView } from '../streams.ts';
import { opName } from '../names.ts';
import { opMemo } from '../op-memo.ts';
import { grouped, seconds } from '../format.ts';
import type { DirectRects } from '../direct-rects.ts';
import { CHART_WIDTH, TIMELINE_COLORS, VEGA_LITE_SCHEMA, chartConfig, colorScale, collectiveName } from './theme.ts';

/** One bar of the Gantt chart. */
export interface TimelineBar {
  lane: string;
  category: string;
  start_ms: number;
  end_ms: number;
  duration_ms: number;
  op: string;
  detail: string;
}

/** Ranks drawn: rank 0, plus the slowest rank when ranks were simulated separately. */
export function timelineRanks(run: SimulationRun): number[] {
  const ranks = run.plan.ranks;
  if (ranks.length <= 1) return [ranks[0] ?? 0];
  const slow = slowestRank(run.timeline, ranks);
  return slow === ranks[0] ? [ranks[0]!] : [ranks[0]!, slow];
}

const ms = (s: number) => s * 1e3;
const fmtMs = (s: number) => grouped(ms(s), ms(s) >= 100 ? 0 : 1);

// The local experts' grouped GEMMs under expert parallelism (strategy/ep-schedule.ts labels them "layer i experts").
const category = (t: OpTag) => (t.kind === 'compute' ? (t.label.endsWith(' experts') || t.label.includes(' experts ') ? 'expert GEMMs' : t.phase) : collectiveName(t.kind));

/** What every bar of one op (kind, phase, label) shares, for the tag it was written for. */
interface OpBarText {
  tag: OpTag;
  category: string;
  op: string;
  /** The detail after "micro-batch m": " · layer l · S = …, sent … (algorithm, n GPUs) · x TFLOP". */
  detailTail: string;
}

/**
 * A bar's category, op name and tooltip detail ("micro-batch m · layer l · S = …, sent … (algorithm, n
 * GPUs) · x TFLOP"). A step repeats each op over micro-batches, thousands of bars from a few hundred ops:
 * the text is written once per op and reused while the op's layer, payload and FLOPs are the same.
 */
function barTextWriter(): (t: OpTag) => OpBarText {
  return opMemo(
    (t) => {
      let tail = '';
      if (t.layer !== undefined) tail += ` · layer ${t.layer}`;
      if (t.bytes !== undefined) tail += ` · S = ${bytesHuman(t.bytes)}, sent ${bytesHuman(t.wireBytes ?? 0)} (${t.algorithm ?? '?'}, ${t.groupSize ?? 1} GPUs)`;
      if (t.flops !== undefined) tail += ` · ${(t.flops / 1e12).toFixed(2)} TFLOP`;
      return { tag: t, category: category(t), op: opName(t), detailTail: tail };
    },
    ({ tag: a }, b) => a.layer === b.layer && a.bytes === b.bytes && a.wireBytes === b.wireBytes && a.algorithm === b.algorithm && a.groupSize === b.groupSize && a.flops === b.flops,
  );
}

/** The bars: kernels per (rank, stream), time waiting for late peers, and exposed-communication lanes. */
export function timelineBars(run: SimulationRun, ranks = timelineRanks(run)): { bars: TimelineBar[]; lanes: string[] } {
  const bars: TimelineBar[] = [];
  const lanes: string[] = [];
  const text = barTextWriter();
  for (const rank of ranks) {
    const spans = spansOf(run.timeline, rank);
    const streams = [...new Set(spans.map((s) => s.stream))].sort((a, b) => streamRank(a) - streamRank(b));
    const laneOf = new Map(streams.map((st) => {
      const v = streamView(st);
      return [st, `rank ${rank} · ${v.label} (stream ${v.id})`];
    }));
    lanes.push(...laneOf.values());
    const exposedLane = `rank ${rank} · exposed communication`;
    // One GPU has no collectives: no exposed lane.
    if (streams.length > 1) lanes.push(exposedLane);
    for (const s of spans as Span<OpTag>[]) {
      const lane = laneOf.get(s.stream)!;
      const e = text(s.tag);
      const detail = `micro-batch ${s.tag.microBatch}${e.detailTail}`;
      if (s.workStart > s.start) {
        bars.push({ lane, category: 'waiting for peers', start_ms: ms(s.start), end_ms: ms(s.workStart), duration_ms: ms(s.workStart - s.start), op: `${e.op}: waiting for the last rank to arrive`, detail });
      }
      if (s.end <= s.workStart) continue;
      bars.push({ lane, category: e.category, start_ms: ms(s.workStart), end_ms: ms(s.end), duration_ms: ms(s.end - s.workStart), op: e.op, detail });
    }
    for (const [a, b] of exposedIntervals(run.timeline, rank)) {
      bars.push({ lane: exposedLane, category: 'exposed communication', start_ms: ms(a), end_ms: ms(b), duration_ms: ms(b - a), op: 'communication while the compute stream is idle', detail: `rank ${rank}` });
    }
  }
  return { bars, lanes };
}

/**
 * The bars of a static, whole-step panel drawn `columns` pixels wide from `t0Ms` to `t1Ms`, with the same
 * pixels as the full bars: a rasteriser fills a pixel in proportion to the area a bar covers, so within
 * each pixel column of a lane every category's covered time is laid out as one sub-bar of that width,
 * side by side, and sub-bars that touch across columns join. A 16-GPU step has tens of thousands of
 * sub-pixel kernels; vega and resvg pay per mark, so this keeps the image at most a few marks per pixel
 * column. Tooltips only exist in report.html, which draws the full bars.
 */
export function coalesceBars(bars: readonly TimelineBar[], t0Ms: number, t1Ms: number, columns: number): TimelineBar[] {
  const width = (t1Ms - t0Ms) / columns;
  if (!(width > 0)) return [...bars];
  // Covered ms per (lane, category, column), categories in order of first appearance.
  const lanes = new Map<string, Map<string, { first: TimelineBar; cover: Float64Array }>>();
  for (const b of bars) {
    let cats = lanes.get(b.lane);
    if (!cats) lanes.set(b.lane, (cats = new Map()));
    let c = cats.get(b.category);
    if (!c) cats.set(b.category, (c = { first: b, cover: new Float64Array(columns) }));
    const a = Math.max(b.start_ms, t0Ms);
    const z = Math.min(b.end_ms, t1Ms);
    if (!(z > a)) continue;
    const ca = Math.min(columns - 1, Math.floor((a - t0Ms) / width));
    const cz = Math.min(columns - 1, Math.floor((z - t0Ms) / width));
    for (let col = ca; col <= cz; col++) {
      const lo = Math.max(a, t0Ms + col * width);
      const hi = Math.min(z, t0Ms + (col + 1) * width);
      if (hi > lo) c.cover[col]! += hi - lo;
    }
  }
  const out: TimelineBar[] = [];
  for (const [lane, byCategory] of lanes) {
    let last: TimelineBar | undefined;
    // An array, read by index in the column loop (a Map's entries are an allocation per step).
    const cats = [...byCategory];
    for (let col = 0; col < columns; col++) {
      let x = t0Ms + col * width;
      for (let k = 0; k < cats.length; k++) {
        const category = cats[k]![0];
        const c = cats[k]![1];
        const w = Math.min(c.cover[col]!, t0Ms + (col + 1) * width - x);
        if (!(w > 0)) continue;
        // Touching the previous sub-bar of the same category (within float error): one bar.
        if (last && last.category === category && Math.abs(last.end_ms - x) <= width * 1e-9) {
          last.end_ms = x + w;
          last.duration_ms = last.end_ms - last.start_ms;
        } else {
          last = { lane, category, start_ms: x, end_ms: x + w, duration_ms: w, op: c.first.op, detail: c.first.detail };
          out.push(last);
        }
        x += w;
      }
    }
  }
  return out;
}

/** The ▼ marker's area (vega `size`, px²) and its width: an equilateral triangle of that area. */
const MARKER_AREA_PX2 = 70;
const MARKER_WIDTH_PX = Math.ceil(Math.sqrt((4 * MARKER_AREA_PX2) / Math.sqrt(3)));

/**
 * The ▼ markers of a static whole-step panel: the first exposed interval starting in each `msPerPixel`-wide
 * column (a marker's own width, so markers never merge into a band that hides how many there are).
 */
export function exposedMarkers(bars: readonly TimelineBar[], msPerPixel: number): TimelineBar[] {
  const seen = new Set<string>();
  const out: TimelineBar[] = [];
  for (const b of bars) {
    if (b.category !== 'exposed communication') continue;
    const key = `${b.lane}|${Math.floor(b.start_ms / msPerPixel)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(b);
  }
  return out;
}

/** Compute kernels and collectives a zoom window spans at least. */
const ZOOM_KERNELS = 4;
const ZOOM_COLLECTIVES = 3;

/**
 * The two moments where communication is hardest to hide, as [start, end] in seconds. `first`: where
 * communication starts (the step's start under FSDP, the final micro-batch's backward under DDP), over
 * at least a few kernels and a few collectives. `last`: the last few compute kernels through the
 * optimizer step. At full-step scale a collective is a hairline; these make them readable.
 */
export function zoomWindows(run: SimulationRun, rank: number): { first: [number, number]; last: [number, number] } {
  const end = run.timeline.makespan;
  const mine = [...spansOf(run.timeline, rank)].sort((a, b) => a.workStart - b.workStart);
  const compute = mine.filter((s) => s.tag.kind === 'compute');
  const comm = mine.filter((s) => s.tag.kind !== 'compute' && s.tag.kind !== 'optimizer' && s.end > s.workStart);
  const firstComm = comm[0];
  let t0 = 0;
  if (firstComm) {
    const running = compute.filter((s) => s.workStart <= firstComm.workStart);
    t0 = Math.min(firstComm.workStart, running[running.length - 1]?.workStart ?? 0);
  }
  const after = compute.filter((s) => s.workStart >= t0);
  const commAfter = comm.filter((s) => s.workStart >= t0);
  const t1 = Math.max(after[Math.min(after.length, ZOOM_KERNELS) - 1]?.end ?? 0, commAfter[Math.min(commAfter.length, ZOOM_COLLECTIVES) - 1]?.end ?? 0);
  // With checkpointing each layer's backward is a recompute and a backward kernel.
  const tail = compute[Math.max(0, compute.length - 2 * ZOOM_KERNELS)];
  return {
    first: [t0, t1 > t0 ? t1 : Math.min(end, t0 + end * 0.05)],
    last: [tail ? tail.workStart : end * 0.95, end],
  };
}

/**
 * Gantt chart of the step: one lane per CUDA stream per rank, colour by kind, x in ms. Three panels:
 * the whole step (exposed intervals marked with triangles), then zooms on its start and its end.
 * In report.html each panel pans and zooms.
 */
export function timelineSpec(run: SimulationRun, opts: { staticImage?: boolean } = {}): object {
  return timelineSpecFrom(run, timelineInputs(run), opts);
}

/** What both timeline specs draw (the bars are the costly part: built once for both). */
interface TimelineInputs {
  ranks: number[];
  bars: TimelineBar[];
  lanes: string[];
  windows: { first: [number, number]; last: [number, number] };
}

function timelineInputs(run: SimulationRun): TimelineInputs {
  const ranks = timelineRanks(run);
  return { ranks, ...timelineBars(run, ranks), windows: zoomWindows(run, ranks[0]!) };
}

/**
 * The report's two timeline specs from one set of bars: `spec` (interactive, report.html and .vl.json) and
 * `image` (what the SVG/PNG draw). The image's bars are not vega data: each panel's bar layer is empty in
 * `image.spec` and its bars come as `image.rects`, which the renderer writes straight into that mark's
 * SVG group as vega would (render.ts `DirectRects`). Vega's dataflow costs per item and a 16-GPU step has
 * thousands of bars; axes, legend, titles and the ▼ markers stay vega's, so the image looks the same.
 */
export function timelineSpecs(run: SimulationRun): { spec: object; image: { spec: object; rects: DirectRects[] } } {
  const inputs = timelineInputs(run);
  const rects: DirectRects[] = [];
  const spec = timelineSpecFrom(run, inputs, {});
  const image = timelineSpecFrom(run, inputs, {
    staticImage: true,
    directBars: (index, bars) => {
      rects.push({ mark: `concat_${index}_layer_0_marks`, xScale: `concat_${index}_x`, yScale: `concat_${index}_y`, colorScale: 'color', rows: bars.map((b) => ({ y: b.lane, x: b.start_ms, x2: b.end_ms, color: b.category })) });
      return [];
    },
  });
  return { spec, image: { spec: image, rects } };
}

/** The bar fields report.html reads, in the order a bar object lists them. */
const BAR_FIELDS = ['lane', 'category', 'start_ms', 'end_ms', 'duration_ms', 'op', 'detail'] as const;

/**
 * The interactive spec's bars as one object of columns, which vega-lite's `flatten` transform turns back
 * into a row per bar, with lanes and categories as numbers into their names: a 16-GPU 70B step's
 * timeline.vl.json is 3.8 MB instead of 6.8 MB with an object per bar (report.html carries it too), and
 * the rows vega draws are the same.
 */
function barColumns(bars: readonly TimelineBar[]): { data: { values: object[] }; transform: object[] } {
  const named = (field: 'lane' | 'category') => {
    const names: string[] = [];
    const ids = new Map<string, number>();
    const column = bars.map((b) => {
      let id = ids.get(b[field]);
      if (id === undefined) ids.set(b[field], (id = names.push(b[field]) - 1));
      return id;
    });
    return { column, calculate: { calculate: `${JSON.stringify(names)}[datum.${field}_id]`, as: field } };
  };
  const lane = named('lane');
  const category = named('category');
  const columns: Record<string, unknown[]> = { lane_id: lane.column, category_id: category.column };
  for (const f of BAR_FIELDS) if (f !== 'lane' && f !== 'category') columns[f] = bars.map((b) => b[f]);
  return { data: { values: [columns] }, transform: [{ flatten: Object.keys(columns) }, lane.calculate, category.calculate] };
}

function timelineSpecFrom(
  run: SimulationRun,
  { ranks, bars, lanes, windows }: TimelineInputs,
  opts: { staticImage?: boolean; directBars?: (panelIndex: number, bars: TimelineBar[]) => TimelineBar[] },
): object {
  const r = run.result;
  const who = ranks.length > 1 ? `rank ${ranks[0]} and the slowest rank, ${ranks[1]}` : `rank ${ranks[0]}`;
  const communicates = run.timeline.spans.some((s) => s.tag.kind !== 'compute' && s.tag.kind !== 'optimizer');
  const setup = r.world_size === 1 ? 'One GPU' : `${r.strategy.toUpperCase()} on ${r.world_size} GPUs`;
  const laneHeight = 26;
  const span = ([a, b]: [number, number]) => `${fmtMs(a)}–${fmtMs(b)} ms`;
  const color = {
    field: 'category',
    type: 'nominal',
    title: null,
    scale: colorScale(TIMELINE_COLORS, new Set(bars.map((b) => b.category))),
    legend: { orient: 'bottom', direction: 'horizontal', columns: 6 },
  };
  const tooltip = [
    { field: 'op', title: 'op' },
    { field: 'lane', title: 'stream' },
    { field: 'start_ms', title: 'start (ms)', format: '.3f' },
    { field: 'duration_ms', title: 'duration (ms)', format: '.3f' },
    { field: 'detail', title: 'detail' },
  ];
  const panel = (index: number, name: string, title: string, [a, b]: [number, number], whole: boolean) => {
    const x = { field: 'start_ms', type: 'quantitative', title: 'time since the step started (ms)', scale: { domain: [ms(a), ms(b)], nice: false } };
    // Every panel lists every lane, even if its window has no bar on it, so the panels line up.
    const y = { field: 'lane', type: 'nominal', sort: lanes, title: null, scale: { domain: lanes } };
    // A zoom keeps the bars of its window and one window-width either side (room to pan in the HTML);
    // drawing all of them, clipped, triples the SVG and the render time.
    const margin = ms(b - a);
    const keep = whole ? [] : [{ filter: `datum.end_ms >= ${ms(a) - margin} && datum.start_ms <= ${ms(b) + margin}` }];
    // A static image has no pan or zoom: each panel draws only what it shows, at its own resolution.
    const drawn = () => (whole ? coalesceBars(bars, ms(a), ms(b), CHART_WIDTH) : bars.filter((x) => x.end_ms >= ms(a) - margin && x.start_ms <= ms(b) + margin));
    const own = opts.staticImage ? { data: { values: opts.directBars ? opts.directBars(index, drawn()) : drawn() } } : {};
    return {
      ...own,
      title: { text: title, fontSize: 13 },
      transform: opts.staticImage ? [] : keep,
      width: CHART_WIDTH,
      height: { step: laneHeight },
      layer: [
        {
          // A static image has no hover and no pan: no tooltip, no per-bar aria-label (a few hundred bytes
          // for each of thousands of bars, most of the SVG and of its render time), no scale binding.
          ...(opts.staticImage ? {} : { params: [{ name, select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }] }),
          // Direct bars are clipped as they are written (direct-rects.ts), so their group needs no clip path.
          mark: { type: 'bar', clip: !opts.directBars, ...(opts.staticImage ? { aria: false } : {}) },
          encoding: { y, x, x2: { field: 'end_ms' }, color, ...(opts.staticImage ? {} : { tooltip }) },
        },
        ...(whole
          ? [{
              transform: [{ filter: "datum.category === 'exposed communication'" }],
              ...(opts.staticImage ? { data: { values: exposedMarkers(bars, (MARKER_WIDTH_PX * ms(b - a)) / CHART_WIDTH) } } : {}),
            mark: { type: 'point', shape: 'triangle-down', filled: true, size: MARKER_AREA_PX2, opacity: 1, clip: true, yOffset: -6, ...(opts.staticImage ? { aria: false } : {}) },
              encoding: { y, x, color, ...(opts.staticImage ? {} : { tooltip }) },
            }]
          : []),
      ],
    };
  };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `Step timeline: ${r.scenario} (${who})`,
      subtitle: [
        `${setup}, step ${seconds(r.step_time_s)}. One lane per CUDA stream${communicates ? '; the red lane is communication while the compute stream is idle (exposed)' : ''}.`,
        'In report.html: drag to pan, scroll to zoom, hover a bar for its layer, micro-batch and bytes.',
      ],
    },
    ...(opts.staticImage ? {} : barColumns(bars)),
    vconcat: [
      panel(0, 'zoom_step', communicates ? 'The whole step (▼ marks exposed communication)' : 'The whole step', [0, run.timeline.makespan], true),
      panel(1, 'zoom_first', `Zoom: ${communicates ? 'where communication starts' : 'the start of the step'} (${span(windows.first)})`, windows.first, false),
      panel(2, 'zoom_last', `Zoom: the end of backward and the optimizer step (${span(windows.last)})`, windows.last, false),
    ],
    spacing: 24,
    config: chartConfig(),
  };
}
