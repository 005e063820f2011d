import type { SimulationRun } from '../pipeline/simulate.ts';
import { breakdownRank, collectiveTallies, gpuSecondsByPhase, type CollectiveTally } from '../metrics/activity.ts';
import { exposedCollectives, type ExposedCollective, type ExposureReason } from '../metrics/exposure.ts';
import { BYTES_PER_ELEMENT } from '../util/dtype.ts';
import { peakMatmulFlops } from '../compute/kernels.ts';
import { total } from '../metrics/intervals.ts';
import { spansOf } from '../metrics/spans.ts';
import { bytesHuman, count, gib, pct, seconds } from './format.ts';
import { collectiveName } from './charts/theme.ts';
import { memoryRank } from './charts/memory.ts';
import { opName } from './names.ts';

/**
 * The report's narrative: where this run's step time goes, which collectives are exposed and why, what
 * reshard_after_forward does here, and the formulas behind the headline numbers with this run's values.
 * A pure function of the run: every number comes from the result or the timeline's metrics.
 */
export function explain(run: SimulationRun): string[] {
  const out: string[] = [];
  const r = run.result;
  // The rank the result's breakdown describes (the slowest simulated one).
  const rank = breakdownRank(run.timeline, run.plan.ranks);
  const phases = gpuSecondsByPhase(run.timeline, rank);
  const tallies = collectiveTallies(run.timeline, rank);
  const tb = r.time_breakdown_s;
  const step = r.step_time_s;
  const share = (s: number) => pct(step > 0 ? s / step : 0);

  out.push(
    `One training step of ${r.scenario}: ${r.model.id} (${(r.model.parameters / 1e9).toFixed(2)} B parameters), ${r.strategy.toUpperCase()} on ${r.world_size} × ${run.cluster.profile.gpu.name} ` +
      `(${r.num_nodes} node${r.num_nodes > 1 ? 's' : ''}), takes ${seconds(step)}: ${count(r.throughput.tokens_per_s)} tokens/s, MFU ${pct(r.throughput.mfu)}.`,
  );

  const recompute = phases.recompute > 0 ? `, recompute ${seconds(phases.recompute)} (activation checkpointing runs each layer's forward again in backward)` : '';
  out.push(
    `Where the time goes${run.plan.ranks.length > 1 ? ` (rank ${rank}, the one that waited most)` : ''}: compute ${seconds(tb.compute)} (${share(tb.compute)}) — forward ${seconds(phases.forward)}${recompute}, backward ${seconds(phases.backward)}; ` +
      `optimizer ${seconds(tb.optimizer)} (${share(tb.optimizer)}); exposed communication ${seconds(tb.exposed_communication)} (${share(tb.exposed_communication)}); idle ${seconds(tb.idle)} (${share(tb.idle)}).`,
  );

  if (r.communication.busy_s > 0) {
    out.push(
      `Collectives are busy for ${seconds(r.communication.busy_s)} (${pct(r.communication.busy_ratio)} of the step) but only ${seconds(r.communication.exposed_s)} of that is exposed: ` +
        `the rest runs on NCCL's own CUDA streams while the compute stream keeps working. Exposed time is what overlap failed to hide — the compute stream sat idle waiting for a collective.`,
    );
    out.push(...exposureStory(exposedCollectives(run.timeline, rank), run.cfg.batch.gradientAccumulationSteps));
  } else {
    out.push('No collective runs: a single GPU needs no gradient or parameter communication.');
  }

  if (r.straggler) {
    out.push(
      `Ranks differ in this run (jitter or stragglers), so every rank was simulated and each collective starts only when its last member arrives: ${r.straggler.summary}. ` +
        `Time a rank spends waiting for a late peer is "idle" (${seconds(tb.idle)} here).`,
    );
  }

  out.push(strategyStory(run, tallies));
  const ep = expertParallelStory(run, tallies, rank);
  if (ep) out.push(ep);
  out.push(...formulas(run, tallies));
  out.push(memoryStory(run));
  return out;
}

