/**
 * Max-min fair sharing of bandwidth resources among concurrent flows (a fluid model). Rates are
 * recomputed by progressive filling whenever a flow starts or ends; between those moments every flow
 * moves bytes at a constant rate.
 */
interface Flow {
  task: number;
  remaining: number;
  maxRate: number;
  resources: number[];
  rate: number;
}

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
  private flows: Flow[] = [];
  private readonly openScratch: Flow[] = [];
  private readonly usedScratch: number[] = [];
  private lastUpdate = 0;

  constructor(capacities: ReadonlyMap<string, number>) {
    for (const [name, cap] of capacities) {
      if (!(cap > 0)) throw new Error(`resource ${name} needs a positive capacity, got ${cap}`);
      this.index.set(name, this.capacity.length);
      this.capacity.push(cap);
    }
    this.leftBuffer = new Float64Array(this.capacity.length);
    this.usersBuffer = new Int32Array(this.capacity.length);
  }

  get active(): number {
    return this.flows.length;
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
    this.flows.push({ task, remaining: bytes, maxRate, resources: ids, rate: 0 });
    this.rerate();
  }

  /**
   * Time at which the next flow finishes at current rates, strictly after `now` unless a flow is already
   * due (then `collectFinished(now)` takes it).
   */
  nextCompletion(now: number): number {
    this.advance(now);
    let t = Infinity;
    for (const f of this.flows) t = Math.min(t, now + f.remaining / f.rate);
    return t;
  }

  /** Removes and returns flows finished by `now`, then re-rates the rest (the others keep their order). */
  collectFinished(now: number): number[] {
    this.advance(now);
    const finished: number[] = [];
    const flows = this.flows;
    const slackSeconds = timeResolution(now);
    let kept = 0;
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i]!;
      if (f.remaining <= EPSILON_BYTES + f.rate * slackSeconds) finished.push(f.task);
      else flows[kept++] = f;
    }
    if (finished.length > 0) {
      flows.length = kept;
      this.rerate();
    }
    return finished;
  }

  private advance(now: number): void {
    const dt = now - this.lastUpdate;
    if (dt > 0) for (const f of this.flows) f.remaining = Math.max(0, f.remaining - f.rate * dt);
    this.lastUpdate = now;
  }

  /** Progressive filling: raise all unfrozen flows together until a resource or a flow's cap binds. */
  private rerate(): void {
    // One flow alone (the common case) needs no progressive filling.
    if (this.flows.length === 1) {
      const f = this.flows[0]!;
      let rate = f.maxRate;
      for (const r of f.resources) rate = Math.min(rate, this.capacity[r]!);
      f.rate = rate;
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
    for (const f of this.flows) {
      open[openCount++] = f;
      f.rate = 0;
      for (const r of f.resources) {
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
      for (let k = 0; k < openCount; k++) step = Math.min(step, open[k]!.maxRate - level);
      level += step;
      for (let k = 0; k < usedCount; k++) {
        const r = used[k]!;
        left[r]! -= step * users[r]!;
      }
      // Frozen flows leave the open list; the rest keep their order.
      let still = 0;
      for (let k = 0; k < openCount; k++) {
        const f = open[k]!;
        const capped = f.maxRate - level <= f.maxRate * 1e-12;
        let saturated = false;
        for (const r of f.resources) {
          if (left[r]! <= this.capacity[r]! * 1e-12) {
            saturated = true;
            break;
          }
        }
        if (capped || saturated) {
          f.rate = level;
          for (const r of f.resources) users[r]!--;
        } else open[still++] = f;
      }
      openCount = still;
    }
  }
}
