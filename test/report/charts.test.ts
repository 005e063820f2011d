import { describe, expect, it, beforeAll } from 'vitest';
import { compile } from 'vega-lite';
import type { SimulationRun } from '../../src/pipeline/simulate.ts';
import { coalesceBars, timelineSpec, timelineBars, timelineRanks, zoomWindows, type TimelineBar } from '../../src/report/charts/timeline.ts';
import { memoryImageSpec, memoryRank, memorySpec, stackedMemoryRows } from '../../src/report/charts/memory.ts';
import { MEMORY_CATEGORIES, memorySeries } from '../../src/metrics/memory-series.ts';
import { drawnPixels } from '../helpers/pixels.ts';
import { stepBreakdownSpec } from '../../src/report/charts/breakdown.ts';
import { communicationSpec, hasCommunication } from '../../src/report/charts/communication.ts';
import { exposedSecondsByKind } from '../../src/metrics/exposure.ts';
import { runForReport, fsdp2Small, ddpSmall } from './fixtures.ts';
import { loadVegaBundles } from '../../src/report/vega-bundles.ts';

/** Compiles with vega-lite and collects every warning: a spec that compiles with warnings is a defect. */
function compileStrict(spec: object): string[] {
  const messages: string[] = [];
  let lvl = 0;
  const logger = {
    level(l?: number) {
      if (l === undefined) return lvl;
      lvl = l;
      return this;
    },
    error: (...a: unknown[]) => (messages.push(`error ${a.join(' ')}`), logger),
    warn: (...a: unknown[]) => (messages.push(`warn ${a.join(' ')}`), logger),
    info: () => logger,
    debug: () => logger,
  };
  const out = compile(spec as Parameters<typeof compile>[0], { logger: logger as never });
  expect(out.spec).toBeTruthy();
  return messages;
}

let fsdp: SimulationRun;
let ddp: SimulationRun;
beforeAll(async () => {
  [fsdp, ddp] = await Promise.all([runForReport(fsdp2Small, 'fsdp'), runForReport(ddpSmall, 'ddp')]);
});