const REASON_ORDER: ExposureReason[] = ['before-compute', 'compute-waits', 'after-compute', 'optimizer'];

function exposureStory(exposed: ExposedCollective[], microBatches: number): string[] {
  if (exposed.length === 0) return ['No collective is exposed: every one of them finished while the compute stream was busy.'];
  const lines: string[] = [];
  // Collectives on different streams can be exposed at the same instant: count such time once.
  const sum = (xs: ExposedCollective[]) => total(xs.flatMap((e) => e.intervals));
  const commBound = exposed.some((e) => e.reason === 'compute-waits');
  for (const reason of REASON_ORDER) {
    const group = exposed.filter((e) => e.reason === reason);
    if (group.length === 0) continue;
    const total = sum(group);
    const names = describeCollectives(group);
    if (reason === 'before-compute') {
      const mbs = new Set(group.map((e) => e.span.tag.microBatch)).size;
      lines.push(
        `Exposed at the start of ${mbs === 1 ? 'the micro-batch' : `each of the ${mbs} micro-batches`} (${seconds(total)} in all): ${names} must arrive before the first decoder layer can run, ` +
          `and only the embedding lookup runs meanwhile. From layer 1 on, the AllGather of layer i+1 is prefetched while layer i computes` +
          `${commBound ? ', which hides it only when the gather is shorter than the layer (not always here, below).' : ', so it hides.'}`,
      );
    } else if (reason === 'compute-waits') {
      const worst = [...group].sort((a, b) => b.exposedSeconds - a.exposedSeconds)[0]!;
      lines.push(
        `Communication-bound moments (${seconds(total)} over ${group.length} collective${group.length > 1 ? 's' : ''}): ${names} took longer than the compute running beside them, ` +
          `so the next kernel waited — the worst is the ${collectiveName(worst.span.tag.kind)} of ${worst.span.tag.label} (${worst.span.tag.phase}, micro-batch ${worst.span.tag.microBatch}), exposed for ${seconds(worst.exposedSeconds)}` +
          `${worst.blocked ? ` while ${opName(worst.blocked.tag)} waited to start` : ''}. Faster links or more compute per collective (a larger micro-batch) would hide them.`,
      );
    } else if (reason === 'after-compute') {
      lines.push(
        `Exposed at the end of backward (${seconds(total)}): ${names} cannot overlap — nothing is left to compute, and the optimizer step needs every reduced gradient. ` +
          `${microBatches > 1 ? `With ${microBatches} micro-batches only the last one reduces gradients (no_sync on the others), so this tail is paid once per step. ` : ''}` +
          `A smaller last bucket or group shortens it.`,
      );
    } else {
      lines.push(`In the optimizer step (${seconds(total)}): ${names} — the global gradient norm for clipping needs every rank's partial norm before AdamW can start.`);
    }
  }
  return lines;
}

/** "the AllGathers of root (embedding, norm, lm_head) and layer 0" — grouped by kind, labels deduplicated. */
function describeCollectives(group: ExposedCollective[]): string {
  // Sets keep first-seen order: thousands of exposed collectives share a few dozen labels.
  const byKind = new Map<string, Set<string>>();
  for (const e of group) {
    let labels = byKind.get(e.span.tag.kind);
    if (!labels) byKind.set(e.span.tag.kind, (labels = new Set()));
    labels.add(e.span.tag.label);
  }
  const parts = [...byKind].map(([kind, set]) => {
    const labels = [...set];
    const shown = labels.length > 4 ? [...labels.slice(0, 3), `${labels.length - 3} more`] : labels;
    return `the ${collectiveName(kind)}${labels.length > 1 ? 's' : ''} of ${joinWords(shown)}`;
  });
  return joinWords(parts);
}

