import { CHART_WIDTH } from '../report/charts/theme.ts';

/**
 * DejaVu Sans (the charts' font, report/charts/theme.ts) averages ~0.6 em per character of English text;
 * subtitles are 12 px and legend labels 11 px there. Only used to decide where a line wraps.
 */
const CHARACTER_EM = 0.6;
const SUBTITLE_PX = 12;
const LEGEND_LABEL_PX = 11;
/** A legend entry's symbol and gap beside its label. */
const LEGEND_SYMBOL_PX = 40;
/** The y axis and its title, left of the plot, that a title may also use. */
const AXIS_PX = 60;

/**
 * The report's specs are CHART_WIDTH wide; a column in A/B mode is narrower. The plot takes `width`, and what
 * is written in one line beside it in the report — the subtitle, a horizontal legend — wraps to fit instead of
 * running out of the column: the subtitle into lines at spaces, a legend into as many columns as its longest
 * label allows.
 */
export function fitWidth(spec: object, width: number): object {
  const narrow = width < CHART_WIDTH;
  const room = width + AXIS_PX;
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (!x || typeof x !== 'object') return x;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      if (k === 'width' && v === CHART_WIDTH) out[k] = width;
      else if (narrow && k === 'subtitle' && typeof v === 'string') out[k] = wrapLines(v, Math.floor(room / (CHARACTER_EM * SUBTITLE_PX)));
      else out[k] = walk(v);
    }
    const legend = out.legend as Record<string, unknown> | undefined;
    const domain = (out.scale as { domain?: unknown } | undefined)?.domain;
    if (narrow && legend && typeof legend === 'object' && legend.direction === 'horizontal' && Array.isArray(domain)) {
      const longest = Math.max(...domain.map((d) => String(d).length));
      const columnPx = longest * CHARACTER_EM * LEGEND_LABEL_PX + LEGEND_SYMBOL_PX;
      out.legend = { ...legend, columns: Math.max(1, Math.min(domain.length, Math.floor(room / columnPx))), labelLimit: room - LEGEND_SYMBOL_PX };
    }
    return out;
  };
  return walk(spec) as object;
}

/** Words into lines of at most `chars` characters (a longer word gets a line of its own). */
export function wrapLines(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
