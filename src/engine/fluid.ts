/**
 * Max-min fair sharing of bandwidth resources among concurrent flows (a fluid model). Rates are
 * recomputed by progressive filling whenever a flow starts or ends; between those moments every flow
 * moves bytes at a constant rate.
 */
/** Bytes below this are treated as delivered (floating-point slack). */
const EPSILON_BYTES = 1e-6;

/**
 * The resolution of simulated time at `now`: a few units in the last place of it (never below 1 ps). A
 * flow due within it counts as finished, so the next completion is always strictly later than `now`
 * at any magnitude: an absolute tolerance alone (1 ps) is smaller than one ulp once `now` passes
 * ~1.6·10⁴ s, and then `now + remaining / rate` rounds back to `now` and the same check reschedules
 * itself forever.
 */
export function timeResolution(now: number): number {
  return Math.max(1e-12, Math.abs(now) * 8 * Number.EPSILON);
}

export class FluidNetwork {
  private readonly capacity: number[] = [];
  private readonly index = new Map<string, number>();
  private readonly ids = new WeakMap<readonly string[], number[]>();
  /** Scratch for progressive filling, per resource (users are back to 0 after each re-rating). */
  private leftBuffer = new Float64Array(0);
  private usersBuffer = new Int32Array(0);
  /**
   * The active flows as parallel arrays in arrival order, `count` of them: an object per flow and an array
   * truncated at each completion (V8's "set length" builtin) were a fifth of the engine's flow handling.
   * Sized once for the most flows that can run at once, so no growth path exists to deoptimise on.
   */
  private count = 0;
  private readonly task: Int32Array;
  private readonly remaining: Float64Array;
  private readonly maxRate: Float64Array;
  private readonly rate: Float64Array;
  private readonly resources: number[][] = [];
  /** The tasks `collectFinished` found finished, `[0, its return value)`. */
  readonly finishedTasks: Int32Array;
  private readonly openScratch: number[] = [];
  private readonly usedScratch: number[] = [];
  private lastUpdate = 0;

  /** `maxFlows`: the most flows active at once (the engine's stream count: a stream runs one task at a time). */
  constructor(capacities: ReadonlyMap<string, number>, maxFlows: number) {
    this.task = new Int32Array(maxFlows);
    this.remaining = new Float64Array(maxFlows);
    this.maxRate = new Float64Array(maxFlows);
    this.rate = new Float64Array(maxFlows);
    this.finishedTasks = new Int32Array(maxFlows);
    for (const [name, cap] of capacities) {
      if (!(cap > 0)) throw new Error(`resource ${name} needs a positive capacity, got ${cap}`);
      this.index.set(name, this.capacity.length);
      this.capacity.push(cap);
    }
    this.leftBuffer = new Float64Array(this.capacity.length);
    this.usersBuffer = new Int32Array(this.capacity.length);
  }

  get active(): number {
    return this.count;
  }

  add(task: number, bytes: number, maxRate: number, resources: readonly string[], now: number): void {
    this.addResolved(task, bytes, maxRate, this.resolve(task, resources), now);
  }

  /** The numbers of a flow's resources (plans share one list among many flows: each list is resolved once). */
  resolve(task: number, resources: readonly string[]): number[] {
    let ids = this.ids.get(resources);
    if (!ids) {
      ids = resources.map((r) => {
        const i = this.index.get(r);
        if (i === undefined) throw new Error(`flow of task ${task} uses unknown resource ${r}`);
        return i;
      });
      this.ids.set(resources, ids);
    }
    return ids;
  }

  /** `add` with the resources already resolved (`resolve`). */
  addResolved(task: number, bytes: number, maxRate: number, ids: number[], now: number): void {
    this.advance(now);
    if (this.count === this.task.length) throw new Error(`more than ${this.task.length} flows at once`);
    const i = this.count++;
    this.task[i] = task;
    this.remaining[i] = bytes;
    this.maxRate[i] = maxRate;
    this.rate[i] = 0;
    this.resources[i] = ids;
    this.rerate();
  }


