import type { SimulationRun } from '../pipeline/simulate.ts';
import type { Span } from '../engine/index.ts';
import type { OpTag } from '../strategy/index.ts';
import type { Dtype } from '../util/dtype.ts';
import { BYTES_PER_ELEMENT } from '../util/dtype.ts';
import { memorySeries, MEMORY_CATEGORIES } from '../metrics/memory-series.ts';
import { slowestRank } from '../metrics/activity.ts';
import { spansOf } from '../metrics/spans.ts';
import { streamView, type StreamView } from './streams.ts';
import { opName } from './names.ts';
import { opMemo } from './op-memo.ts';

/**
 * trace.json: the simulated step in Chrome Trace Event Format, laid out like a PyTorch profiler (Kineto)
 * GPU trace so it opens in Perfetto / chrome://tracing next to a real one (shared/reference/ecosystem.md §2):
 * one process per rank ("rank N"), one thread per CUDA stream ("stream 7 compute", "stream 20 nccl
 * all_gather"…), kernels as complete (`X`) events with cat "kernel", memory as counters (`C`), and a flow
 * arrow (`s` → `f` with bp "e") wherever a kernel waits on another stream, as a cudaStreamWaitEvent does.
 * Timestamps are microseconds with ns precision, as Kineto writes them.
 */

export interface TraceEvent {
  ph: 'X' | 'C' | 'M' | 's' | 'f';
  name: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  schemaVersion: number;
  traceName: string;
  displayTimeUnit: 'ms';
  baseTimeNanoseconds: number;
  deviceProperties: { id: number; name: string; totalGlobalMem: number }[];
  distributedInfo: { backend: string; rank: number; world_size: number };
  shardsim: Record<string, unknown>;
  traceEvents: TraceEvent[];
}

/** More simulated ranks than this: the trace keeps rank 0 … and the slowest rank, to stay a few MB. */
const MAX_TRACE_RANKS = 16;

/** µs with ns precision; rounding both ends of every span the same way keeps one stream's kernels from overlapping. */
const us = (seconds: number) => Math.round(seconds * 1e9) / 1e3;

const NCCL_COLL: Record<string, string> = { all_gather: 'AllGather', reduce_scatter: 'ReduceScatter', all_reduce: 'AllReduce', broadcast: 'Broadcast' };
const NCCL_DTYPE: Record<Dtype, string> = { bf16: 'bf16', fp16: 'f16', fp32: 'f32' };
/** c10d op names as Kineto's "Collective name" shows them for FSDP2 / DDP. */
const C10D_NAME: Record<string, string> = { all_gather: '_allgather_base', reduce_scatter: '_reduce_scatter_base', all_reduce: 'allreduce', broadcast: 'broadcast' };

function collectiveDtype(run: SimulationRun, t: OpTag): Dtype {
  if (t.kind === 'all_gather') return run.cfg.precision.gatherDtype;
  // Gradient reductions run in reduce_dtype; the optimizer's small AllReduce (the global gradient norm) is fp32.
  return t.phase === 'backward' ? run.cfg.precision.reduceDtype : 'fp32';
}

/**
 * NCCL's kernel names: ncclDevKernel_<Coll>[_<RedOp>_<type>]_<ALGO>_<PROTO> (NVIDIA/nccl
 * src/device/generate.py). Recent NCCL builds specialised entry points for few (algorithm, protocol)
 * pairs and run the rest through them, which is why real traces show `…_RING_LL` even for large
 * messages; NVLS exists only with the SIMPLE protocol.
 */
export function ncclKernelName(kind: string, dtype: Dtype, algorithm: string | undefined): string {
  // NCCL's AllToAll is grouped send/recv, which runs NCCL's SendRecv kernel (src/device/sendrecv.h).
  if (kind === 'all_to_all') return 'ncclDevKernel_SendRecv';
  const coll = NCCL_COLL[kind] ?? kind;
  const algo = algorithm === 'nvls' ? 'NVLS_SIMPLE' : 'RING_LL';
  const reduces = kind === 'all_reduce' || kind === 'reduce_scatter';
  return `ncclDevKernel_${coll}${reduces ? `_Sum_${NCCL_DTYPE[dtype]}` : ''}_${algo}`;
}

