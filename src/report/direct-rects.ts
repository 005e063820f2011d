/**
 * Rect marks written straight into vega's SVG, for a mark with too many items for vega's dataflow (the
 * timeline image's thousands of bars): the spec keeps the mark with empty data, so vega lays out and
 * draws everything else (scales, axes, legend, titles, the mark's empty group), and the rects are
 * written into that group as vega would have written them. No file system: the specs also build in the
 * browser.
 *
 * The mark is drawn unclipped and its rects are clipped here instead, to the x scale's range: a clipped
 * group costs resvg a canvas-sized layer and mask per group (~30% of the 70B timeline's render time and
 * ~25 MB of fresh pages). The pixels match vega's clipped drawing to within 2 levels of 255 at bar edges
 * (the layer's premultiplied compositing rounds differently); test/report/direct-rects.test.ts pins that.
 */
export interface DirectRects {
  /** The vega mark whose (empty) group receives the rects, e.g. `concat_0_layer_0_marks`. */
  mark: string;
  /** Scale names in the compiled vega spec: x linear, y band, colour ordinal. */
  xScale: string;
  yScale: string;
  colorScale: string;
  /** One bar each, in drawing order: band `y`, from `x` to `x2`, filled with the colour of `color`. */
  rows: readonly { y: string; x: number; x2: number; color: string }[];
}

export interface DirectScales {
  x: ((v: number) => number) & { range(): number[] };
  y: ((v: string) => number) & { bandwidth(): number };
  color: (v: string) => string;
}

/** vega-lite's bar height on a band scale: `max(0.25, bandwidth(y))` (vega-lite `compile/mark/encode/position-rect`). */
const MIN_BAR_HEIGHT_PX = 0.25;

/**
 * The `<path>` elements vega writes for these rects: the encoding vega-lite compiles a ranged bar to
 * (x, x2, y, height) resolved as vega-encode does (`width = x2 − x`), drawn by vega-scenegraph's
 * `rectangle` through d3-path's `rect` (`M x,y h w v h h −w Z`, numbers unrounded).
 */
export function directRectPaths(rows: DirectRects['rows'], scales: DirectScales): string {
  const h = Math.max(MIN_BAR_HEIGHT_PX, scales.y.bandwidth());
  const [lo, hi] = scales.x.range() as [number, number];
  const fills = new Map<string, string>();
  let out = '';
  for (const r of rows) {
    let x = scales.x(r.x);
    let x2 = scales.x(r.x2);
    // Clipped to the plot as the clip path did: what lies wholly outside is not drawn.
    if (x2 < lo || x > hi) continue;
    if (x < lo) x = lo;
    if (x2 > hi) x2 = hi;
    const w = x2 - x;
    let fill = fills.get(r.color);
    if (fill === undefined) fills.set(r.color, (fill = scales.color(r.color)));
    out += `<path d="M${x},${scales.y(r.y)}h${w}v${h}h${-w}Z" fill="${fill}"/>`;
  }
  return out;
}

/** `svg` with each mark's empty group (`<g class="mark-rect role-mark NAME" …/>`) filled with its rects. */
export function injectDirectRects(svg: string, groups: { mark: string; paths: string }[]): string {
  let out = svg;
  for (const { mark, paths } of groups) {
    const open = `<g class="mark-rect role-mark ${mark}"`;
    const at = out.indexOf(open);
    const close = at < 0 ? -1 : out.indexOf('>', at);
    if (close < 0 || out[close - 1] !== '/') throw new Error(`direct rects: vega drew no empty group for mark ${mark}`);
    out = `${out.slice(0, close - 1)}>${paths}</g>${out.slice(close + 1)}`;
  }
  return out;
}
