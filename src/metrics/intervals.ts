/** Half-open time intervals [start, end) and the set operations the metrics need. */
export type Interval = readonly [number, number];

/** Sorted, non-overlapping union (IntervalBuffer's merge, as tuples). */
export function union(intervals: Interval[]): Interval[] {
  const buf = new IntervalBuffer(Math.max(1, intervals.length));
  for (let i = 0; i < intervals.length; i++) buf.push(intervals[i]![0], intervals[i]![1]);
  buf.merge();
  const out: Interval[] = new Array(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = [buf.starts[i]!, buf.ends[i]!];
  return out;
}

/** Length of the union: `length(union(intervals))`, the same sum, without the merged list as tuples. */
export function total(intervals: Interval[]): number {
  const buf = new IntervalBuffer(Math.max(1, intervals.length));
  for (let i = 0; i < intervals.length; i++) buf.push(intervals[i]![0], intervals[i]![1]);
  return buf.merge().totalLength();
}

/** Summed length of a merged (sorted, disjoint) list, left to right. */
export function length(merged: readonly Interval[]): number {
  let sum = 0;
  for (let i = 0; i < merged.length; i++) sum += merged[i]![1] - merged[i]![0];
  return sum;
}

/** union(a) minus union(b): sorted, non-overlapping. */
export function subtract(a: Interval[], b: Interval[]): Interval[] {
  return subtractMerged(union(a), union(b));
}

/** Merged `ua` minus merged `ub` (both sorted and disjoint, as `union` returns them). */
export function subtractMerged(ua: readonly Interval[], ub: readonly Interval[]): Interval[] {
  const out: [number, number][] = [];
  let j = 0;
  // Indexed, not `for (const [s, e] of ua)`: destructuring a tuple runs the iterator protocol, an
  // allocation per interval in code not yet optimised.
  for (let i = 0; i < ua.length; i++) {
    const s = ua[i]![0];
    const e = ua[i]![1];
    let cur = s;
    while (j < ub.length && ub[j]![1] <= cur) j++;
    let k = j;
    while (cur < e) {
      const blk = ub[k];
      if (!blk || blk[0] >= e) {
        out.push([cur, e]);
        break;
      }
      if (blk[0] > cur) out.push([cur, blk[0]]);
      cur = Math.max(cur, blk[1]);
      k++;
    }
  }
  return out;
}

/** Length of `a` not covered by `b` (both arbitrary lists). */
export function uncovered(a: Interval[], b: Interval[]): number {
  return subtract(a, b).reduce((sum, [s, e]) => sum + (e - s), 0);
}

/** Index of the first merged interval that ends after `t` (binary search over a sorted, disjoint list). */
function firstEndingAfter(merged: readonly Interval[], t: number): number {
  let lo = 0;
  let hi = merged.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (merged[mid]![1] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * [s, e) minus an already merged (sorted, disjoint) list: O(log n + k) for the k intervals it overlaps, so
 * callers can subtract many intervals from one busy set without re-merging it each time.
 */
export function subtractFromMerged(s: number, e: number, merged: readonly Interval[]): Interval[] {
  const out: [number, number][] = [];
  let cur = s;
  for (let k = firstEndingAfter(merged, s); cur < e; k++) {
    const blk = merged[k];
    if (!blk || blk[0] >= e) {
      out.push([cur, e]);
      break;
    }
    if (blk[0] > cur) out.push([cur, blk[0]]);
    cur = Math.max(cur, blk[1]);
  }
  return out;
}

/**
 * A list of intervals in two growable Float64Arrays (no tuple per interval), for metrics that read every
 * span of a step; `union` is its merge returned as tuples. The union is unique (connected components,
 * touching intervals joined), so lengths summed left to right over it are the same numbers bit for bit.
 */
export class IntervalBuffer {
  starts: Float64Array;
  ends: Float64Array;
  length = 0;

  constructor(capacity = 64) {
    this.starts = new Float64Array(capacity);
    this.ends = new Float64Array(capacity);
  }

  clear(): this {
    this.length = 0;
    return this;
  }

  /** Adds [s, e) if it is not empty. */
  push(s: number, e: number): void {
    if (!(e > s)) return;
    if (this.length === this.starts.length) {
      const starts = new Float64Array(this.length * 2);
      const ends = new Float64Array(this.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.length] = s;
    this.ends[this.length++] = e;
  }

  /** Sorts by start and merges in place into the union (sorted, disjoint). */
  merge(): this {
    sortByStart(this);
    const s = this.starts;
    const e = this.ends;
    let out = 0;
    for (let i = 0; i < this.length; i++) {
      const a = s[i]!;
      const b = e[i]!;
      if (out > 0 && a <= e[out - 1]!) e[out - 1] = Math.max(e[out - 1]!, b);
      else {
        s[out] = a;
        e[out++] = b;
      }
    }
    this.length = out;
    return this;
  }

  /** Summed length, left to right (of a merged buffer: `length` of the union). */
  totalLength(): number {
    let sum = 0;
    for (let i = 0; i < this.length; i++) sum += this.ends[i]! - this.starts[i]!;
    return sum;
  }

  /** Appends every interval of `other`. */
  pushAll(other: IntervalBuffer): void {
    for (let i = 0; i < other.length; i++) this.push(other.starts[i]!, other.ends[i]!);
  }
}

/** Spans arrive nearly in time order: insertion sort is close to linear on them; far from sorted, a full sort. */
function sortByStart(buf: IntervalBuffer): void {
  const s = buf.starts;
  const e = buf.ends;
  const n = buf.length;
  let moves = 0;
  for (let i = 1; i < n; i++) {
    const x = s[i]!;
    if (s[i - 1]! <= x) continue;
    const y = e[i]!;
    let j = i - 1;
    while (j >= 0 && s[j]! > x) {
      s[j + 1] = s[j]!;
      e[j + 1] = e[j]!;
      j--;
    }
    s[j + 1] = x;
    e[j + 1] = y;
    moves += i - 1 - j;
    if (moves > 16 * n + 256) {
      const idx = Array.from({ length: n }, (_, k) => k).sort((a, b) => s[a]! - s[b]!);
      const s2 = idx.map((k) => s[k]!);
      const e2 = idx.map((k) => e[k]!);
      s.set(s2);
      e.set(e2);
      return;
    }
  }
}

/** Length of merged `a` minus merged `b`: the summed pieces of `subtractMerged`, in its order. */
export function subtractedLength(a: IntervalBuffer, b: IntervalBuffer): number {
  const as = a.starts;
  const ae = a.ends;
  const bs = b.starts;
  const be = b.ends;
  const nb = b.length;
  let sum = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const s = as[i]!;
    const e = ae[i]!;
    let cur = s;
    while (j < nb && be[j]! <= cur) j++;
    let k = j;
    while (cur < e) {
      if (k >= nb || bs[k]! >= e) {
        sum += e - cur;
        break;
      }
      if (bs[k]! > cur) sum += bs[k]! - cur;
      cur = Math.max(cur, be[k]!);
      k++;
    }
  }
  return sum;
}
