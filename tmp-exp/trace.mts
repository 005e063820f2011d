import { loadScenarioFile } from '../src/config/index.ts';
import { simulateLoaded } from '../src/pipeline/simulate.ts';
import { chromeTraceChunks } from '../src/report/trace.ts';
import { explain } from '../src/report/explain.ts';
import { timelineSpecs } from '../src/report/charts/timeline.ts';
const run = await simulateLoaded(loadScenarioFile('scenarios/llama-3.1-70b-tp2-fsdp4-ddp2-16xh100.yaml'), { recordMemory: true });
for (let i = 0; i < 4; i++) {
  let t0 = performance.now(); let n = 0; for (const c of chromeTraceChunks(run)) n += c.length; const t1 = performance.now();
  timelineSpecs(run); const t2 = performance.now();
  console.log('trace', (t1 - t0).toFixed(1), n, 'timelineSpecs', (t2 - t1).toFixed(1));
}
