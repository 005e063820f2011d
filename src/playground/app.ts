import { parseDocument, type Document } from 'yaml';
import type { SimulationResult } from '../metrics/result.ts';
import { stepBreakdownSpec } from '../report/charts/breakdown.ts';
import { CHART_WIDTH } from '../report/charts/theme.ts';
import { fitWidth } from './fit-width.ts';
import { bytesHuman, count, gib, pct, seconds } from '../report/format.ts';
import { CONTROLS, GROUP_TITLES, controlApplies, controlChoices, parseFieldText, readControl, writeControl, type Control, type ControlContext, type ControlGroup } from './controls.ts';
import { LESSONS, lessonById, lessonYaml, type Lesson, type LessonRun } from './lessons.ts';
import type { InitInfo, SimulateError, SimulateOk, SimulateSummary, WorkerRequest, WorkerResponse } from './protocol.ts';
import { decodeState, encodeState } from './share.ts';

/**
 * The playground page: the YAML editor and the control table on the left, the charts of a fresh
 * simulation on the right. Every change (a field, the editor, a lesson, a link) becomes YAML text; the
 * text goes to the worker (debounced, newest wins) and its answer is drawn with the report's own
 * Vega-Lite specs. `document.body.dataset` carries state ("ready" / "error") and a render counter for
 * tests; #result-json holds the JSON result.
 */

declare const __SHARDSIM_SCENARIOS__: { name: string; text: string }[];
declare const vegaEmbed: (el: HTMLElement, spec: object, opts: object) => Promise<{ view: { finalize(): void } }>;

const DEFAULT_SCENARIO = 'llama-3.1-8b-ddp-8xh100';
const DEBOUNCE_FIELDS_MS = 120;
const DEBOUNCE_TYPING_MS = 300;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

interface Run {
  name: string;
  yaml: string;
  ok: SimulateOk;
}

const state = {
  name: DEFAULT_SCENARIO,
  current: undefined as Run | undefined,
  pinned: undefined as Run | undefined,
  lesson: undefined as { lesson: Lesson; bYaml: string } | undefined,
  ctx: { hardware: [], defaultHardware: '', models: [] } as ControlContext,
};

// --- the worker --------------------------------------------------------------------------------------

const worker = new Worker(URL.createObjectURL(new Blob([$('worker-source').textContent ?? ''], { type: 'text/javascript' })));
let nextId = 1;
const waiting = new Map<number, { done: (r: WorkerResponse) => void; summary?: (s: SimulateSummary) => void }>();
worker.addEventListener('message', (e: MessageEvent<WorkerResponse>) => {
  const w = waiting.get(e.data.id);
  if (e.data.type === 'summary') {
    w?.summary?.(e.data);
    return;
  }
  waiting.delete(e.data.id);
  w?.done(e.data);
});
worker.addEventListener('error', (e) => showMessages([{ kind: 'error', text: `internal error in the worker: ${e.message}` }]));

/** A request without its id (distributes over the union). */
type Unnumbered<R> = R extends WorkerRequest ? Omit<R, 'id'> : never;

function ask<T extends WorkerResponse>(req: Unnumbered<WorkerRequest>, summary?: (s: SimulateSummary) => void): Promise<T> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, { done: resolve as (r: WorkerResponse) => void, ...(summary ? { summary } : {}) });
    worker.postMessage({ ...req, id });
  });
}

/** A simulation; `onSummary` gets the numbers first, while the worker builds the chart specs. */
function simulate(name: string, yaml: string, summaryOnly = false, onSummary?: (s: SimulateSummary) => void): Promise<SimulateOk | SimulateError> {
  return ask<SimulateOk | SimulateError>({ type: 'simulate', name, yaml, ...(summaryOnly ? { summaryOnly } : {}) }, onSummary);
}

// --- editor ------------------------------------------------------------------------------------------

const editor = $<HTMLTextAreaElement>('yaml');
const gutter = $('gutter');

