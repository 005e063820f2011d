import type { SimulationResult } from '../metrics/result.ts';
import { bytesHuman, count, gib, pct, seconds, table } from './format.ts';
import { adviceSummary } from './advice.ts';

/** The terminal summary of one simulation. */
export function terminalSummary(r: SimulationResult): string {
  const m = r.mesh;
  const lines: string[] = [];
  const trainable = r.model.trainable_parameters < r.model.parameters ? `, ${count(r.model.trainable_parameters)} trainable` : '';
  const active = r.model.active_parameters < r.model.parameters ? `, ${(r.model.active_parameters / 1e9).toFixed(2)} B active` : '';
  lines.push(`shardsim · ${r.scenario} · ${r.model.id} (${(r.model.parameters / 1e9).toFixed(2)} B params${active}${trainable}) on ${r.num_nodes} × ${r.hardware} (${r.world_size} GPUs)`);
  lines.push('');
  lines.push(table([
    ['strategy', `${r.strategy.toUpperCase()}  mesh dp_replicate=${m.dp_replicate} dp_shard=${m.dp_shard} cp=${m.cp} tp=${m.tp}${m.ep > 1 ? ` ep=${m.ep}` : ''}`],
    ...(r.expert_parallel ? [['experts', expertLine(r.expert_parallel)] as [string, string]] : []),
    ['batch', `micro ${r.batch.micro_batch_size} × accumulation ${r.batch.gradient_accumulation_steps} × dp ${m.dp_shard * m.dp_replicate * m.ep} = global ${r.batch.global_batch_size} sequences (${count(r.batch.tokens_per_step)} tokens)`],
    ['data', `${r.batch.packing ? 'packed: ' : ''}${r.batch.rows_per_micro_batch} row(s) × ${count(r.batch.tokens_per_row)} tokens per micro-batch; attention ${r.batch.attention.implementation}${r.batch.attention.kernel ? ` on the ${r.batch.attention.kernel} kernel` : ''} (${r.batch.attention.masking}${r.batch.attention.document_mean_tokens ? `, documents of ~${count(r.batch.attention.document_mean_tokens)} tokens assumed` : ''})`],
    ['precision', `compute ${r.precision.compute}${r.precision.tf32_matmul ? ' (TF32 matmuls)' : ''}, params ${r.precision.parameters}, gather ${r.precision.all_gather}, reduce ${r.precision.reduce}`],
    ...(r.trainer ? [['trainer', trainerLine(r.trainer)] as [string, string]] : []),
    ...(r.adapter ? [['adapter', adapterLine(r.adapter)] as [string, string]] : []),
    ...(r.calibration.compute === 'measured' ? [] : [['calibration', `${r.calibration.compute}: ${r.hardware}'s ${r.calibration.derived.length} compute input(s) not measured on this GPU (${r.calibration.derived.slice(0, 3).join(', ')}${r.calibration.derived.length > 3 ? ', …' : ''})`] as [string, string]]),
  ]));
  lines.push('');
  const stepLine = r.steps.count > 1 && r.steps.max_s !== r.steps.min_s
    ? `${seconds(r.step_time_s)}  (${r.steps.count} steps: mean ${seconds(r.steps.mean_s)}, p50 ${seconds(r.steps.p50_s)}, p95 ${seconds(r.steps.p95_s)})`
    : seconds(r.step_time_s);
  lines.push(table([
    ['step time', stepLine],
    ['throughput', `${count(r.throughput.tokens_per_s)} tokens/s  (${count(r.throughput.tokens_per_s_per_gpu)} per GPU)`],
    ['model TFLOPS/GPU', `${r.throughput.tflops_per_gpu.toFixed(1)}  MFU ${pct(r.throughput.mfu)}  HFU ${pct(r.throughput.hfu)}`],
    ['  compute', seconds(r.time_breakdown_s.compute)],
    ['  optimizer', seconds(r.time_breakdown_s.optimizer)],
    ['  exposed comm', `${seconds(r.time_breakdown_s.exposed_communication)}  (${pct(r.communication.exposed_ratio)} of the step)`],
    ['  idle', seconds(r.time_breakdown_s.idle)],
    ['communication', `busy ${seconds(r.communication.busy_s)} (${pct(r.communication.busy_ratio)}), ${bytesHuman(r.communication.bytes_per_gpu)} sent per GPU`],
    ...Object.entries(r.communication.by_kind).map(([k, v]) => [`  ${k}`, `${bytesHuman(v.bytes_per_gpu)}, busy ${seconds(v.busy_s)}`] as [string, string]),
  ]));
  lines.push('');
  const mm = r.memory;
  const b = mm.breakdown_at_peak;
  lines.push(table([
    ['peak memory', `${gib(mm.peak_bytes)} allocated, ~${gib(mm.required_bytes)} with allocator overhead + CUDA context, of ${gib(mm.capacity_bytes)}  →  ${mm.fits ? 'fits' : 'DOES NOT FIT (OOM)'}`],
    ['  at the peak', `params ${gib(b.parameters)}, grads ${gib(b.gradients)}, optimizer ${gib(b.optimizer_states)}, activations ${gib(b.activations)}, buffers ${gib(b.communication_buffers)}`],
    ['model states', `${gib(mm.model_states_bytes)} per GPU (params + grads + optimizer states)${mm.paged_optimizer_bytes > 0 ? `, of which ${gib(mm.paged_optimizer_bytes)} paged optimizer state in unified memory${mm.paged_fits ? '' : ' (does not stay resident: pages to host memory)'}` : ''}`],
    ['cost', `$${r.cost.usd_per_million_tokens.toFixed(3)} per million tokens at $${r.cost.usd_per_gpu_hour}/GPU-hour`],
  ]));
  if (r.straggler) lines.push('', `straggler: ${r.straggler.summary}`);
  const classes = r.simulation.rank_classes;
  if (classes) {
    const shown = classes.slice(0, 6).map((c) => `rank ${c.rank} × ${count(c.stands_for)}`).join(', ');
    const how = r.simulation.jitter > 0 ? 'one per class of ranks alike but for their jitter, which enters each collective through order statistics (an approximation)' : 'one per class of ranks with identical timelines';
    lines.push(`ranks simulated: ${classes.length}, ${how} (${shown}${classes.length > 6 ? ', …' : ''}); --every-rank simulates all ${count(r.world_size)}`);
  }
  if (r.warnings.length > 0) lines.push('', 'not modelled exactly (assumptions made):', ...r.warnings.map((w) => `  - ${w.message}`));
  const advice = adviceSummary(r);
  if (advice) lines.push('', advice);
  return lines.join('\n');
}