function joinWords(xs: string[]): string {
  if (xs.length <= 1) return xs[0] ?? '';
  return `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

function strategyStory(run: SimulationRun, tallies: CollectiveTally[]): string {
  const cfg = run.cfg;
  const find = (kind: string, phase: string) => tallies.find((t) => t.kind === kind && t.phase === phase);
  if (cfg.strategy === 'fsdp2' || cfg.strategy === 'fsdp1') {
    const fwd = find('all_gather', 'forward');
    const bwd = find('all_gather', 'backward');
    const layerS = run.timeline.spans.find((s) => s.tag.kind === 'all_gather' && s.tag.layer !== undefined)?.tag.bytes ?? 0;
    const L = run.model.numLayers;
    const N = cfg.mesh.dpShard;
    if (cfg.fsdp.reshardAfterForward) {
      const extra = fwd && bwd && fwd.wireBytes > 0 ? ` — ${pct(bwd.wireBytes / fwd.wireBytes)} on top of the forward's ${fwd.count} AllGathers (${bytesHuman(fwd.wireBytes)})` : '';
      return (
        `reshard_after_forward: true — after each decoder layer's forward, FSDP frees the gathered parameters and keeps only its 1/${N} shard, so backward must gather them again: ` +
        `${bwd?.count ?? 0} AllGathers in backward sending ${bytesHuman(bwd?.wireBytes ?? 0)} per GPU${extra}. ` +
        `In exchange the unsharded parameters of at most two layers are alive at once instead of all ${L} (${gib(L * layerS)} of gathered parameters held from forward to backward without it). ` +
        `The root group (embedding, norm, lm_head) is never resharded after forward: backward needs it at once.`
      );
    }
    return (
      `reshard_after_forward: false — every layer keeps its gathered parameters from its forward until its backward: no AllGathers in backward (${bwd?.count ?? 0} here), ` +
      `at the cost of holding up to ${gib(L * layerS)} of unsharded parameters (all ${L} layers) at the end of the forward pass.`
    );
  }
  if (cfg.strategy === 'ddp') {
    const ar = tallies.filter((t) => t.kind === 'all_reduce');
    const n = ar.reduce((a, t) => a + t.count, 0);
    const bytes = ar.reduce((a, t) => a + t.wireBytes, 0);
    const GA = cfg.batch.gradientAccumulationSteps;
    return (
      `DDP keeps a full replica of the model on every GPU: there is no AllGather, and reshard_after_forward does not apply. Gradients are averaged by ${n} bucketed AllReduces ` +
      `(${bytesHuman(bytes)} sent per GPU), each launched as soon as its bucket's gradients are ready, so they overlap the rest of backward` +
      `${GA > 2 ? `; the first ${GA - 1} micro-batches run under no_sync and communicate nothing` : GA === 2 ? '; the first micro-batch runs under no_sync and communicates nothing' : ''}.`
    );
  }
  if (cfg.strategy === 'zero1' || cfg.strategy === 'zero2' || cfg.strategy === 'zero3') {
    const stage = cfg.strategy.slice(-1);
    const sent = tallies.reduce((a, t) => a + t.wireBytes, 0);
    const what = stage === '1' ? 'the optimizer states' : stage === '2' ? 'the optimizer states and gradients' : 'the optimizer states, gradients and parameters';
    return (
      `DeepSpeed ZeRO stage ${stage} partitions ${what} across the ${cfg.mesh.dpShard * cfg.mesh.dpReplicate} data-parallel GPUs, keeping fp32 master weights in the partitions. ` +
      `Gradients are reduced in buckets during backward${stage === '3' ? ', parameters are gathered layer by layer before use and released after' : ' and the updated parameters are all-gathered after the optimizer step'}: ` +
      `${bytesHuman(sent)} sent per GPU in this step.`
    );
  }
  if (cfg.mesh.tp > 1 || cfg.mesh.cp > 1) return 'Tensor / context parallelism only: no data-parallel gradient reduction.';
  return 'One GPU: no data parallelism, so there is nothing to shard or reduce.';
}