function drawGutter(badLine?: number): void {
  const lines = editor.value.split('\n').length;
  gutter.innerHTML = Array.from({ length: lines }, (_, i) => (i + 1 === badLine ? `<span class="bad">${i + 1}</span>` : String(i + 1))).join('\n');
  gutter.scrollTop = editor.scrollTop;
}
editor.addEventListener('scroll', () => (gutter.scrollTop = editor.scrollTop));

function setEditorText(text: string): void {
  if (editor.value !== text) editor.value = text;
  drawGutter();
}

// --- controls ----------------------------------------------------------------------------------------

const fieldId = (c: Control) => `ctl-${c.key.replace(/\./g, '-')}`;

function buildControls(): void {
  const form = $('controls');
  form.innerHTML = '';
  const groups = new Map<ControlGroup, HTMLFieldSetElement>();
  for (const c of CONTROLS) {
    let set = groups.get(c.group);
    if (!set) {
      set = document.createElement('fieldset');
      set.innerHTML = `<legend>${GROUP_TITLES[c.group]}</legend>`;
      groups.set(c.group, set);
      form.appendChild(set);
    }
    const row = document.createElement('div');
    row.className = 'field';
    row.title = c.help;
    const label = document.createElement('label');
    label.htmlFor = fieldId(c);
    label.textContent = c.label;
    let input: HTMLInputElement | HTMLSelectElement;
    if (c.input === 'select') {
      input = document.createElement('select');
    } else {
      input = document.createElement('input');
      input.type = c.input;
      if (c.min !== undefined) input.min = String(c.min);
      if (c.step !== undefined) input.step = String(c.step);
      if (c.suggestions) {
        const list = document.createElement('datalist');
        list.id = `${fieldId(c)}-list`;
        list.innerHTML = c.suggestions.map((s) => `<option value="${s}">`).join('');
        row.appendChild(list);
        input.setAttribute('list', list.id);
      }
    }
    input.id = fieldId(c);
    input.name = c.key;
    input.addEventListener(c.input === 'checkbox' || c.input === 'select' ? 'change' : 'input', () => onField(c, input));
    row.append(label, input);
    set.appendChild(row);
  }
}

/** The choices a select offers now, plus the YAML's own value when it is not among them. */
function fillSelect(c: Control, el: HTMLSelectElement, value: unknown): void {
  const choices = controlChoices(c, state.ctx).slice();
  if (value !== undefined && !choices.some((ch) => ch.value === value)) choices.unshift({ value: value as string, label: `${String(value)} (from the YAML)` });
  const key = JSON.stringify(choices.map((ch) => [ch.value, ch.label]));
  if (el.dataset.choices !== key) {
    el.innerHTML = '';
    choices.forEach((ch, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = ch.label;
      el.appendChild(o);
    });
    el.dataset.choices = key;
    (el as HTMLSelectElement & { _choices?: unknown })._choices = choices;
  }
  const i = choices.findIndex((ch) => ch.value === value);
  el.value = i >= 0 ? String(i) : '';
}

/** YAML → fields (the focused field keeps what the user is typing). */
function syncControls(doc: Document): void {
  for (const c of CONTROLS) {
    const el = $<HTMLInputElement & HTMLSelectElement>(fieldId(c));
    const applies = controlApplies(c, doc);
    el.disabled = !applies;
    el.parentElement!.classList.toggle('off', !applies);
    if (document.activeElement === el && c.input !== 'select' && c.input !== 'checkbox') continue;
    const value = readControl(c, doc, state.ctx);
    if (c.input === 'select') fillSelect(c, el, value);
    else if (c.input === 'checkbox') el.checked = value === true;
    else {
      el.value = value === undefined ? '' : String(value);
      el.placeholder = c.placeholder ?? (c.defaultValue !== undefined && typeof c.defaultValue !== 'function' ? String(c.defaultValue) : '');
    }
  }
}

