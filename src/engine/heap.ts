/**
 * A binary min-heap of events keyed on (time, seq). `seq` is the insertion counter, so events at the
 * same time pop in FIFO order — the same tie-break SimPy uses — which keeps runs deterministic.
 */
export interface HeapEntry {
  time: number;
  seq: number;
}

export class EventHeap<T extends HeapEntry> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: HeapEntry, y: HeapEntry): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}

/**
 * The same (time, seq) min-heap over structure-of-arrays storage: an event is a time and three integers
 * (kind, task, version), so pushing and popping allocate nothing (the engine's hot loop; an object per
 * event was most of its garbage). `seq` is assigned on push. After `pop()` the popped event is in
 * `time`, `kind`, `task` and `version`.
 */
export class TypedEventHeap {
  // Small at first, so the first run grows it and V8 has feedback for `grow` before it optimises `push`
  // (a never-run call there deoptimises the engine when a later, larger run first needs it).
  private times = new Float64Array(16);
  private seqs = new Float64Array(16);
  private data = new Int32Array(3 * 16);
  private n = 0;
  private nextSeq = 0;
  time = 0;
  kind = 0;
  task = 0;
  version = 0;

  get size(): number {
    return this.n;
  }

  /** Empties the heap and restarts its insertion counter (the arrays are kept). */
  clear(): void {
    this.n = 0;
    this.nextSeq = 0;
  }

  push(time: number, kind: number, task: number, version: number): void {
    if (this.n === this.times.length) this.grow();
    const seq = this.nextSeq++;
    const { times, seqs, data } = this;
    let i = this.n++;
    // Sift the hole up, then drop the event in.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (!(time < pt || (time === pt && seq < seqs[p]!))) break;
      this.move(p, i);
      i = p;
    }
    times[i] = time;
    seqs[i] = seq;
    data[3 * i] = kind;
    data[3 * i + 1] = task;
    data[3 * i + 2] = version;
  }

  /** Removes the earliest event into `time`, `kind`, `task`, `version`; false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    const { times, seqs, data } = this;
    this.time = times[0]!;
    this.kind = data[0]!;
    this.task = data[1]!;
    this.version = data[2]!;
    const last = --this.n;
    if (last === 0) return true;
    const t = times[last]!;
    const s = seqs[last]!;
    const k = data[3 * last]!;
    const tk = data[3 * last + 1]!;
    const v = data[3 * last + 2]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let m = l;
      if (r < last && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!))) m = r;
      if (!(times[m]! < t || (times[m] === t && seqs[m]! < s))) break;
      this.move(m, i);
      i = m;
    }
    times[i] = t;
    seqs[i] = s;
    data[3 * i] = k;
    data[3 * i + 1] = tk;
    data[3 * i + 2] = v;
    return true;
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.data[3 * to] = this.data[3 * from]!;
    this.data[3 * to + 1] = this.data[3 * from + 1]!;
    this.data[3 * to + 2] = this.data[3 * from + 2]!;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    const data = new Int32Array(3 * cap);
    data.set(this.data);
    this.times = times;
    this.seqs = seqs;
    this.data = data;
  }
}