describe('chart specs', () => {
  it('the strict compile does catch a bad spec', () => {
    expect(compileStrict({ data: { values: [] }, mark: 'bar', encoding: { x: { field: 'a', type: 'quantitative', aggregate: 'nope' } } }).length).toBeGreaterThan(0);
  });

  it('all four specs compile with vega-lite without a warning, for FSDP2 and DDP', () => {
    for (const run of [fsdp, ddp]) {
      const named = [{ name: run.result.scenario, result: run.result, exposedSecondsByKind: exposedSecondsByKind(run.timeline, 0) }];
      for (const spec of [timelineSpec(run), memorySpec(run), stepBreakdownSpec(named), communicationSpec(named)]) {
        expect(compileStrict(spec)).toEqual([]);
      }
    }
  });

  it('static timeline: no tooltips, per-bar aria-labels or scale bindings (nothing to hover or pan in an image); the interactive spec keeps them', () => {
    const layers = (spec: object) => (spec as { vconcat: { layer: { mark: { aria?: boolean }; encoding: { tooltip?: unknown }; params?: unknown }[] }[] }).vconcat.flatMap((p) => p.layer);
    for (const l of layers(timelineSpec(fsdp, { staticImage: true }))) {
      expect(l.encoding.tooltip).toBeUndefined();
      expect(l.mark.aria).toBe(false);
      expect(l.params).toBeUndefined();
    }
    for (const l of layers(timelineSpec(fsdp))) {
      expect(l.encoding.tooltip).toBeDefined();
      expect(l.mark.aria).toBeUndefined();
    }
  });

  it('interactive timeline: its bar columns, flattened and named by vega, draw the SVG an object per bar draws (every tooltip too)', async () => {
    const spec = timelineSpec(fsdp) as { data: { values: Record<string, unknown[]>[] }; transform: object[] };
    const { bars } = timelineBars(fsdp);
    expect(spec.data.values).toHaveLength(1);
    expect(spec.data.values[0]!.start_ms).toHaveLength(bars.length);
    // Lanes and categories travel as numbers: no lane name is repeated per bar.
    expect(JSON.stringify(spec.data).includes(bars[0]!.lane)).toBe(false);
    const { data: _data, transform: _transform, ...rest } = spec;
    const byRows = { ...rest, data: { values: bars } };
    const { vega, vegaLite } = loadVegaBundles();
    const svg = async (s: object) => {
      const view = new vega.View(vega.parse(vegaLite.compile(s as never).spec), { renderer: 'none' });
      try {
        // vega numbers clip paths per process: by order of appearance here.
        const ids = new Map<string, number>();
        return (await view.toSVG()).replace(/clip\d+/g, (id: string) => `clip#${ids.get(id) ?? ids.set(id, ids.size).size - 1}`);
      } finally {
        view.finalize();
      }
    };
    const drawn = await svg(spec);
    expect(drawn).toContain('; detail: micro-batch ');
    expect(drawn).toBe(await svg(byRows));
  });

  it('static timeline: the image spec compiles; per lane and category the whole-step panel covers the same time in every pixel column, in fewer bars', () => {
    const spec = timelineSpec(fsdp, { staticImage: true }) as { vconcat: { data: { values: TimelineBar[] } }[] };
    expect(compileStrict(spec)).toEqual([]);
    const { bars } = timelineBars(fsdp);
    const end = fsdp.timeline.makespan * 1e3;
    const columns = 50;
    const merged = coalesceBars(bars, 0, end, columns);
    expect(merged.length).toBeLessThan(bars.length);
    const cover = (xs: TimelineBar[]) => {
      const m = new Map<string, number[]>();
      for (const b of xs) {
        const k = `${b.lane}|${b.category}`;
        const c = m.get(k) ?? new Array<number>(columns).fill(0);
        m.set(k, c);
        for (let i = 0; i < columns; i++) c[i]! += Math.max(0, Math.min(b.end_ms, ((i + 1) * end) / columns) - Math.max(b.start_ms, (i * end) / columns));
      }
      return m;
    };
    const want = cover(bars);
    const got = cover(merged);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, c] of want) for (let i = 0; i < columns; i++) expect(got.get(k)![i]).toBeCloseTo(c[i]!, 6);
    // Within a lane the drawn bars never overlap.
    const byLane = new Map<string, TimelineBar[]>();
    for (const b of merged) byLane.set(b.lane, [...(byLane.get(b.lane) ?? []), b]);
    for (const xs of byLane.values()) {
      const sorted = [...xs].sort((a, b) => a.start_ms - b.start_ms);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.start_ms).toBeGreaterThanOrEqual(sorted[i - 1]!.end_ms - 1e-9);
    }
  });

  it('the breakdown and communication charts take several runs (for compare)', () => {
    const runs = [fsdp, ddp].map((r) => ({ name: r.result.scenario, result: r.result }));
    expect(compileStrict(stepBreakdownSpec(runs))).toEqual([]);
    expect(compileStrict(communicationSpec(runs))).toEqual([]);
    const rows = (stepBreakdownSpec(runs) as { layer: { data: { values: { run: string }[] } }[] }).layer[0]!.data.values;
    expect(new Set(rows.map((r) => r.run))).toEqual(new Set(['fsdp', 'ddp']));
  });

  it('timeline: a lane per stream in use plus the exposed lane; bars are the spans; exposed bars sum to the exposed time', () => {
    const { bars, lanes } = timelineBars(fsdp);
    expect(lanes).toEqual([
      'rank 0 · compute (stream 7)',
      'rank 0 · nccl all_gather (stream 20)',
      'rank 0 · nccl reduce_scatter (stream 24)',
      'rank 0 · nccl all_reduce (stream 28)',
      'rank 0 · exposed communication',
    ]);
    const kinds = new Set(bars.map((b) => b.category));
    for (const k of ['forward', 'recompute', 'backward', 'optimizer', 'AllGather', 'ReduceScatter', 'exposed communication']) expect(kinds).toContain(k);
    const exposedMs = bars.filter((b) => b.category === 'exposed communication').reduce((a, b) => a + b.duration_ms, 0);
    expect(exposedMs).toBeCloseTo(fsdp.result.communication.exposed_s * 1e3, 6);
    const layer3 = bars.find((b) => b.op === 'all_gather layer 3 (backward)')!;
    expect(layer3.detail).toMatch(/micro-batch 0 · layer 3 · S = .*MiB, sent .*MiB \(ring, 8 GPUs\)/);
    expect(ddp.plan.ranks).toEqual([0]);
    expect(timelineBars(ddp).lanes).toEqual(['rank 0 · compute (stream 7)', 'rank 0 · nccl all_reduce (stream 28)', 'rank 0 · exposed communication']);
  });

  it('timeline zoom windows: FSDP2 starts at 0, DDP where its first AllReduce runs (the last micro-batch backward); both end at the step end', () => {
    const f = zoomWindows(fsdp, 0);
    expect(f.first[0]).toBe(0);
    expect(f.last[1]).toBe(fsdp.timeline.makespan);
    const d = zoomWindows(ddp, 0);
    const firstAr = ddp.timeline.spans.filter((s) => s.tag.kind === 'all_reduce').sort((a, b) => a.workStart - b.workStart)[0]!;
    expect(d.first[0]).toBeGreaterThan(0);
    expect(d.first[0]).toBeLessThanOrEqual(firstAr.workStart);
    expect(d.first[1]).toBeGreaterThan(firstAr.end);
  });

  it('with many simulated ranks the timeline shows rank 0 and the straggler only', async () => {
    const run = await runForReport({ ...fsdp2Small, simulation: { hardware: 'dgx-h100', jitter: 0.01, seed: 3, stragglers: [{ rank: 6, compute_slowdown: 1.25 }] } });
    expect(run.plan.ranks.length).toBe(8);
    expect(timelineRanks(run)).toEqual([0, 6]);
    const { bars, lanes } = timelineBars(run);
    expect(new Set(lanes.map((l) => l.split(' · ')[0]))).toEqual(new Set(['rank 0', 'rank 6']));
    // Rank 0 waits for the straggler at collectives: the wait is drawn.
    expect(bars.some((b) => b.category === 'waiting for peers' && b.lane.startsWith('rank 0'))).toBe(true);
    expect(compileStrict(timelineSpec(run))).toEqual([]);
  });

  it('memory: stacked categories reach the peak; capacity and reserved-estimate rules are drawn', () => {
    const spec = memorySpec(fsdp) as { layer: { data: { values: { t_ms: number; gib: number; category: string }[] } }[] };
    const values = spec.layer[0]!.data.values;
    const byTime = new Map<number, number>();
    for (const v of values) byTime.set(v.t_ms, (byTime.get(v.t_ms) ?? 0) + v.gib);
    expect(Math.max(...byTime.values())).toBeCloseTo(fsdp.result.memory.peak_bytes / 2 ** 30, 3);
    expect(new Set(values.map((v) => v.category))).toContain('optimizer states');
    const rules = spec.layer[1]!.data.values as unknown as { y: number; label: string }[];
    expect(rules[0]!.label).toMatch(/^GPU memory: /);
    expect(rules.map((r) => r.y)).toEqual([fsdp.result.memory.capacity_bytes / 2 ** 30, fsdp.result.memory.required_bytes / 2 ** 30]);
  });

  it('memory: the series it reads is shared with trace.json and left as it was (its closing point is its own)', async () => {
    const run = await runForReport(fsdp2Small, 'memory-series-shared');
    const rank = memoryRank(run);
    const shared = memorySeries(run.timeline, rank);
    const before = shared.map((p) => ({ ...p, byCategory: { ...p.byCategory } }));
    expect(memorySeries(run.timeline, rank)).toBe(shared);
    memorySpec(run);
    expect(memorySeries(run.timeline, rank)).toEqual(before);
    // Each point is the state after every change at its time (collapsed in place): the running sums.
    let total = 0;
    const cur: Record<string, number> = {};
    let i = 0;
    for (const m of run.timeline.memorySamples) {
      if (m.process !== rank) continue;
      total += m.bytes;
      const c = (MEMORY_CATEGORIES as readonly string[]).includes(m.category) ? m.category : 'other';
      cur[c] = (cur[c] ?? 0) + m.bytes;
      while (shared[i]!.time < m.time) i++;
      expect(shared[i]!.time).toBe(m.time);
    }
    const last = shared[shared.length - 1]!;
    expect(last.totalBytes).toBe(total);
    for (const [c, v] of Object.entries(cur)) expect(last.byCategory[c as keyof typeof last.byCategory]).toBe(v);
  });

  it('memory image: the areas lose their tooltip and aria-label and come stacked, and vega draws the SVG it draws when it stacks them; the interactive spec is untouched', async () => {
    type Layer = { data: { values: Record<string, number | string>[] }; mark: { aria?: boolean }; encoding: Record<string, unknown> };
    const spec = memorySpec(fsdp);
    const before = JSON.stringify(spec);
    const image = memoryImageSpec(spec) as { layer: Layer[] };
    const interactive = spec as typeof image;
    expect(JSON.stringify(spec)).toBe(before);
    expect(interactive.layer[0]!.encoding.tooltip).toBeDefined();
    expect(image.layer[0]!.encoding.tooltip).toBeUndefined();
    expect(image.layer[0]!.mark.aria).toBe(false);
    expect(image.layer.slice(1)).toEqual(interactive.layer.slice(1));
    expect(compileStrict(image)).toEqual([]);
    // Stacked per time: the top area ends at the time's total.
    const rows = stackedMemoryRows(interactive.layer[0]!.data.values as never) as unknown as Record<string, number>[];
    const tops = new Map<number, number>();
    for (const r of rows) tops.set(r.t_ms!, Math.max(tops.get(r.t_ms!) ?? 0, r.gib_end!));
    for (const r of rows) expect(tops.get(r.t_ms!)).toBeCloseTo(r.total_gib!, 4);
    // The image keeps only the rows that change an area's outline: fewer, and each category's first and last.
    const kept = image.layer[0]!.data.values;
    expect(kept.length).toBeLessThan(rows.length);
    for (const c of new Set(rows.map((r) => r.category))) {
      const all = rows.filter((r) => r.category === c);
      const mine = kept.filter((r) => r.category === c);
      expect([mine[0], mine[mine.length - 1]]).toEqual([all[0], all[all.length - 1]]);
    }
    const allRows = { ...image, layer: [{ ...image.layer[0]!, data: { values: rows } }, ...image.layer.slice(1)] };
    // vega stacking the rows itself, without tooltips: the same SVG, character for character.
    const { tooltip: _tooltip, ...encoding } = interactive.layer[0]!.encoding;
    const vegaStacked = { ...spec, layer: [{ ...interactive.layer[0]!, mark: { ...interactive.layer[0]!.mark, aria: false }, encoding }, ...interactive.layer.slice(1)] };
    const { vega, vegaLite } = loadVegaBundles();
    const svg = async (s: object) => {
      const view = new vega.View(vega.parse(vegaLite.compile(s as never).spec), { renderer: 'none' });
      try {
        return await view.toSVG();
      } finally {
        view.finalize();
      }
    };
    const drawnAll = await svg(allRows);
    expect(drawnAll).toContain('<path');
    expect(drawnAll).toBe(await svg(vegaStacked));
    // Without the rows that only repeat a step: the same pixels.
    const drawn = await svg(image);
    expect(drawn.length).toBeLessThan(drawnAll.length);
    expect(drawnPixels(drawn).equals(drawnPixels(drawnAll))).toBe(true);
  });

  it('communication: nothing to draw on one GPU', async () => {
    const one = await runForReport({ ...ddpSmall, simulation: { hardware: 'dgx-h100', gpus: 1 } });
    expect(hasCommunication([{ name: 'one', result: one.result }])).toBe(false);
    expect(hasCommunication([{ name: 'fsdp', result: fsdp.result }])).toBe(true);
  });
});