/** Field → YAML (comments and layout kept by the yaml Document), then a new simulation. */
function onField(c: Control, el: HTMLInputElement | HTMLSelectElement): void {
  const doc = parseDocument(editor.value);
  if (doc.errors.length > 0) {
    showMessages([{ kind: 'error', text: 'fix the YAML before using the controls' }]);
    return;
  }
  let value;
  if (c.input === 'checkbox') value = (el as HTMLInputElement).checked;
  else if (c.input === 'select') value = ((el as HTMLSelectElement & { _choices?: { value: unknown }[] })._choices ?? [])[Number(el.value)]?.value;
  else value = parseFieldText(c, el.value);
  try {
    writeControl(c, doc, value as never);
  } catch (e) {
    showMessages([{ kind: 'error', text: `${c.key}: ${(e as Error).message}` }]);
    return;
  }
  setEditorText(doc.toString({ lineWidth: 0 }));
  syncControls(doc);
  schedule(DEBOUNCE_FIELDS_MS);
}

editor.addEventListener('input', () => {
  drawGutter();
  schedule(DEBOUNCE_TYPING_MS);
});

// --- messages ----------------------------------------------------------------------------------------

interface Message {
  kind: 'error' | 'warning' | 'ok';
  text: string;
}

function showMessages(msgs: Message[]): void {
  const box = $('messages');
  box.innerHTML = '';
  for (const m of msgs) {
    const div = document.createElement('div');
    div.className = m.kind;
    div.textContent = m.kind === 'ok' ? m.text : `${m.kind}: ${m.text}`;
    box.appendChild(div);
  }
}

// --- running -----------------------------------------------------------------------------------------

let timer: ReturnType<typeof setTimeout> | undefined;
let running = false;
let again = false;

function schedule(delayMs: number): void {
  clearTimeout(timer);
  timer = setTimeout(() => void runCurrent(), delayMs);
}

async function runCurrent(): Promise<void> {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    do {
      again = false;
      await runOnce();
    } while (again);
  } finally {
    running = false;
  }
}

async function runOnce(): Promise<void> {
  const yaml = editor.value;
  const doc = parseDocument(yaml);
  if (doc.errors.length === 0) syncControls(doc);
  document.body.dataset.state = 'running';
  $('status').textContent = 'simulating…';
  const started = performance.now();
  let numbersMs: number | undefined;
  const res = await simulate(state.name, yaml, false, (summary) => {
    if (again) return;
    // The numbers (and the breakdown drawn from them) while the worker builds the charts.
    renderMetrics(summary.result, state.pinned);
    void drawBreakdown(summary.result);
    numbersMs = performance.now() - started;
    $('status').textContent = `${numbersMs.toFixed(0)} ms: simulated; drawing the charts…`;
  });
  const answered = performance.now();
  if (again) return; // superseded while it ran
  if (!res.ok) {
    const line = /:(\d+):\d+:/.exec(res.message)?.[1];
    drawGutter(line ? Number(line) : undefined);
    showMessages([{ kind: 'error', text: res.message }, ...res.warnings.map((w) => ({ kind: 'warning' as const, text: w }))]);
    const banner = $('error-banner');
    banner.textContent = `error: ${res.message}`;
    banner.insertAdjacentHTML('beforeend', '<small>The charts below are from the last valid configuration.</small>');
    banner.hidden = false;
    for (const id of ['metrics', 'breakdown', 'runs']) $(id).classList.add('stale-view');
    document.body.dataset.state = 'error';
    $('status').textContent = res.badInput ? 'fix the input' : 'internal error';
    return;
  }
  drawGutter();
  $('error-banner').hidden = true;
  state.current = { name: state.name, yaml, ok: res };
  if (state.lesson) $('lesson-stale').hidden = yaml === state.lesson.bYaml;
  await render();
  document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
  const total = performance.now() - started;
  const t = res.timings;
  const drawn = performance.now() - answered;
  $('status').textContent = `${total.toFixed(0)} ms: simulation ${t.simulate_ms.toFixed(0)} ms, chart specs ${t.specs_ms.toFixed(0)} ms, drawing ${drawn.toFixed(0)} ms (${res.result.simulation.tasks.toLocaleString('en-US')} tasks)`;
  // For `npm run bench:playground`: wall times of this change, from the request to the drawn charts.
  document.body.dataset.timings = JSON.stringify({ numbers_ms: numbersMs ?? total, total_ms: total, simulate_ms: t.simulate_ms, specs_ms: t.specs_ms, transfer_ms: answered - started - t.simulate_ms - t.specs_ms, draw_ms: drawn, tasks: res.result.simulation.tasks });
  // As the CLI prints them: `warning: <message>`.
  showMessages(res.result.warnings.length > 0 ? res.result.warnings.map((w) => ({ kind: 'warning' as const, text: w.message })) : [{ kind: 'ok' as const, text: 'valid — simulated' }]);
  void updateHash();
}

