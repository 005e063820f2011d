import type { NamedResult } from './breakdown.ts';
import { bytesHuman, seconds } from '../format.ts';
import { COLLECTIVE_NAMES, GIB, VEGA_LITE_SCHEMA, chartConfig } from './theme.ts';

/** A run for the communication chart; `exposedSecondsByKind` (from the timeline) splits busy time. */
export interface CommunicationRun extends NamedResult {
  exposedSecondsByKind?: Record<string, number>;
}

const PANEL_WIDTH = 400;

/** True when some collective moved bytes or took time: otherwise there is nothing to draw. */
export function hasCommunication(runs: CommunicationRun[]): boolean {
  return runs.some((r) => Object.values(r.result.communication.by_kind).some((k) => k.bytes_per_gpu > 0 || k.busy_s > 0));
}

/**
 * Communication per collective kind: GiB each GPU sends (S × bus factor, summed) and the time the
 * collectives were busy, split into the part hidden behind compute and the exposed part.
 */
export function communicationSpec(runs: CommunicationRun[]): object {
  const multi = runs.length > 1;
  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.result.communication.by_kind)))].sort((a, b) => Object.keys(COLLECTIVE_NAMES).indexOf(a) - Object.keys(COLLECTIVE_NAMES).indexOf(b));
  const nameOf = (k: string) => COLLECTIVE_NAMES[k] ?? k;
  const volume = runs.flatMap(({ name, result }) =>
    kinds.map((k) => {
      const bytes = result.communication.by_kind[k]?.bytes_per_gpu ?? 0;
      return { run: name, collective: nameOf(k), gib: bytes / GIB, label: bytesHuman(bytes) };
    }),
  );
  const time = runs.flatMap(({ name, result, exposedSecondsByKind }) =>
    kinds.flatMap((k) => {
      const busy = result.communication.by_kind[k]?.busy_s ?? 0;
      const exposed = Math.min(busy, exposedSecondsByKind?.[k] ?? 0);
      const rows = [
        { run: name, collective: nameOf(k), part: 'hidden behind compute', ms: (busy - exposed) * 1e3, order: 0, total_ms: busy * 1e3 },
        { run: name, collective: nameOf(k), part: 'exposed', ms: exposed * 1e3, order: 1, total_ms: busy * 1e3 },
      ];
      return exposedSecondsByKind ? rows : [{ ...rows[0]!, part: 'busy', ms: busy * 1e3 }];
    }),
  );
  const timeTotals = runs.flatMap(({ name, result }) =>
    kinds.map((k) => {
      const busy = result.communication.by_kind[k]?.busy_s ?? 0;
      return { run: name, collective: nameOf(k), total_ms: busy * 1e3, label: seconds(busy) };
    }),
  );
  const order = kinds.map(nameOf);
  const y = { field: 'collective', type: 'nominal', sort: order, title: null };
  const yOffset = multi ? { yOffset: { field: 'run', type: 'nominal', sort: runs.map((r) => r.name) } } : {};
  const maxGib = Math.max(1e-9, ...volume.map((v) => v.gib));
  const maxMs = Math.max(1e-9, ...timeTotals.map((v) => v.total_ms));
  const rowHeight = multi ? 22 * runs.length + 12 : 40;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: 'Communication per GPU, by collective',
      subtitle: 'Bytes sent = payload S × bus factor ((n−1)/n for AllGather and ReduceScatter, 2(n−1)/n for AllReduce), summed over the step.',
    },
    hconcat: [
      {
        width: PANEL_WIDTH,
        height: { step: rowHeight },
        title: { text: 'sent per GPU (GiB)', fontSize: 13 },
        data: { values: volume },
        layer: [
          {
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              y,
              ...yOffset,
              x: { field: 'gib', type: 'quantitative', title: 'GiB sent per GPU per step', scale: { domain: [0, maxGib * 1.3], nice: false } },
              ...(multi ? { color: { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'bottom' } } } : {}),
              tooltip: [{ field: 'run' }, { field: 'collective' }, { field: 'gib', title: 'GiB', format: '.3f' }],
            },
          },
          { mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 }, encoding: { y, ...yOffset, x: { field: 'gib', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
      {
        width: PANEL_WIDTH,
        height: { step: rowHeight },
        title: { text: 'busy time (ms): hidden vs exposed', fontSize: 13 },
        layer: [
          {
            data: { values: time },
            mark: { type: 'bar' },
            encoding: {
              y,
              ...yOffset,
              x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'ms per step', scale: { domain: [0, maxMs * 1.3], nice: false } },
              color: {
                field: 'part',
                type: 'nominal',
                title: null,
                scale: { domain: ['hidden behind compute', 'exposed', 'busy'], range: ['#72b7b2', '#e45756', '#72b7b2'] },
                legend: { orient: 'bottom', direction: 'horizontal', values: exposedForLegend(runs) },
              },
              order: { field: 'order', type: 'quantitative' },
              tooltip: [{ field: 'run' }, { field: 'collective' }, { field: 'part' }, { field: 'ms', title: 'ms', format: '.3f' }, { field: 'total_ms', title: 'busy (ms)', format: '.3f' }],
            },
          },
          {
            data: { values: timeTotals },
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 },
            encoding: { y, ...yOffset, x: { field: 'total_ms', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: chartConfig(),
  };
}

function exposedForLegend(runs: CommunicationRun[]): string[] {
  return runs.some((r) => r.exposedSecondsByKind) ? ['hidden behind compute', 'exposed'] : ['busy'];
}
