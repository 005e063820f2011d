import { parseDocument } from 'yaml';
import type { SimulationResult } from '../metrics/result.ts';
import { bytesHuman, gib, pct, seconds } from '../report/format.ts';
import { CONTROLS, setKey, writeControl, type ControlValue } from './controls.ts';
import type { Tally } from './protocol.ts';

/**
 * Guided lessons: each is a card scenario with a few edits, simulated as A (pinned) and B (shown) plus
 * any further variants, and a paragraph written from those runs' numbers — which way the step time,
 * exposed communication, bytes and memory moved, and by how much — never fixed prose about an
 * expected outcome. A lesson that is not borne out by the runs says so.
 */

/** Scenario edits: control keys (controls.ts, e.g. `strategy`) or plain dotted YAML keys. */
export type Edits = Record<string, ControlValue>;

export interface LessonVariant {
  label: string;
  edits: Edits;
}

export interface Lesson {
  id: string;
  title: string;
  /** A card scenario (scenarios/<name>.yaml) the variants start from. */
  scenario: string;
  /** Common edits applied to every variant (e.g. two nodes). */
  base?: Edits;
  /** variants[0] is pinned as A, variants[1] is shown as B; the rest only feed the paragraph. */
  variants: [LessonVariant, LessonVariant, ...LessonVariant[]];
  /** The paragraph, from the runs (same order as variants). */
  explain(runs: LessonRun[]): string;
}

export interface LessonRun {
  label: string;
  result: SimulationResult;
  tallies: Tally[];
}

/** The YAML of one variant: the scenario text with the lesson's common edits and the variant's, comments kept. */
export function lessonYaml(lesson: Lesson, scenarioYaml: string, variant: LessonVariant): string {
  const doc = parseDocument(scenarioYaml);
  for (const [key, value] of Object.entries({ ...lesson.base, ...variant.edits })) {
    const control = CONTROLS.find((c) => c.key === key);
    if (control) writeControl(control, doc, value);
    else setKey(doc, key, value);
  }
  return doc.toString({ lineWidth: 0 });
}

// --- helpers for the paragraphs ----------------------------------------------------------------------

const ms = (s: number) => `${(s * 1e3).toFixed(0)} ms`;
/** "12.3% slower" / "4.5% faster" / "the same" (within 0.05%). */
function change(before: number, after: number, up: string, down: string): string {
  const rel = after / before - 1;
  if (Math.abs(rel) < 5e-4) return 'unchanged';
  return `${pct(Math.abs(rel))} ${rel > 0 ? up : down}`;
}
const fits = (r: SimulationResult) => (r.memory.fits ? 'fits' : 'does not fit');
const sum = (ts: Tally[], pred: (t: Tally) => boolean, f: (t: Tally) => number) => ts.filter(pred).reduce((a, t) => a + f(t), 0);
const count = (ts: Tally[], kind: string, phase?: string) => sum(ts, (t) => t.kind === kind && (phase === undefined || t.phase === phase), (t) => t.count);
const wire = (ts: Tally[], kind: string, phase?: string) => sum(ts, (t) => t.kind === kind && (phase === undefined || t.phase === phase), (t) => t.wireBytes);

function need(runs: LessonRun[], n: number): LessonRun[] {
  if (runs.length < n) throw new Error(`lesson needs ${n} runs, got ${runs.length}`);
  return runs;
}

// --- the lessons -------------------------------------------------------------------------------------