// --- drawing -----------------------------------------------------------------------------------------

const views = new Map<string, { finalize(): void }>();

async function draw(id: string, spec: object | undefined, renderer: 'svg' | 'canvas' = 'svg'): Promise<void> {
  views.get(id)?.finalize();
  views.delete(id);
  const box = $(id);
  box.innerHTML = '';
  if (!spec) return;
  // vega-embed makes its element inline-block (sized to the chart): give it a child, so the box can scroll.
  const el = document.createElement('div');
  box.appendChild(el);
  const t0 = performance.now();
  const { view } = await vegaEmbed(el, spec, { mode: 'vega-lite', renderer, actions: false });
  drawMs[id] = performance.now() - t0;
  views.set(id, view);
}
/** Wall time of each chart's last draw (diagnostics: `document.body.dataset.drawMs`). */
const drawMs: Record<string, number> = {};

/** Big timelines draw on a canvas (thousands of SVG rects are slow to lay out). */
const rendererFor = (spec: object): 'svg' | 'canvas' => (((spec as { data?: { values?: unknown[] } }).data?.values?.length ?? 0) > 3000 ? 'canvas' : 'svg');

/**
 * Plot widths that fit the page: a timeline keeps the full width (A above B), its lane labels take
 * ~300 px; memory charts sit side by side in A/B mode, their axis ~90 px.
 */
function chartWidths(): { timeline: number; memory: number; breakdown: number } {
  const full = $('runs').clientWidth;
  const column = state.pinned ? (full - 12) / 2 : full;
  const fit = (px: number) => Math.max(280, Math.min(CHART_WIDTH, Math.floor(px)));
  return { timeline: fit(full - 300), memory: fit(column - 90), breakdown: fit(full - 300) };
}

async function render(): Promise<void> {
  const cur = state.current;
  if (!cur) return;
  const pin = state.pinned;
  for (const id of ['metrics', 'breakdown', 'runs']) $(id).classList.remove('stale-view');
  $('memories').classList.toggle('ab', !!pin);
  $('run-a').hidden = !pin;
  $('mem-a').hidden = !pin;
  $('run-b-title').textContent = pin ? `B: ${describe(cur.ok.result)}` : 'Timeline';
  $('mem-b-title').textContent = pin ? 'B: memory' : 'Memory';
  renderMetrics(cur.ok.result, pin);
  const width = chartWidths();
  const jobs: [string, object | undefined, ('svg' | 'canvas')?][] = [['breakdown', breakdownSpec(cur.ok.result)]];
  const tl = cur.ok.specs!.timeline;
  jobs.push(['timeline', fitWidth(tl, width.timeline), rendererFor(tl)], ['memory', fitWidth(cur.ok.specs!.memory, width.memory)]);
  if (pin) {
    $('run-a-title').textContent = `A (pinned): ${describe(pin.ok.result)}`;
    const tla = pin.ok.specs!.timeline;
    jobs.push(['timeline-a', fitWidth(tla, width.timeline), rendererFor(tla)], ['memory-a', fitWidth(pin.ok.specs!.memory, width.memory)]);
  } else {
    jobs.push(['timeline-a', undefined], ['memory-a', undefined]);
  }
  const ex = $('explanation');
  ex.innerHTML = '';
  for (const p of cur.ok.explanation ?? []) {
    const el = document.createElement('p');
    el.textContent = p;
    ex.appendChild(el);
  }
  $('result-json').textContent = JSON.stringify(cur.ok.result, null, 2);
  for (const [id, spec, renderer] of jobs) await draw(id, spec, renderer);
  document.body.dataset.state = 'ready';
  document.body.dataset.drawMs = JSON.stringify(Object.fromEntries(Object.entries(drawMs).map(([k, v]) => [k, Math.round(v)])));
  document.body.dataset.renders = String(Number(document.body.dataset.renders ?? 0) + 1);
}