/**
 * Expert parallelism: what each rank holds, the DeepEP dispatch/combine all-to-alls around the local experts'
 * grouped GEMMs, how much of them the compute stream waited for, and the routing imbalance charged.
 */
function expertParallelStory(run: SimulationRun, tallies: CollectiveTally[], rank: number): string | undefined {
  const e = run.result.expert_parallel;
  if (!e) return undefined;
  const a2a = tallies.filter((t) => t.kind === 'all_to_all');
  const n = a2a.reduce((a, t) => a + t.count, 0);
  const sent = a2a.reduce((a, t) => a + t.wireBytes, 0);
  const spans = run.timeline.spans.filter((s) => s.process === rank);
  const busy = total(spans.filter((s) => s.tag.kind === 'all_to_all').map((s) => [s.workStart, s.end] as [number, number]));
  const exposed = total(exposedCollectives(run.timeline, rank).filter((x) => x.span.tag.kind === 'all_to_all').flatMap((x) => x.intervals));
  const experts = spans.filter((s) => s.tag.kind === 'compute' && s.tag.label.includes('experts')).reduce((a, s) => a + (s.end - s.workStart), 0);
  const group = a2a[0]?.example.groupSize ?? e.expert_parallel_size;
  return (
    `Expert parallelism (EP ${e.expert_parallel_size}, DeepEP): each GPU holds ${e.experts_per_rank} of the routed experts and receives the tokens routed to them. Every MoE layer sends each token's hidden state ` +
    `to the ${e.destination_ranks_per_token.toFixed(2)} ranks (on average) that own one of its experts — an all-to-all dispatch of ${bytesHuman(e.dispatch_bytes_per_layer)} per GPU over ${group} GPUs — runs the local experts' grouped GEMMs, ` +
    `and sends the weighted outputs back in a combine of the same size; backward runs both again in reverse (and activation checkpointing a third pair). ` +
    `Here: ${n} all-to-alls sending ${bytesHuman(sent)} per GPU, busy ${seconds(busy)}, of which ${seconds(exposed)} exposed: the experts cannot start before the dispatch arrives, nor the next layer before the combine. ` +
    `The local experts' GEMMs take ${seconds(experts)} of compute at ${e.slowest_rank_load.toFixed(3)}× the mean routed rows — the slowest rank of the EP group, which the combine waits for ` +
    `(${e.load_source === 'given' ? 'simulation.expert_load_imbalance' : 'a router balanced in expectation; real routers are often more uneven: set simulation.expert_load_imbalance'}).`
  );
}

