import { ShardsimError } from '../util/errors.ts';
import { gigabytes as gb, heapBudgetBytes, useDefaultHeapGrowth } from '../util/heap.ts';

export { heapBudgetBytes };

/**
 * What one run may ask of this process, checked before simulating so that an input too big for the machine
 * is one line (exit 2) instead of V8 running out of heap minutes later with a native stack trace.
 *
 * The bytes per task are this implementation's costs, measured with `/usr/bin/time -v` on a 150,000-task
 * plan (Llama-3.1-8B with 10,000 layers, one rank, Node 20): 369 MB peak RSS for plan + engine + result,
 * 2.04 GB with the report (memory series, timeline chart and trace of every task drawn). They are not
 * physics and only decide where to refuse; raise the process's heap (NODE_OPTIONS=--max-old-space-size=…)
 * to go further.
 */
const SIMULATION_BYTES_PER_TASK = 2_500;
/**
 * The device mesh's process groups list every rank of every dimension (network/placement.ts meshGroups,
 * strategy/layout.ts): 1.14 GB peak RSS for 10⁶ ranks (Llama-3.1-8B DDP on 125,000 nodes).
 */
const LAYOUT_BYTES_PER_RANK = 1_200;
const REPORT_BYTES_PER_DRAWN_TASK = 12_000;
/**
 * Tasks simulated over all jittered steps of one run: the engine runs ~2.8·10⁵ tasks/s on one core (150,000
 * tasks in 0.53 s), so this is about a minute. Without jitter every step is the same and costs nothing.
 */
const MAX_TASK_SIMULATIONS = 2e7;

/**
 * Task simulations (tasks × jittered steps) up to which a run keeps the old-generation growth factor that
 * bin/shardsim.js sets for short runs: the 70B and 405B 16-node reports (~2·10⁴) end without a second full
 * GC; a 405B 16,384-GPU run of 20 jittered steps (~6·10⁵) would only pile up more garbage between them.
 */
const SHORT_RUN_TASK_SIMULATIONS = 1e5;

/** After lowering: a long run gives V8 back its own heap growth (util/heap.ts). */
export function settleHeapGrowth(taskSimulations: number): void {
  if (taskSimulations > SHORT_RUN_TASK_SIMULATIONS) useDefaultHeapGrowth();
}

/** The most tasks a plan may hold within `budgetBytes`. */
export function maxPlanTasks(budgetBytes: number): number {
  return Math.floor(budgetBytes / SIMULATION_BYTES_PER_TASK);
}

const count = (n: number) => (n >= 1e6 ? n.toExponential(2).replace('e+', '·10^') : n.toLocaleString('en-US'));

/**
 * Before lowering: every simulated rank runs at least a forward and a backward task per layer and
 * micro-batch, so a plan below that many tasks cannot exist.
 */
export function checkPlanLowerBound(shape: { ranks: number; microBatches: number; layers: number }, budgetBytes: number): void {
  const least = shape.ranks * shape.microBatches * shape.layers * 2;
  if (least <= maxPlanTasks(budgetBytes)) return;
  throw new ShardsimError(
    `the step needs at least ${count(least)} tasks (${shape.ranks} simulated rank(s) × ${count(shape.microBatches)} micro-batch(es) × ${count(shape.layers)} layers × forward and backward), ` +
      `~${gb(least * SIMULATION_BYTES_PER_TASK)}, more than this process can hold (~${gb(budgetBytes)} of heap)`,
    { fix: planFix(shape) },
  );
}

/** Before lowering: the device mesh of `worldSize` ranks must fit; returns the heap left for the plan. */
export function checkWorldSize(worldSize: number, budgetBytes: number): number {
  if (worldSize * LAYOUT_BYTES_PER_RANK <= budgetBytes) return budgetBytes - worldSize * LAYOUT_BYTES_PER_RANK;
  throw new ShardsimError(
    `a world of ${count(worldSize)} GPUs needs ~${gb(worldSize * LAYOUT_BYTES_PER_RANK)} for its process groups, more than this process can hold (~${gb(budgetBytes)} of heap)`,
    { key: 'simulation.num_nodes', fix: `use at most ~${count(Math.floor(budgetBytes / LAYOUT_BYTES_PER_RANK))} GPUs (the largest clusters hold ~10⁵)` },
  );
}

/** While lowering (PlanBuilder): the exact count passed the budget. */
export function planTooLarge(tasks: number, budgetBytes: number): ShardsimError {
  return new ShardsimError(`the step's plan passed ${count(tasks)} tasks, more than this process can hold (~${gb(budgetBytes)} of heap)`, {
    fix: 'lower gradient_accumulation_steps, the number of layers or the simulated ranks (jitter and stragglers simulate every rank), or raise ddp_bucket_cap_mb / the DeepSpeed bucket sizes',
  });
}

/** After lowering, before simulating: the report draws every task of the ranks it shows. */
export function checkReportSize(tasks: number, drawnTasks: number, budgetBytes: number): void {
  const need = tasks * SIMULATION_BYTES_PER_TASK + drawnTasks * REPORT_BYTES_PER_DRAWN_TASK;
  if (need <= budgetBytes) return;
  throw new ShardsimError(`the report would draw ${count(drawnTasks)} tasks (~${gb(need)}), more than this process can hold (~${gb(budgetBytes)} of heap)`, {
    fix: 'add --no-report (the summary and --json need far less), or lower gradient_accumulation_steps',
  });
}

/** Jittered steps are each simulated; their total work is bounded. */
export function checkSteps(steps: number, jittered: boolean, tasks: number): void {
  if (!jittered || steps * tasks <= MAX_TASK_SIMULATIONS) return;
  const most = Math.max(1, Math.floor(MAX_TASK_SIMULATIONS / tasks));
  throw new ShardsimError(`${count(steps)} jittered steps of ${count(tasks)} tasks each would simulate ${count(steps * tasks)} tasks (more than a minute at ~3·10⁵ tasks/s)`, {
    key: 'simulation.steps',
    fix: `use at most ${count(most)} steps with this plan (percentiles settle long before), or jitter: 0`,
  });
}

function planFix(shape: { ranks: number; microBatches: number; layers: number }): string {
  const levers: string[] = [];
  if (shape.microBatches > 3) levers.push('lower gradient_accumulation_steps (`shardsim sweep` lowers only the steady state: micro-batches 0, 1 and the last)');
  if (shape.ranks > 1) levers.push('drop jitter/stragglers (they simulate every rank)');
  levers.push('use fewer layers');
  return levers.join(', or ');
}
