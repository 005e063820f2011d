import type { LoadedScenario } from '../config/index.ts';
import type { SimulationRun } from '../pipeline/simulate.ts';
import { ShardsimError } from '../util/errors.ts';
import { applyChange, HEADROOM_MOVES, OOM_MOVES, type Move, type MoveContext } from './moves.ts';
import type { AdviceDebug, AdviceEntry, ScenarioChange, VariantOutcome } from './types.ts';

export interface AdviseOptions {
  /**
   * Evaluates one variant (one nominal step). The pipeline passes `evaluateVariant`
   * (src/pipeline/layer-extrapolation.ts), which never advises and extrapolates from cut models where it can.
   */
  evaluate: (loaded: LoadedScenario) => Promise<VariantOutcome>;
  /** At most this many variants are simulated (default 24). */
  budget?: number;
  /**
   * Tasks the variants may simulate in all (default ADVICE_TASKS): a deterministic work bound, so a huge
   * plan gets fewer variants rather than minutes of advice (a wall-clock limit would make advice depend
   * on the machine).
   */
  taskBudget?: number;
  /** A fitting scenario whose requirement is below this share of GPU memory gets headroom advice (default 0.6). */
  headroomShare?: number;
}

export interface Advice {
  advice: AdviceEntry[];
  debug: AdviceDebug;
}

interface Node {
  change: ScenarioChange;
  input: LoadedScenario['input'];
  /** What the search reads of the node's run (the base run's plan and timeline are not kept). */
  run: Pick<VariantOutcome, 'cfg' | 'cluster' | 'requiredBytes' | 'tokensPerSecondPerGpu'>;
  /** Moves applied so far (a non-repeatable move is applied once); the same set reached in another order is skipped. */
  applied: Set<string>;
  depth: number;
}

/** Tasks all advice runs may simulate: ~24 variants of a 70B step on 16 nodes many times over, a few seconds of engine time. */
const ADVICE_TASKS = 1_000_000;
/** Changes combined at most. */
const MAX_DEPTH = 5;
/** Out of memory: stop once this many fitting configurations are known (the summary shows three). */
const ENOUGH_FITTING = 3;

/** Stable key of a change set, for de-duplication. */
const keyOf = (c: ScenarioChange) => JSON.stringify(Object.keys(c).sort().map((k) => [k, c[k]]));

function contextOf(node: Node): MoveContext {
  const sim = node.input.simulation ?? {};
  return {
    cfg: node.run.cfg,
    gpusPerNode: node.run.cluster.profile.node.gpus_per_node,
    numNodes: node.run.cluster.numNodes,
    worldSize: node.run.cluster.worldSize,
    ...(sim.gpus !== undefined ? { gpusKey: sim.gpus } : {}),
    ...(node.input.dp_shard_size !== undefined ? { dpShardKey: node.input.dp_shard_size } : {}),
    ...(node.input.plugins ? { plugins: node.input.plugins } : {}),
  };
}

/** Keys in the order a reader follows the checklist: strategy, scale, batch, recomputation, the rest. */
const KEY_ORDER = ['fsdp_version', 'fsdp', 'fsdp_config', 'fsdp_config.reshard_after_forward', 'fsdp_config.offload_params', 'simulation.num_nodes', 'simulation.gpus', 'dp_shard_size',
  'tensor_parallel_size', 'micro_batch_size', 'gradient_accumulation_steps', 'gradient_checkpointing', 'activation_offloading', 'adapter', 'load_in_4bit', 'load_in_8bit', 'optimizer',
  'plugins', 'cut_cross_entropy'];
const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);

function entryOf(change: ScenarioChange, run: VariantOutcome): AdviceEntry {
  return {
    change: Object.fromEntries(Object.entries(change).sort(([a], [b]) => rank(a) - rank(b))),
    peak_bytes: run.peakBytes,
    required_bytes: run.requiredBytes,
    fits: run.fits,
    step_time_s: run.stepSeconds,
    tokens_per_s_per_gpu: run.tokensPerSecondPerGpu,
    global_batch_size: run.globalBatchSize,
  };
}

/**
 * The OOM advisor. When a scenario does not fit, it searches the seed card's checklist (moves.ts OOM_MOVES):
 * every single change first, then combinations, always extending the simulated configuration that needs the
 * least memory (best first) and only those that still do not fit, until three fit or the budget is spent.
 * When it fits with much room to spare, it tries the reverse levers (HEADROOM_MOVES), extending the fastest
 * configuration that still fits. Changes the simulator refuses ("not yet supported") are kept in
 * `debug.skipped` with the reason and not combined further. Entries come fitting first, then by tokens/s
 * per GPU (fastest first); the rest by the memory they need.
 */
