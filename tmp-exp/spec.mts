import { loadScenarioFile } from '../src/config/index.ts';
import { simulateLoaded } from '../src/pipeline/simulate.ts';
import { timelineSpecs } from '../src/report/charts/timeline.ts';
const run = await simulateLoaded(loadScenarioFile('scenarios/llama-3.1-70b-tp2-fsdp4-ddp2-16xh100.yaml'), { recordMemory: true });
const t = timelineSpecs(run);
const s = JSON.stringify(t.image.spec);
console.log('static spec chars', s.length, 'rects', t.image.rects.map((r) => r.rows.length ?? Object.keys(r.rows)));
console.log(s.slice(0, 3000));