/** Where the step time goes: the current run, or A and B on one axis. */
function breakdownSpec(cur: SimulationResult): object {
  const pin = state.pinned?.ok.result;
  const named = (label: string, r: SimulationResult) => ({ name: `${label}: ${r.strategy.toUpperCase()} ${r.world_size} GPUs`, result: r });
  return fitWidth(stepBreakdownSpec(pin ? [named('A', pin), named('B', cur)] : [{ name: state.name, result: cur }]), chartWidths().breakdown);
}

function drawBreakdown(cur: SimulationResult): Promise<void> {
  $('breakdown').classList.remove('stale-view');
  $('metrics').classList.remove('stale-view');
  return draw('breakdown', breakdownSpec(cur));
}

function describe(r: SimulationResult): string {
  const m = r.mesh;
  const mesh = [m.dp_replicate > 1 ? `replicate ${m.dp_replicate}` : '', m.dp_shard > 1 ? `shard ${m.dp_shard}` : '', m.tp > 1 ? `TP ${m.tp}` : '', m.cp > 1 ? `CP ${m.cp}` : ''].filter(Boolean).join(' × ');
  return `${r.model.id}, ${r.strategy.toUpperCase()} on ${r.world_size} × ${r.hardware}${mesh ? ` (${mesh})` : ''}, micro ${r.batch.micro_batch_size} × GA ${r.batch.gradient_accumulation_steps}, seq ${r.batch.sequence_len}`;
}

interface Row {
  label: string;
  value: (r: SimulationResult) => number;
  show: (x: number, r: SimulationResult) => string;
  /** Higher is better (tokens/s) or worse (time, memory); undefined: no judgement. */
  better?: 'higher' | 'lower';
  id?: string;
}

const ROWS: Row[] = [
  { label: 'step time', value: (r) => r.step_time_s, show: (x) => seconds(x), better: 'lower', id: 'step-time' },
  { label: 'tokens/s (per GPU)', value: (r) => r.throughput.tokens_per_s, show: (x, r) => `${count(x)} (${count(r.throughput.tokens_per_s_per_gpu)})`, better: 'higher', id: 'tokens-per-s' },
  { label: 'MFU', value: (r) => r.throughput.mfu, show: (x) => pct(x), better: 'higher', id: 'mfu' },
  { label: 'exposed communication', value: (r) => r.communication.exposed_s, show: (x, r) => `${seconds(x)} (${pct(r.communication.exposed_ratio)})`, better: 'lower', id: 'exposed' },
  { label: 'communication busy', value: (r) => r.communication.busy_s, show: (x, r) => `${seconds(x)} (${pct(r.communication.busy_ratio)})`, better: 'lower' },
  { label: 'sent per GPU per step', value: (r) => r.communication.bytes_per_gpu, show: (x) => bytesHuman(x), better: 'lower' },
  { label: 'peak memory (allocated)', value: (r) => r.memory.peak_bytes, show: (x) => gib(x), better: 'lower', id: 'peak-memory' },
  {
    label: 'needed / GPU memory',
    value: (r) => r.memory.required_bytes,
    show: (x, r) => `${gib(x)} / ${gib(r.memory.capacity_bytes)} → ${r.memory.fits ? 'fits' : '<span class="nofit">OOM</span>'}`,
    better: 'lower',
  },
  { label: 'model states per GPU', value: (r) => r.memory.model_states_bytes, show: (x) => gib(x), better: 'lower' },
  { label: 'global batch (tokens)', value: (r) => r.batch.tokens_per_step, show: (x, r) => `${r.batch.global_batch_size} × ${r.batch.sequence_len} = ${count(x)}` },
];

