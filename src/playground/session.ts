import { DEFAULT_HARDWARE, loadScenarioText } from '../config/index.ts';
import { listHardwareIds, loadHardwareProfile } from '../hardware/index.ts';
import { collectiveTallies, breakdownRank } from '../metrics/activity.ts';
import { catalogIds } from '../model/index.ts';
import { simulateLoaded } from '../pipeline/simulate.ts';
import { explain } from '../report/explain.ts';
import { memorySpec } from '../report/charts/memory.ts';
import { timelineSpec } from '../report/charts/timeline.ts';
import { ShardsimError } from '../util/errors.ts';
import type { InitInfo, SimulateError, SimulateOk, SimulateRequest, SimulateSummary, Tally } from './protocol.ts';

/**
 * What the playground's Web Worker does, as plain functions (the worker is a thin message loop around
 * them, and tests call them in Node): YAML text → the same pipeline as `shardsim simulate` → the result,
 * the report's Vega-Lite specs and explanation. Any file the scenario names must be inline: a page has
 * no file system (src/io/files.browser.ts).
 */

/** Folder scenarios "live in": only messages show it; nothing is read from it. */
const PAGE_BASE_DIR = '/';

export function initInfo(id: number): InitInfo {
  return {
    type: 'init',
    id,
    hardware: listHardwareIds().map((hid) => {
      const p = loadHardwareProfile(hid);
      return { id: hid, name: p.name, gpusPerNode: p.node.gpus_per_node };
    }),
    defaultHardware: DEFAULT_HARDWARE,
    models: catalogIds(),
  };
}

/** The page cannot read a DeepSpeed JSON or a model folder: say so in the CLI's one-line form. */
function refuseFileReferences(input: { deepspeed?: unknown }): void {
  if (typeof input.deepspeed === 'string') {
    throw new ShardsimError(`the playground cannot read "${input.deepspeed}"`, {
      key: 'deepspeed',
      fix: 'write the DeepSpeed config inline as a mapping (e.g. deepspeed: {zero_optimization: {stage: 3}}), or open the scenario with `shardsim playground <file>`, which inlines it',
    });
  }
}

/** Simulates a request; `onSummary` gets the numbers before the chart specs are built. */
export async function simulateRequest(req: SimulateRequest, onSummary?: (s: SimulateSummary) => void): Promise<SimulateOk | SimulateError> {
  let warnings: string[] = [];
  try {
    const t0 = performance.now();
    // A path gives messages the CLI's file:line:col form; the editor marks that line.
    const loaded = loadScenarioText(req.yaml, { name: req.name, path: `${req.name}.yaml`, baseDir: PAGE_BASE_DIR });
    warnings = loaded.warnings;
    refuseFileReferences(loaded.input);
    const run = await simulateLoaded(loaded, { recordMemory: !req.summaryOnly });
    const t1 = performance.now();
    const tallies: Tally[] = collectiveTallies(run.timeline, breakdownRank(run.timeline, run.plan.ranks)).map(({ example: _example, ...t }) => t);
    if (req.summaryOnly) return { type: 'result', id: req.id, ok: true, result: run.result, tallies, timings: { simulate_ms: t1 - t0, specs_ms: 0 } };
    onSummary?.({ type: 'summary', id: req.id, result: run.result, tallies, simulate_ms: t1 - t0 });
    const t2 = performance.now();
    const timeline = timelineSpec(run) as { title?: { subtitle?: string[] } };
    // The report's subtitle speaks of report.html; here the same gestures work in the page.
    const sub = timeline.title?.subtitle;
    if (Array.isArray(sub) && sub.length > 1) sub[sub.length - 1] = 'Drag to pan, scroll to zoom, double-click to reset; hover a bar for its layer, micro-batch and bytes.';
    const specs = { timeline, memory: memorySpec(run) };
    const explanation = explain(run);
    return { type: 'result', id: req.id, ok: true, result: run.result, tallies, specs, explanation, timings: { simulate_ms: t1 - t0, specs_ms: performance.now() - t2 } };
  } catch (err) {
    const bad = err instanceof ShardsimError;
    const message = bad ? err.message : `internal error: ${(err as Error)?.message ?? String(err)}`;
    return { type: 'result', id: req.id, ok: false, message, badInput: bad, warnings };
  }
}