  /**
   * Time at which the next flow finishes at current rates, strictly after `now` unless a flow is already
   * due (then `collectFinished(now)` takes it).
   */
  nextCompletion(now: number): number {
    this.advance(now);
    let t = Infinity;
    const { remaining, rate } = this;
    for (let i = 0; i < this.count; i++) t = Math.min(t, now + remaining[i]! / rate[i]!);
    return t;
  }

  /**
   * Removes flows finished by `now` and re-rates the rest (the others keep their order). Returns how many
   * finished; their tasks are `finishedTasks[0 .. that)`, in arrival order (valid until the next call).
   */
  collectFinished(now: number): number {
    this.advance(now);
    const { task, remaining, maxRate, rate, resources } = this;
    const slackSeconds = timeResolution(now);
    let finished = 0;
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      if (remaining[i]! <= EPSILON_BYTES + rate[i]! * slackSeconds) this.finishedTasks[finished++] = task[i]!;
      else {
        if (kept !== i) {
          task[kept] = task[i]!;
          remaining[kept] = remaining[i]!;
          maxRate[kept] = maxRate[i]!;
          rate[kept] = rate[i]!;
          resources[kept] = resources[i]!;
        }
        kept++;
      }
    }
    if (finished > 0) {
      this.count = kept;
      this.rerate();
    }
    return finished;
  }

  private advance(now: number): void {
    const dt = now - this.lastUpdate;
    if (dt > 0) {
      const { remaining, rate } = this;
      for (let i = 0; i < this.count; i++) remaining[i] = Math.max(0, remaining[i]! - rate[i]! * dt);
    }
    this.lastUpdate = now;
  }

  /** Progressive filling: raise all unfrozen flows together until a resource or a flow's cap binds. */
  private rerate(): void {
    const { maxRate, rate, resources } = this;
    // One flow alone (the common case) needs no progressive filling.
    if (this.count === 1) {
      let r1 = maxRate[0]!;
      const rs = resources[0]!;
      for (let j = 0; j < rs.length; j++) r1 = Math.min(r1, this.capacity[rs[j]!]!);
      rate[0] = r1;
      return;
    }
    // Only the resources some flow crosses take part (a world of many ranks has two per rank, most idle).
    // Scratch lists are reused across calls: this runs at every flow start and end.
    const left = this.leftBuffer;
    const users = this.usersBuffer;
    const used = this.usedScratch;
    let usedCount = 0;
    const open = this.openScratch;
    let openCount = 0;
    for (let f = 0; f < this.count; f++) {
      open[openCount++] = f;
      rate[f] = 0;
      // Indexed loops, here and below: this runs in cold code too, where `for…of` allocates an iterator.
      const rs = resources[f]!;
      for (let j = 0; j < rs.length; j++) {
        const r = rs[j]!;
        if (users[r]!++ === 0) {
          used[usedCount++] = r;
          left[r] = this.capacity[r]!;
        }
      }
    }
    let level = 0;
    while (openCount > 0) {
      let step = Infinity;
      for (let k = 0; k < usedCount; k++) {
        const r = used[k]!;
        if (users[r]! > 0) step = Math.min(step, left[r]! / users[r]!);
      }
      for (let k = 0; k < openCount; k++) step = Math.min(step, maxRate[open[k]!]! - level);
      level += step;
      for (let k = 0; k < usedCount; k++) {
        const r = used[k]!;
        left[r]! -= step * users[r]!;
      }
      // Frozen flows leave the open list; the rest keep their order.
      let still = 0;
      for (let k = 0; k < openCount; k++) {
        const f = open[k]!;
        const cap = maxRate[f]!;
        const capped = cap - level <= cap * 1e-12;
        let saturated = false;
        const rs = resources[f]!;
        for (let j = 0; j < rs.length; j++) {
          const r = rs[j]!;
          if (left[r]! <= this.capacity[r]! * 1e-12) {
            saturated = true;
            break;
          }
        }
        if (capped || saturated) {
          rate[f] = level;
          for (let j = 0; j < rs.length; j++) users[rs[j]!]!--;
        } else open[still++] = f;
      }
      openCount = still;
    }
  }
}