function renderMetrics(cur: SimulationResult, pin: Run | undefined): void {
  const head = pin ? '<tr><th></th><th>A (pinned)</th><th>B</th><th>B vs A</th></tr>' : '';
  const rows = ROWS.map((row) => {
    const b = row.value(cur);
    const cellB = `<td class="num${row.id === 'step-time' ? ' headline' : ''}"${row.id ? ` id="${row.id}"` : ''}>${row.show(b, cur)}</td>`;
    if (!pin) return `<tr><th>${row.label}</th>${cellB}</tr>`;
    const a = row.value(pin.ok.result);
    const rel = a === 0 ? (b === 0 ? 0 : Infinity) : b / a - 1;
    const judged = row.better && Math.abs(rel) >= 5e-4 ? ((rel > 0) === (row.better === 'higher') ? 'better' : 'worse') : '';
    const delta = !Number.isFinite(rel) ? 'new' : Math.abs(rel) < 5e-4 ? '=' : `${rel > 0 ? '+' : '−'}${(100 * Math.abs(rel)).toFixed(1)}%`;
    return `<tr><th>${row.label}</th><td class="num${row.id === 'step-time' ? ' headline' : ''}"${row.id ? ` id="${row.id}-a"` : ''}>${row.show(a, pin.ok.result)}</td>${cellB}<td class="num delta ${judged}">${delta}</td></tr>`;
  }).join('');
  $('metrics').innerHTML = `<table>${head}${rows}</table>`;
}

// --- pin (A/B), lessons, scenarios, links ------------------------------------------------------------

const pinButton = $<HTMLButtonElement>('pin');

function setPinned(run: Run | undefined): void {
  state.pinned = run;
  pinButton.textContent = run ? 'Unpin A' : 'Pin as A';
}

pinButton.addEventListener('click', () => {
  if (state.pinned) setPinned(undefined);
  else if (state.current) setPinned(state.current);
  void render().then(updateHash);
});

async function runLesson(lesson: Lesson): Promise<void> {
  const scenario = __SHARDSIM_SCENARIOS__.find((s) => s.name === lesson.scenario);
  if (!scenario) return;
  $('status').textContent = `running the lesson's ${lesson.variants.length} simulations…`;
  document.body.dataset.state = 'running';
  const yamls = lesson.variants.map((v) => lessonYaml(lesson, scenario.text, v));
  const answers = await Promise.all(yamls.map((y, i) => simulate(lesson.scenario, y, i > 1)));
  const failed = answers.find((a): a is SimulateError => !a.ok);
  if (failed) {
    showMessages([{ kind: 'error', text: failed.message }]);
    document.body.dataset.state = 'error';
    return;
  }
  const oks = answers as SimulateOk[];
  const runs: LessonRun[] = oks.map((a, i) => ({ label: lesson.variants[i]!.label, result: a.result, tallies: a.tallies }));
  state.name = lesson.scenario;
  $('error-banner').hidden = true;
  state.lesson = { lesson, bYaml: yamls[1]! };
  setPinned({ name: lesson.scenario, yaml: yamls[0]!, ok: oks[0]! });
  state.current = { name: lesson.scenario, yaml: yamls[1]!, ok: oks[1]! };
  setEditorText(yamls[1]!);
  syncControls(parseDocument(yamls[1]!));
  $('lesson-box').hidden = false;
  $('lesson-title').textContent = `${lesson.title} — A: ${lesson.variants[0].label}; B: ${lesson.variants[1].label}`;
  $('lesson-text').textContent = lesson.explain(runs);
  $('lesson-stale').hidden = true;
  $<HTMLSelectElement>('scenario').value = lesson.scenario;
  await render();
  showMessages([{ kind: 'ok', text: 'valid — simulated' }]);
  $('status').textContent = `lesson: ${runs.length} runs`;
  void updateHash();
}