/**
 * JSON text of one value, as JSON.stringify writes it inside an object. The trace is tens of thousands of
 * events: they are written as text, key by key in a fixed order, instead of built as objects and
 * stringified (half the report's garbage); `chromeTrace` parses the text back for callers that want objects.
 */
const json = (v: unknown): string => (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : JSON.stringify(v)!);
/** `,"key":value`, or nothing for undefined (JSON.stringify drops such keys). `key` is a JSON-quoted name. */
const prop = (quotedKey: string, v: unknown): string => (v === undefined ? '' : `,${quotedKey}:${json(v)}`);

/** A kernel as the trace shows it: its `X` event's text and what the flow arrows need. */
interface KernelEvent {
  text: string;
  tid: number;
  ts: number;
  dur: number;
}

/** What every event of one op (kind, phase, label) shares: its quoted name and the head of its args. */
interface OpText {
  layer: number | undefined;
  algorithm: string | undefined;
  /** The event's `name`, quoted: the op's (compute) or NCCL's kernel name (collective). */
  name: string;
  /** `"args":{"layer":…,"op":…,"phase":…` */
  head: string;
  /** A collective's own args, for the payload they were written for. */
  collective?: { bytes: number | undefined; wireBytes: number | undefined; groupSize: number | undefined; text: string };
}

/**
 * An event's text made from pieces written once per op: a step repeats each op over micro-batches and
 * layers, tens of thousands of events from a few hundred ops (a `JSON.stringify` and a dozen
 * concatenations per event were a fifth of the trace's time and most of its garbage). Every piece is
 * checked against the tag it is reused for.
 */
class TraceText {
  private readonly quoted = new Map<string, string>();
  readonly op: (t: OpTag) => OpText;

  constructor(private readonly run: SimulationRun) {
    this.op = opMemo(
      (t) => {
        const compute = t.kind === 'compute' || t.kind === 'optimizer';
        const name = compute ? opName(t) : t.algorithm === 'local' ? `${t.kind} (no-op: group of 1)` : ncclKernelName(t.kind, collectiveDtype(this.run, t), t.algorithm);
        return {
          layer: t.layer,
          algorithm: t.algorithm,
          name: JSON.stringify(name),
          head: `"args":{"layer":${json(t.layer ?? null)}${quotedProp('"op"', this.q(t.label))}${quotedProp('"phase"', this.q(t.phase))}`,
        };
      },
      (e, t) => e.layer === t.layer && e.algorithm === t.algorithm,
    );
  }

  /** `JSON.stringify(s)`, or undefined for undefined (the key is then left out, as JSON.stringify does). */
  q(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    let q = this.quoted.get(s);
    if (q === undefined) this.quoted.set(s, (q = JSON.stringify(s)));
    return q;
  }

  /** A collective's args after "stream", up to its wait: Kineto's names, NCCL's type, the payload. */
  collective(e: OpText, t: OpTag): string {
    const c = e.collective;
    if (c && c.bytes === t.bytes && c.wireBytes === t.wireBytes && c.groupSize === t.groupSize) return c.text;
    const dtype = collectiveDtype(this.run, t);
    const n = t.groupSize ?? 1;
    const elements = Math.round((t.bytes ?? 0) / BYTES_PER_ELEMENT[dtype]);
    // Kineto's collective args: AllGather's input is one shard, ReduceScatter's output is one shard.
    const inElems = t.kind === 'all_gather' ? Math.round(elements / n) : elements;
    const outElems = t.kind === 'reduce_scatter' ? Math.round(elements / n) : elements;
    const text =
      `,"Collective name":${json(C10D_NAME[t.kind] ?? t.kind)},"In msg nelems":${json(inElems)},"Out msg nelems":${json(outElems)},"Group size":${json(n)},"dtype":${json(NCCL_DTYPE[dtype])}` +
      `,"bytes":${json(t.bytes ?? 0)},"wire bytes":${json(t.wireBytes ?? 0)},"algorithm":${json(t.algorithm ?? '')}`;
    e.collective = { bytes: t.bytes, wireBytes: t.wireBytes, groupSize: t.groupSize, text };
    return text;
  }
}