export const LESSONS: Lesson[] = [
  {
    id: 'prefetch',
    title: 'Overlap and prefetch',
    scenario: 'llama-2-13b-fsdp2-8xh100',
    // Axolotl's FSDPConfig drops backward_prefetch, so the knob is turned as plain accelerate would (framework: other).
    base: { strategy: 'fsdp1', 'simulation.framework': 'other' },
    variants: [
      { label: 'FSDP1, backward_prefetch BACKWARD_PRE', edits: { 'fsdp_config.backward_prefetch': 'BACKWARD_PRE' } },
      { label: 'FSDP1, NO_PREFETCH', edits: { 'fsdp_config.backward_prefetch': 'NO_PREFETCH' } },
      { label: 'FSDP1, BACKWARD_POST', edits: { 'fsdp_config.backward_prefetch': 'BACKWARD_POST' } },
      { label: 'FSDP1 under Axolotl', edits: { 'simulation.framework': undefined, 'fsdp_config.backward_prefetch': undefined } },
    ],
    explain(runs) {
      const [pre, none, post, axolotl] = need(runs, 4).map((r) => r.result) as [SimulationResult, SimulationResult, SimulationResult, SimulationResult];
      const same = (x: SimulationResult, y: SimulationResult) => Math.abs(x.step_time_s - y.step_time_s) <= 1e-6 * y.step_time_s;
      const sameBytes = Math.abs(pre.communication.bytes_per_gpu - none.communication.bytes_per_gpu) <= 1e-6 * pre.communication.bytes_per_gpu;
      const postLikeNone = same(post, none);
      return (
        `Both runs move ${sameBytes ? 'the same' : 'different'} ${bytesHuman(pre.communication.bytes_per_gpu)}${sameBytes ? '' : ` vs ${bytesHuman(none.communication.bytes_per_gpu)}`} per GPU per step, ` +
        `and the collectives are busy for ${ms(pre.communication.busy_s)} (A) and ${ms(none.communication.busy_s)} (B). What changes is when they are issued. ` +
        `With BACKWARD_PRE (A) FSDP1 issues the next unit's AllGather before the current unit's backward runs, so it overlaps that compute: ` +
        `${ms(pre.communication.exposed_s)} of communication is exposed (${pct(pre.communication.exposed_ratio)} of the step). ` +
        `With NO_PREFETCH (B) each unit's gather starts only when its backward is due, and the compute stream waits for it: exposed communication is ${ms(none.communication.exposed_s)} ` +
        `(${pct(none.communication.exposed_ratio)}), and the step takes ${seconds(none.step_time_s)} instead of ${seconds(pre.step_time_s)} (${change(pre.step_time_s, none.step_time_s, 'slower', 'faster')}). ` +
        `BACKWARD_POST, which issues the gather after the current unit's gradients are computed, ${postLikeNone ? 'lands exactly where NO_PREFETCH does here' : `takes ${seconds(post.step_time_s)}`}. ` +
        `The price of prefetching is memory: one more unit's parameters gathered at a time (peak ${gib(pre.memory.peak_bytes)} vs ${gib(none.memory.peak_bytes)}). ` +
        `Through Axolotl the choice is not yours: its FSDPConfig drops backward_prefetch and accelerate's default is no prefetch, so the same config run by Axolotl takes ${seconds(axolotl.step_time_s)}` +
        `${same(axolotl, none) ? ' — exactly NO_PREFETCH' : same(axolotl, pre) ? ' — as fast as BACKWARD_PRE' : ''} (the runs above set simulation.framework: other).`
      );
    },
  },
  {
    id: 'reshard',
    title: 'reshard_after_forward: memory for communication',
    scenario: 'llama-2-13b-fsdp2-8xh100',
    variants: [
      { label: 'FSDP2, reshard_after_forward: true', edits: { 'fsdp_config.reshard_after_forward': true } },
      { label: 'FSDP2, reshard_after_forward: false', edits: { 'fsdp_config.reshard_after_forward': false } },
    ],
    explain(runs) {
      const [a, b] = need(runs, 2);
      const ra = a!.result;
      const rb = b!.result;
      const agA = count(a!.tallies, 'all_gather', 'backward');
      const agB = count(b!.tallies, 'all_gather', 'backward');
      const saved = wire(a!.tallies, 'all_gather') - wire(b!.tallies, 'all_gather');
      const faster = rb.step_time_s < ra.step_time_s;
      return (
        `Resharding after forward (A) frees each layer's gathered parameters once its forward is done, so backward gathers them again: ${agA} AllGathers in backward. ` +
        `Keeping them (B) drops ${agA - agB} of those and ${bytesHuman(saved)} of AllGather traffic per GPU per step; collectives are busy ${ms(rb.communication.busy_s)} instead of ${ms(ra.communication.busy_s)}. ` +
        `The step ${faster ? 'gets faster' : 'does not get faster'}: ${seconds(ra.step_time_s)} → ${seconds(rb.step_time_s)} (${change(ra.step_time_s, rb.step_time_s, 'slower', 'faster')}), ` +
        `${ra.communication.exposed_s < 0.05 * ra.step_time_s ? `because in A the extra gathers were already hidden behind compute (only ${ms(ra.communication.exposed_s)} exposed) — the saving is the NCCL kernels' share of the SMs, not waiting` : `because A's backward gathers were partly exposed (${ms(ra.communication.exposed_s)})`}. ` +
        `Memory pays: the peak allocation rises from ${gib(ra.memory.peak_bytes)} to ${gib(rb.memory.peak_bytes)} (+${gib(rb.memory.peak_bytes - ra.memory.peak_bytes)}), ` +
        `the unsharded parameters of every layer held from forward to backward; with allocator overhead and the CUDA context B needs ≈ ${gib(rb.memory.required_bytes)} of ${gib(rb.memory.capacity_bytes)} and ${fits(rb)} (A ${fits(ra)}).`
      );
    },
  },
  {
    id: 'ddp-buckets',
    title: 'DDP bucket size',
    scenario: 'llama-3.1-8b-ddp-8xh100',
    // Two nodes on a 100 Gb/s fabric, no accumulation: the gradient AllReduces cross the network every step.
    base: { 'simulation.num_nodes': 2, 'simulation.inter_node_bandwidth': '100 Gb/s', gradient_accumulation_steps: 1 },
    variants: [
      { label: 'DDP, bucket 25 MiB (default)', edits: { ddp_bucket_cap_mb: 25 } },
      { label: 'DDP, one 4000 MiB bucket', edits: { ddp_bucket_cap_mb: 4000 } },
      { label: 'DDP, bucket 1 MiB', edits: { ddp_bucket_cap_mb: 1 } },
      { label: 'DDP, bucket 100 MiB', edits: { ddp_bucket_cap_mb: 100 } },
      { label: 'DDP, bucket 500 MiB', edits: { ddp_bucket_cap_mb: 500 } },
    ],
    explain(runs) {
      const rows = need(runs, 3)
        .map((r) => ({ mb: Number(/(\d+) MiB/.exec(r.label)?.[1]), n: count(r.tallies, 'all_reduce', 'backward'), r: r.result }))
        .sort((x, y) => x.mb - y.mb);
      const best = [...rows].sort((x, y) => x.r.step_time_s - y.r.step_time_s)[0]!;
      const small = rows[0]!;
      const big = rows[rows.length - 1]!;
      const list = rows.map((x) => `${x.mb} MiB: ${x.n} AllReduces, busy ${ms(x.r.communication.busy_s)}, exposed ${ms(x.r.communication.exposed_s)}, step ${seconds(x.r.step_time_s)}`).join('; ');
      return (
        `DDP all-reduces gradients in buckets, each launched as soon as its last gradient exists, so all but the last bucket overlap the rest of backward. ` +
        `Every size sends the same ${bytesHuman(small.r.communication.bytes_per_gpu)} per GPU; ${list}. ` +
        `Small buckets pay a latency per collective: ${small.n} AllReduces keep the network busy ${ms(small.r.communication.busy_s - big.r.communication.busy_s)} longer than ${big.n}. ` +
        `Big buckets start late: with ${big.mb} MiB the ${big.n === 1 ? 'single AllReduce' : `last of ${big.n} AllReduces`} waits for most of backward and then runs with nothing left to overlap, ` +
        `so ${ms(big.r.communication.exposed_s)} is exposed against ${ms(small.r.communication.exposed_s)} with ${small.mb} MiB. ` +
        `The fastest here is ${best.mb} MiB (${seconds(best.r.step_time_s)}).`
      );
    },
  },
  {
    id: 'zero-stages',
    title: 'ZeRO stages',
    scenario: 'llama-3.1-8b-ddp-8xh100',
    variants: [
      { label: 'ZeRO-1', edits: { strategy: 'zero1' } },
      { label: 'ZeRO-3', edits: { strategy: 'zero3' } },
      { label: 'ZeRO-2', edits: { strategy: 'zero2' } },
      { label: 'DDP', edits: { strategy: 'ddp' } },
    ],
    explain(runs) {
      const by = new Map(need(runs, 4).map((r) => [r.label, r]));
      const order = ['DDP', 'ZeRO-1', 'ZeRO-2', 'ZeRO-3'].map((l) => by.get(l)!);
      const ddp = order[0]!.result;
      const list = order
        .map((x) => `${x.label}: model states ${gib(x.result.memory.model_states_bytes)}, peak ${gib(x.result.memory.peak_bytes)} (${fits(x.result)}), ${bytesHuman(x.result.communication.bytes_per_gpu)} sent, step ${seconds(x.result.step_time_s)}`)
        .join('; ');
      const z1 = order[1]!.result;
      const z3 = order[3]!.result;
      const n = ddp.world_size;
      return (
        `ZeRO partitions across the ${n} GPUs what DDP replicates: stage 1 the optimizer states, stage 2 also the gradients, stage 3 also the parameters. ${list}. ` +
        `Model states shrink ${(ddp.memory.model_states_bytes / z3.memory.model_states_bytes).toFixed(1)}× from DDP to ZeRO-3 ` +
        `(DDP keeps ${ddp.precision.optimizer_bytes_per_parameter} B of optimizer state per parameter, ZeRO ${z1.precision.optimizer_bytes_per_parameter} B before partitioning, so ZeRO-1 ${z1.memory.model_states_bytes < ddp.memory.model_states_bytes ? 'saves' : 'costs'} ${gib(Math.abs(ddp.memory.model_states_bytes - z1.memory.model_states_bytes))} against DDP). ` +
        `Traffic grows: ZeRO-1/2 add an AllGather of the updated parameters after the step${ddp.batch.gradient_accumulation_steps > 1 ? `, ZeRO-2 reduces every one of the ${ddp.batch.gradient_accumulation_steps} micro-batches where DDP and ZeRO-1 reduce once` : ''}, and ZeRO-3 gathers each layer's parameters in forward and again in backward — ` +
        `${(z3.communication.bytes_per_gpu / ddp.communication.bytes_per_gpu).toFixed(2)}× DDP's bytes, for a step ${change(ddp.step_time_s, z3.step_time_s, 'slower', 'faster')}: ` +
        `${ms(z3.communication.exposed_s)} of ZeRO-3's ${ms(z3.communication.busy_s)} of communication is exposed (DDP ${ms(ddp.communication.exposed_s)} of ${ms(ddp.communication.busy_s)})` +
        `${z3.communication.exposed_s < 0.25 * z3.communication.busy_s ? ', the rest overlaps compute.' : ', so much of it does not hide behind compute.'}`
      );
    },
  },
  {
    id: 'three-x',
    title: 'Why “FSDP ≈ 3× DDP” is wrong',
    scenario: 'llama-3.1-8b-ddp-8xh100',
    base: { gradient_accumulation_steps: 1 },
    variants: [
      { label: 'DDP, no accumulation', edits: { strategy: 'ddp' } },
      { label: 'FSDP2, no accumulation', edits: { strategy: 'fsdp2' } },
      { label: 'DDP, accumulation 4', edits: { strategy: 'ddp', gradient_accumulation_steps: 4 } },
      { label: 'FSDP2, accumulation 4', edits: { strategy: 'fsdp2', gradient_accumulation_steps: 4 } },
    ],
    explain(runs) {
      const [ddp, fsdp, ddp4, fsdp4] = need(runs, 4);
      const d = ddp!.result.communication.bytes_per_gpu;
      const f = fsdp!.result.communication.bytes_per_gpu;
      const agF = wire(fsdp!.tallies, 'all_gather', 'forward');
      const agB = wire(fsdp!.tallies, 'all_gather', 'backward');
      const rs = wire(fsdp!.tallies, 'reduce_scatter');
      const n = ddp!.result.world_size;
      const ratio4 = fsdp4!.result.communication.bytes_per_gpu / ddp4!.result.communication.bytes_per_gpu;
      return (
        `Per step on ${n} GPUs, DDP's AllReduce of the ${ddp!.result.precision.reduce} gradients sends ${bytesHuman(d)} per GPU (2(n−1)/n × the gradient bytes). ` +
        `FSDP2 with reshard_after_forward sends ${bytesHuman(f)}: AllGather in forward ${bytesHuman(agF)}, again in backward ${bytesHuman(agB)}, ReduceScatter ${bytesHuman(rs)} — each (n−1)/n of the same bytes, ` +
        `so ${(f / d).toFixed(2)}× DDP, not 3×. The "3×" counts three collectives against one but forgets that an AllReduce is itself a ReduceScatter plus an AllGather (twice the bytes of either), ` +
        `which makes the rule 1.5× at equal dtypes${f / d < 1.5 ? '; it comes out below that because the root group (embedding, norm, lm_head) is not resharded after forward and so is gathered once' : ''}. ` +
        `Accumulation changes the ratio, not the rule: with 4 micro-batches FSDP gathers the parameters for every micro-batch while DDP (no_sync) reduces once, ` +
        `so the ratio becomes ${ratio4.toFixed(2)}× (${bytesHuman(fsdp4!.result.communication.bytes_per_gpu)} vs ${bytesHuman(ddp4!.result.communication.bytes_per_gpu)}). ` +
        `Time is another matter: the step takes ${seconds(ddp!.result.step_time_s)} with DDP and ${seconds(fsdp!.result.step_time_s)} with FSDP2 (${change(ddp!.result.step_time_s, fsdp!.result.step_time_s, 'slower', 'faster')}); ` +
        `exposed communication is ${ms(ddp!.result.communication.exposed_s)} and ${ms(fsdp!.result.communication.exposed_s)}` +
        `${fsdp!.result.communication.exposed_s < 0.25 * fsdp!.result.communication.busy_s ? ` of ${ms(ddp!.result.communication.busy_s)} and ${ms(fsdp!.result.communication.busy_s)} busy: the extra bytes overlap compute.` : `: FSDP's extra bytes are not all hidden here.`}`
      );
    },
  },
];

export function lessonById(id: string): Lesson | undefined {
  return LESSONS.find((l) => l.id === id);
}