function trainerLine(t: NonNullable<SimulationResult['trainer']>): string {
  if (t.kind === 'diffusion') return `diffusion LM (plugin): bidirectional attention, loss over ~${Math.round((t.masked_fraction ?? 0) * 100)}% masked tokens`;
  if (t.kind === 'ebft-strided' && t.ebft) {
    const e = t.ebft;
    return `EBFT strided: ${e.samples_per_document} rollout(s) per document, ${e.blocks} blocks × ${e.generate_tokens} tokens generated in ${e.generate_tokens} no-grad forwards (${e.document_tokens} → ${e.full_tokens} tokens a row), trained ${e.trained_forward === 'per-row' ? 'one row at a time' : 'all rows at once (logits everywhere)'}, features from ${e.feature_network === 'copy' ? 'a bf16 copy of the model' : 'the base weights (adapters disabled)'}`;
  }
  if (t.kind === 'preference') {
    const ref = t.no_grad_rows_per_sample > 0 ? `, ${t.no_grad_rows_per_sample} row(s) per sample forward under no_grad (reference${t.reference_copy ? ': a frozen copy of the weights' : ': adapters off'})` : ', no reference model';
    return `${t.rl?.toUpperCase()}: ${t.rows_per_sample} row(s) per sample with gradients${ref}`;
  }
  return `${t.kind === 'reward' ? 'reward model (chosen + rejected rows)' : 'token classification'}, score head of ${t.num_labels} label(s) instead of lm_head`;
}

function adapterLine(a: NonNullable<SimulationResult['adapter']>): string {
  const base = a.quantized_base ? `${a.quantized_base} base` : 'unquantised base';
  const kernels = a.fused_kernels.length > 0 ? `Axolotl fused LoRA kernels: ${a.fused_kernels.join(', ')}${a.fused_kernels_auto ? ' (switched on by Axolotl)' : ''}` : "PEFT's LoRA modules (no fused kernels)";
  return `${a.kind} r=${a.r} alpha=${a.alpha}${a.dropout > 0 ? ` dropout=${a.dropout}` : ''}, ${a.dtype} adapters, ${base}; ${kernels}`;
}

/** Expert parallelism in one line: what each rank holds, what each MoE layer sends, how uneven the routing is. */
function expertLine(e: NonNullable<SimulationResult['expert_parallel']>): string {
  return `EP ${e.expert_parallel_size}: ${e.experts_per_rank} experts per rank; dispatch + combine all-to-all of ${bytesHuman(e.dispatch_bytes_per_layer)} each per MoE layer (${e.destination_ranks_per_token.toFixed(2)} ranks per token); slowest rank ${e.slowest_rank_load.toFixed(3)}× the mean routed rows (${e.load_source})`;
}