/** `,"key":value` of a quoted value, or nothing for undefined. */
const quotedProp = (quotedKey: string, quoted: string | undefined): string => (quoted === undefined ? '' : `,${quotedKey}:${quoted}`);

function kernelEvent(s: Span<OpTag>, stream: StreamView, text: TraceText): KernelEvent {
  const t = s.tag;
  const e = text.op(t);
  const args = `${e.head}${prop('"microBatch"', t.microBatch)}${prop('"device"', s.process)},"stream":${stream.id}`;
  if (t.kind === 'compute' || t.kind === 'optimizer') {
    const ts = us(s.workStart);
    const dur = us(s.end) - ts;
    return { text: `{"ph":"X","cat":"kernel","name":${e.name},"pid":${json(s.process)},"tid":${stream.id},"ts":${json(ts)},"dur":${json(dur)},${args}${t.flops !== undefined ? `,"GFLOPs":${json(Math.round(t.flops / 1e9))}` : ''}}}`, tid: stream.id, ts, dur };
  }
  // A NCCL kernel is on its stream from launch and spins until every peer has arrived: the event starts
  // at arrival, like a real trace; the wait is in the args.
  const ts = us(s.start);
  const dur = us(s.end) - ts;
  return { text: `{"ph":"X","cat":"kernel","name":${e.name},"pid":${json(s.process)},"tid":${stream.id},"ts":${json(ts)},"dur":${json(dur)},${args}${text.collective(e, t)},"waiting for peers (us)":${json(us(s.workStart) - ts)}}}`, tid: stream.id, ts, dur };
}

/** The ranks the trace shows. */
export function traceRanks(run: SimulationRun): number[] {
  const ranks = run.plan.ranks;
  if (ranks.length <= MAX_TRACE_RANKS) return [...ranks];
  const slow = slowestRank(run.timeline, ranks);
  const keep = ranks.slice(0, MAX_TRACE_RANKS - 1);
  return keep.includes(slow) ? [...keep, ranks[MAX_TRACE_RANKS - 1]!] : [...keep, slow];
}

/** The trace as objects (parsed from `chromeTraceJson`). */
export function chromeTrace(run: SimulationRun): ChromeTrace {
  return JSON.parse(chromeTraceJson(run)) as ChromeTrace;
}

/** trace.json's text. */
export function chromeTraceJson(run: SimulationRun): string {
  return [...chromeTraceChunks(run)].join('');
}

/** Characters per chunk of `chromeTraceChunks`: written out and dropped while young (cheap to collect). */
const CHUNK_CHARS = 1 << 16;

/**
 * trace.json's text in pieces of about CHUNK_CHARS, to be written as they come: a 16-GPU step is ~80 k
 * events and ~13 MB, which held at once (as event objects or strings) costs more in garbage collection
 * than in writing.
 */