export async function advise(base: SimulationRun, loaded: LoadedScenario, opts: AdviseOptions): Promise<Advice> {
  const memory = base.result.memory;
  const share = opts.headroomShare ?? 0.6;
  const mode: AdviceDebug['mode'] | undefined = !memory.fits ? 'out_of_memory' : memory.required_bytes < share * memory.capacity_bytes ? 'headroom' : undefined;
  if (!mode) return { advice: [], debug: { mode: 'fits', evaluated: 0, extrapolated: 0, skipped: [] } };

  const moves: Move[] = mode === 'out_of_memory' ? OOM_MOVES : HEADROOM_MOVES;
  const budget = opts.budget ?? 24;
  const baseTokens = base.result.throughput.tokens_per_s_per_gpu;
  // Advice runs compare configurations: one nominal step each, without jitter.
  const nominal = (input: LoadedScenario['input']) => applyChange(input, { 'simulation.steps': 1, 'simulation.jitter': 0 });

  const entries: AdviceEntry[] = [];
  const skipped: AdviceDebug['skipped'] = [];
  const seen = new Set<string>([keyOf({})]);
  let evaluated = 0;
  let extrapolated = 0;
  let tasksLeft = opts.taskBudget ?? ADVICE_TASKS;
  // A move the simulator refuses (e.g. "not yet supported") is not retried in combinations.
  const refused = new Set<string>();
  const root: Node = {
    change: {},
    input: loaded.input,
    run: { cfg: base.cfg, cluster: base.cluster, requiredBytes: memory.required_bytes, tokensPerSecondPerGpu: baseTokens },
    applied: new Set(),
    depth: 0,
  };
  // Best first: the open configuration closest to the goal (least memory needed when out of memory, most
  // tokens/s when there is headroom) is expanded next, so deep combinations are reached within the budget.
  const score = (n: Node) => (mode === 'out_of_memory' ? n.run.requiredBytes : -n.run.tokensPerSecondPerGpu);
  const open: Node[] = [root];
  let fitting = 0;

  const spent = () => evaluated >= budget || tasksLeft <= 0;
  while (open.length > 0 && !spent() && !(mode === 'out_of_memory' && fitting >= ENOUGH_FITTING)) {
    open.sort((a, b) => score(a) - score(b));
    const node = open.shift()!;
    if (node.depth >= MAX_DEPTH) continue;
    const ctx = contextOf(node);
    for (const move of moves) {
      if (spent()) break;
      if (refused.has(move.id) || (!move.repeatable && node.applied.has(move.id))) continue;
      const edits = move.edits(ctx);
      if (!edits) continue;
      const change = { ...node.change, ...edits };
      const key = keyOf(change);
      if (seen.has(key)) continue;
      seen.add(key);
      evaluated++;
      const input = applyChange(loaded.input, change);
      let run: VariantOutcome;
      try {
        run = await opts.evaluate({ ...loaded, input: nominal(input), warnings: [] });
      } catch (e) {
        if (e instanceof ShardsimError) {
          skipped.push({ change, reason: e.message });
          refused.add(move.id);
          continue;
        }
        throw e;
      }
      tasksLeft -= run.tasks;
      if (run.method === 'layers') extrapolated++;
      const entry = entryOf(change, run);
      entries.push(entry);
      if (entry.fits) fitting++;
      // Keep walking from configurations that still need help (OOM) or still fit (headroom).
      const expand = mode === 'out_of_memory' ? !entry.fits : entry.fits;
      if (expand) open.push({ change, input, run, applied: new Set([...node.applied, move.id]), depth: node.depth + 1 });
    }
  }

  entries.sort((a, b) => {
    if (a.fits !== b.fits) return a.fits ? -1 : 1;
    return a.fits ? b.tokens_per_s_per_gpu - a.tokens_per_s_per_gpu : a.required_bytes - b.required_bytes;
  });
  // Headroom advice is about going faster: keep what fits and beats the scenario as it is.
  const advice = mode === 'headroom' ? entries.filter((e) => e.fits && e.tokens_per_s_per_gpu > baseTokens) : entries;
  return { advice, debug: { mode, evaluated, extrapolated, skipped } };
}
