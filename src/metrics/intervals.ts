/** Half-open time intervals [start, end) and the set operations the metrics need. */
export type Interval = readonly [number, number];

/** Sorted, non-overlapping union. */
export function union(intervals: Interval[]): Interval[] {
  const sorted: Interval[] = [];
  for (let i = 0; i < intervals.length; i++) if (intervals[i]![1] > intervals[i]![0]) sorted.push(intervals[i]!);
  // Spans arrive nearly in time order: the (stable) sort is close to linear on them.
  sorted.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let last: [number, number] | undefined;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]![0];
    const b = sorted[i]![1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push((last = [a, b]));
  }
  return out;
}

export function total(intervals: Interval[]): number {
  return length(union(intervals));
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
  for (const [s, e] of ua) {
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
