/** Half-open time intervals [start, end) and the set operations the metrics need. */
export type Interval = readonly [number, number];

/** Sorted, non-overlapping union. */
export function union(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export function total(intervals: Interval[]): number {
  return union(intervals).reduce((s, [a, b]) => s + (b - a), 0);
}

/** union(a) minus union(b): sorted, non-overlapping. */
export function subtract(a: Interval[], b: Interval[]): Interval[] {
  const ub = union(b);
  const out: [number, number][] = [];
  let j = 0;
  for (const [s, e] of union(a)) {
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