export function* chromeTraceChunks(run: SimulationRun): Generator<string> {
  const ranks = traceRanks(run);
  const shown = new Set(ranks);
  const gpu = run.cluster.profile.gpu;
  const r = run.result;
  const head: Omit<ChromeTrace, 'traceEvents'> = {
    schemaVersion: 1,
    traceName: `shardsim ${r.scenario}`,
    displayTimeUnit: 'ms',
    baseTimeNanoseconds: 0,
    deviceProperties: ranks.map((id) => ({ id, name: gpu.name, totalGlobalMem: gpu.memory_bytes })),
    distributedInfo: { backend: 'nccl', rank: ranks[0] ?? 0, world_size: r.world_size },
    shardsim: {
      simulated: true,
      scenario: r.scenario,
      strategy: r.strategy,
      hardware: r.hardware,
      step_time_s: r.step_time_s,
      ranks_shown: ranks,
      ranks_simulated: run.plan.ranks.length,
      note:
        run.plan.ranks.length === 1
          ? `ranks are symmetric: rank 0 stands for all ${r.world_size}`
          : run.plan.rankClasses
            ? `one rank per class of ranks with identical timelines: ${run.plan.rankClasses.map((c) => `rank ${c.representative} × ${c.ranks}`).join(', ')}`
            : undefined,
    },
  };
  // The head's keys, then the events: `{…,"traceEvents":[e1,e2,…]}`.
  let out = `${JSON.stringify(head).slice(0, -1)},"traceEvents":[`;
  let sep = '';
  const emit = (event: string) => {
    out += sep + event;
    sep = ',';
  };
  const meta = (name: string, pid: number, tid: number, args: string) => emit(`{"ph":"M","name":"${name}","pid":${json(pid)},"tid":${tid},"args":${args}}`);

  for (const r of ranks) {
    const alike = (run.plan.rankClasses?.find((c) => c.representative === r)?.ranks ?? 1) - 1;
    meta('process_name', r, 0, `{"name":${json(alike > 0 ? `rank ${r} (and ${alike} ranks alike)` : `rank ${r}`)}}`);
    meta('process_labels', r, 0, `{"labels":${json(`GPU ${r}`)}}`);
    meta('process_sort_index', r, 0, `{"sort_index":${json(r)}}`);
    const streams = new Set(spansOf(run.timeline, r).map((s) => s.stream));
    for (const st of streams) {
      const v = streamView(st);
      meta('thread_name', r, v.id, `{"name":${json(v.threadName)}}`);
      meta('thread_sort_index', r, v.id, `{"sort_index":${v.id}}`);
    }
  }

  // Kernels, indexed by task for the flows.
  const views = new Map<string, StreamView>();
  const byTask = new Map<number, { span: Span<OpTag>; ev: Omit<KernelEvent, 'text'> }>();
  const text = new TraceText(run);
  for (const s of run.timeline.spans) {
    if (!shown.has(s.process)) continue;
    let view = views.get(s.stream);
    if (!view) views.set(s.stream, (view = streamView(s.stream)));
    const ev = kernelEvent(s, view, text);
    emit(ev.text);
    byTask.set(s.task, { span: s, ev: { tid: ev.tid, ts: ev.ts, dur: ev.dur } });
    if (out.length >= CHUNK_CHARS) {
      yield out;
      out = '';
    }
  }

  // Cross-stream waits: an arrow from the kernel waited on to the kernel that waited.
  let flowId = 1;
  for (const { span, ev } of byTask.values()) {
    if (!ev.dur) continue;
    for (const d of run.plan.tasks[span.task]?.deps ?? []) {
      const dep = byTask.get(d);
      if (!dep || dep.span.stream === span.stream || dep.span.process !== span.process || !dep.ev.dur) continue;
      const id = flowId++;
      // `s` binds to the slice enclosing its ts, so it sits just inside the producer's end.
      const sTs = Math.max(dep.ev.ts, dep.ev.ts + dep.ev.dur - 0.001);
      emit(`{"ph":"s","id":${id},"cat":"stream_wait","name":"stream_wait","pid":${json(dep.span.process)},"tid":${dep.ev.tid},"ts":${json(sTs)}}`);
      emit(`{"ph":"f","id":${id},"cat":"stream_wait","name":"stream_wait","pid":${json(span.process)},"tid":${ev.tid},"ts":${json(ev.ts)},"bp":"e"}`);
    }
    if (out.length >= CHUNK_CHARS) {
      yield out;
      out = '';
    }
  }

  // Memory: allocated bytes per category as one counter (stacked in chrome://tracing, a track per
  // category in Perfetto), plus the total.
  const categoryKeys = MEMORY_CATEGORIES.map((c) => JSON.stringify(c));
  for (const r of ranks) {
    for (const p of memorySeries(run.timeline, r)) {
      const ts = json(us(p.time));
      let byCat = '';
      for (let i = 0; i < MEMORY_CATEGORIES.length; i++) byCat += `${i === 0 ? '' : ','}${categoryKeys[i]}:${json(Math.max(0, p.byCategory[MEMORY_CATEGORIES[i]!]))}`;
      emit(`{"ph":"C","name":"Memory allocated by category (bytes)","pid":${json(r)},"tid":0,"ts":${ts},"args":{${byCat}}}`);
      emit(`{"ph":"C","name":"Memory allocated (bytes)","pid":${json(r)},"tid":0,"ts":${ts},"args":{"allocated":${json(p.totalBytes)}}}`);
      if (out.length >= CHUNK_CHARS) {
        yield out;
        out = '';
      }
    }
  }
  yield `${out}]}`;
}