$<HTMLSelectElement>('lesson').addEventListener('change', (e) => {
  const lesson = lessonById((e.target as HTMLSelectElement).value);
  if (lesson) void runLesson(lesson);
  else {
    state.lesson = undefined;
    $('lesson-box').hidden = true;
    void updateHash();
  }
});

function loadScenario(name: string, yaml: string): void {
  state.name = name;
  setEditorText(yaml);
  const doc = parseDocument(yaml);
  if (doc.errors.length === 0) syncControls(doc);
  schedule(0);
}

$<HTMLSelectElement>('scenario').addEventListener('change', (e) => {
  const s = __SHARDSIM_SCENARIOS__.find((x) => x.name === (e.target as HTMLSelectElement).value);
  if (s) loadScenario(s.name, s.text);
});

let lastHash = '';
async function updateHash(): Promise<void> {
  const cur = state.current;
  if (!cur) return;
  const fragment = await encodeState({
    name: cur.name,
    yaml: editor.value,
    ...(state.pinned ? { pinned: { name: state.pinned.name, yaml: state.pinned.yaml } } : {}),
    ...(state.lesson ? { lesson: state.lesson.lesson.id } : {}),
  });
  lastHash = `#${fragment}`;
  if (location.hash !== lastHash) history.replaceState(null, '', lastHash);
}

$('share').addEventListener('click', () => {
  void updateHash().then(async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      $('status').textContent = 'link copied';
    } catch {
      $('status').textContent = 'copy the address bar: it holds this state';
    }
  });
});

async function loadFromHash(): Promise<boolean> {
  const s = await decodeState(location.hash);
  if (!s) return false;
  lastHash = location.hash;
  if (s.lesson) {
    const lesson = lessonById(s.lesson);
    if (lesson) {
      $<HTMLSelectElement>('lesson').value = lesson.id;
      await runLesson(lesson);
      // The link may carry a B the user changed after the lesson ran.
      if (editor.value !== s.yaml) loadScenario(s.name, s.yaml);
      return true;
    }
  }
  if (s.pinned) {
    const a = await simulate(s.pinned.name, s.pinned.yaml);
    if (a.ok) setPinned({ name: s.pinned.name, yaml: s.pinned.yaml, ok: a });
  }
  const preset = __SHARDSIM_SCENARIOS__.find((x) => x.name === s.name);
  if (preset) $<HTMLSelectElement>('scenario').value = preset.name;
  loadScenario(s.name, s.yaml);
  return true;
}

window.addEventListener('hashchange', () => {
  if (location.hash !== lastHash) void loadFromHash();
});

let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => void render(), 200);
});

// --- start -------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const scenarioSelect = $<HTMLSelectElement>('scenario');
  for (const s of __SHARDSIM_SCENARIOS__) scenarioSelect.add(new Option(s.name, s.name));
  for (const l of LESSONS) $<HTMLSelectElement>('lesson').add(new Option(l.title, l.id));
  const info = await ask<InitInfo>({ type: 'init' });
  state.ctx = { hardware: info.hardware, defaultHardware: info.defaultHardware, models: info.models };
  buildControls();
  // Canvas text is drawn with whatever font is loaded at that moment.
  await document.fonts.load('12px "DejaVu Sans"');
  await document.fonts.load('bold 12px "DejaVu Sans"');
  if (await loadFromHash()) return;
  const s = __SHARDSIM_SCENARIOS__.find((x) => x.name === DEFAULT_SCENARIO) ?? __SHARDSIM_SCENARIOS__[0]!;
  scenarioSelect.value = s.name;
  loadScenario(s.name, s.text);
}

void start();
