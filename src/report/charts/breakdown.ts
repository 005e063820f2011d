import type { SimulationResult } from '../../metrics/result.ts';
import { seconds } from '../format.ts';
import { BREAKDOWN_COLORS, CHART_WIDTH, VEGA_LITE_SCHEMA, chartConfig, colorScale } from './theme.ts';

/** A run as the comparison charts see it: a name and its result (`compare` passes several). */
export interface NamedResult {
  name: string;
  result: SimulationResult;
}

const COMPONENTS: [keyof SimulationResult['time_breakdown_s'], string][] = [
  ['compute', 'compute'],
  ['optimizer', 'optimizer'],
  ['exposed_communication', 'exposed communication'],
  ['idle', 'idle'],
];

/** Room the x axis leaves right of the longest bar for its total. */
const X_HEADROOM = 1.12;
/** A generous average advance of DejaVu Sans Bold at 12 px, to decide whether a label fits its segment. */
const LABEL_PX_PER_CHAR = 8;

/** "compute 97.1%" if it fits in the segment, else "97.1%", else nothing: labels never overflow. */
function segmentLabel(component: string, share: number, widthPx: number): string {
  const pct = `${(100 * share).toFixed(1)}%`;
  const long = `${component} ${pct}`;
  if (widthPx >= (long.length + 2) * LABEL_PX_PER_CHAR) return long;
  if (widthPx >= (pct.length + 2) * LABEL_PX_PER_CHAR) return pct;
  return '';
}

/**
 * Where the step time goes, one horizontal stacked bar per run: compute, optimizer, exposed
 * communication and idle (the slowest simulated rank's breakdown, as in the result).
 */
export function stepBreakdownSpec(runs: NamedResult[]): object {
  const maxSeconds = Math.max(1e-12, ...runs.map((r) => r.result.step_time_s));
  const pxPerSecond = CHART_WIDTH / (maxSeconds * X_HEADROOM);
  const rows = runs.flatMap(({ name, result }) => {
    const step = result.step_time_s;
    let at = 0;
    return COMPONENTS.map(([key, component]) => {
      const seconds = result.time_breakdown_s[key];
      const row = {
        run: name,
        component,
        start_ms: at * 1e3,
        end_ms: (at + seconds) * 1e3,
        mid_ms: (at + seconds / 2) * 1e3,
        ms: seconds * 1e3,
        share: step > 0 ? seconds / step : 0,
        label: step > 0 ? segmentLabel(component, seconds / step, seconds * pxPerSecond) : '',
      };
      at += seconds;
      return row;
    });
  });
  const totals = runs.map(({ name, result }) => ({
    run: name,
    end_ms: result.step_time_s * 1e3,
    label: seconds(result.step_time_s),
    // Every component in words under its bar: thin segments cannot carry a label.
    detail: COMPONENTS.map(([key, component]) => `${component} ${seconds(result.time_breakdown_s[key])}`).join('  ·  '),
  }));
  const xScale = { domain: [0, maxSeconds * 1e3 * X_HEADROOM], nice: false };
  const order = runs.map((r) => r.name);
  const y = { field: 'run', type: 'nominal', sort: order, title: null };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: 'Where the step time goes',
      subtitle: 'Exposed communication: a collective runs while the compute stream waits. Idle: neither (e.g. waiting for a late rank).',
    },
    width: CHART_WIDTH,
    height: { step: 64 },
    layer: [
      {
        data: { values: rows },
        layer: [
          {
            mark: { type: 'bar', height: { band: 0.55 } },
            encoding: {
              y,
              x: { field: 'start_ms', type: 'quantitative', title: 'step time (ms)', scale: xScale },
              x2: { field: 'end_ms' },
              color: { field: 'component', type: 'nominal', title: null, scale: colorScale(BREAKDOWN_COLORS), legend: { orient: 'bottom', direction: 'horizontal' } },
              tooltip: [{ field: 'run' }, { field: 'component' }, { field: 'ms', title: 'ms', format: '.2f' }, { field: 'share', title: 'share of the step', format: '.1%' }],
            },
          },
          {
            mark: { type: 'text', color: 'white', fontSize: 12, fontWeight: 'bold' },
            encoding: { y, x: { field: 'mid_ms', type: 'quantitative', scale: xScale }, text: { field: 'label' } },
          },
        ],
      },
      {
        data: { values: totals },
        layer: [
          { mark: { type: 'text', align: 'left', dx: 6, fontSize: 12 }, encoding: { y, x: { field: 'end_ms', type: 'quantitative', scale: xScale }, text: { field: 'label' } } },
          { mark: { type: 'text', align: 'left', baseline: 'top', dy: 19, fontSize: 11, color: '#333' }, encoding: { y, x: { datum: 0, type: 'quantitative', scale: xScale }, text: { field: 'detail' } } },
        ],
      },
    ],
    config: chartConfig(),
  };
}