function formulas(run: SimulationRun, tallies: CollectiveTally[]): string[] {
  const r = run.result;
  const b = r.batch;
  const m = r.mesh;
  const lines: string[] = [];
  lines.push(
    `Effective batch = micro_batch_size × gradient_accumulation_steps × dp_shard × dp_replicate${m.ep > 1 ? ' × expert_parallel_size (each EP rank reads its own batch)' : ''} = ${b.micro_batch_size} × ${b.gradient_accumulation_steps} × ${m.dp_shard} × ${m.dp_replicate}${m.ep > 1 ? ` × ${m.ep}` : ''} = ` +
      `${b.global_batch_size} sequences; tokens per step = ${b.global_batch_size} × ${b.sequence_len} = ${count(b.tokens_per_step)}.`,
  );
  const examples: string[] = [];
  for (const kind of ['all_gather', 'reduce_scatter', 'all_reduce']) {
    const t = tallies.filter((x) => x.kind === kind && x.example.bytes > 1024).sort((x, y) => y.example.bytes - x.example.bytes)[0];
    if (!t) continue;
    const e = t.example;
    const n = e.groupSize;
    const factor = kind === 'all_reduce' ? `2×${n - 1}/${n}` : `${n - 1}/${n}`;
    const dtype = kind === 'all_gather' ? run.cfg.precision.gatherDtype : run.cfg.precision.reduceDtype;
    examples.push(
      `${collectiveName(kind)} of ${e.label}: S = ${bytesHuman(e.bytes)} (${count(e.bytes / BYTES_PER_ELEMENT[dtype])} ${dtype} elements), n = ${n} → ${bytesHuman(e.bytes)} × ${factor} = ${bytesHuman(e.wireBytes)} sent per GPU (${e.algorithm})`,
    );
  }
  if (examples.length > 0) {
    lines.push(
      `Bytes per collective = S × bus factor, where S is the full (unsharded) payload and n the group size: (n−1)/n for AllGather and ReduceScatter, 2(n−1)/n for AllReduce ` +
        `(nccl-tests PERFORMANCE.md; the time is latency + S × factor ÷ bus bandwidth). Here: ${examples.join('; ')}. Per step each GPU sends ${bytesHuman(r.communication.bytes_per_gpu)}.`,
    );
  }
  const peak = peakMatmulFlops(run.cluster.profile.gpu, r.precision.compute, r.precision.tf32_matmul);
  const modelFlops = r.throughput.tflops_per_gpu * 1e12 * r.step_time_s * r.world_size;
  lines.push(
    `MFU = model FLOPs per step ÷ (step time × GPUs × peak ${r.precision.tf32_matmul ? 'tf32' : r.precision.compute} FLOP/s) = ${(modelFlops / 1e15).toFixed(1)} PFLOP ÷ (${seconds(r.step_time_s)} × ${r.world_size} × ${(peak / 1e12).toFixed(0)} TFLOP/s) = ${pct(r.throughput.mfu)}; ` +
      `model FLOPs = (6 × matmul parameters + 12 × layers × hidden × sequence) per token — 4 × for a frozen weight, which gets no weight gradient — without the recomputed forward (HFU ${pct(r.throughput.hfu)} counts it).`,
  );
  return lines;
}

function memoryStory(run: SimulationRun): string {
  const m = run.result.memory;
  const rank = memoryRank(run);
  const peak = run.timeline.memory.get(rank);
  const at = peak?.peakTime ?? 0;
  const running = spansOf(run.timeline, rank).find((s) => s.stream === 'compute' && s.workStart <= at && at <= s.end);
  const bd = m.breakdown_at_peak;
  const factor = run.cluster.profile.runtime.allocator_reserved_over_allocated;
  return (
    `Memory: the peak allocation is ${gib(m.peak_bytes)} at ${seconds(at)}${running ? `, during ${opName(running.tag)} of micro-batch ${running.tag.microBatch}` : ''} ` +
    `(parameters ${gib(bd.parameters)}, gradients ${gib(bd.gradients)}, optimizer states ${gib(bd.optimizer_states)}, activations ${gib(bd.activations)}, communication buffers ${gib(bd.communication_buffers)}). ` +
    // src/metrics/result.ts: reserved = max(peak, Σ allocator pools' high-water marks) × factor.
    `Reserved ≈ ${gib(m.reserved_bytes / factor)} (the allocator pools' high-water marks summed: each CUDA stream's pool keeps its own cached blocks, so this is at least the ${gib(m.peak_bytes)} peak) × ${factor} (fragmentation inside the pools) + ${gib(m.non_allocator_bytes)} CUDA context and NCCL = ${gib(m.required_bytes)} against ${gib(m.capacity_bytes)}: ` +
    `${m.fits ? 'it fits' : 'it does NOT fit — expect CUDA out of memory'}. Model states (parameters + gradients + optimizer states, ${r0(run.result.precision.optimizer_bytes_per_parameter)} B of optimizer state per parameter) take ${gib(m.model_states_bytes)} per GPU.`
  );
}

const r0 = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** The explanation for a terminal: paragraphs wrapped at `width` columns. */
export function explainText(run: SimulationRun, width = 100): string {
  return explain(run).map((p) => wrap(p, width)).join('\n\n');
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
