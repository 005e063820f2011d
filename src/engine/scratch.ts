/**
 * Typed arrays the engine reuses from run to run for its own state (never handed out). A sweep runs the
 * engine thousands of times on plans of a few thousand tasks: fresh typed arrays each time are off-heap
 * allocations whose external-memory accounting drives V8 into extra full collections. Runs beyond
 * `POOL_LIMIT` tasks get arrays of their own, freed with them, so a huge run does not pin its memory.
 */
const POOL_LIMIT = 1 << 17;

const f64: Float64Array[] = [];
const i32: Int32Array[] = [];
const u8: Uint8Array[] = [];

function capacityFor(n: number, had: number): number {
  return Math.max(n, 2 * had, 1024);
}

/** A Float64Array of length ≥ n for `slot` (contents left from the previous run). */
export function scratchF64(slot: number, n: number): Float64Array {
  if (n > POOL_LIMIT) return new Float64Array(n);
  const a = f64[slot];
  if (a && a.length >= n) return a;
  return (f64[slot] = new Float64Array(capacityFor(n, a?.length ?? 0)));
}

export function scratchI32(slot: number, n: number): Int32Array {
  if (n > POOL_LIMIT) return new Int32Array(n);
  const a = i32[slot];
  if (a && a.length >= n) return a;
  return (i32[slot] = new Int32Array(capacityFor(n, a?.length ?? 0)));
}

export function scratchU8(slot: number, n: number): Uint8Array {
  if (n > POOL_LIMIT) return new Uint8Array(n);
  const a = u8[slot];
  if (a && a.length >= n) return a;
  return (u8[slot] = new Uint8Array(capacityFor(n, a?.length ?? 0)));
}

/** A growable list of numbers in a typed array: `values[0 .. length)`. */
export class NumberList<A extends Float64Array | Int32Array> {
  length = 0;
  constructor(
    public values: A,
    private readonly make: (n: number) => A,
  ) {}

  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = this.make(2 * this.values.length);
      grown.set(this.values as never);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
}

const makeF64 = (n: number) => new Float64Array(n);
/**
 * Pooled lists start small so the first run grows them: V8 then has type feedback for the growth path when
 * it optimises the engine, instead of deoptimising the whole of `simulate` the first time a later, larger
 * plan outgrows them (seen in sweeps as "Insufficient type feedback" on `this.make`).
 */
const FIRST_CAPACITY = 16;
const makeI32 = (n: number) => new Int32Array(n);
const f64Lists: NumberList<Float64Array>[] = [];
const i32Lists: NumberList<Int32Array>[] = [];

/** An empty list for `slot`, reusing the previous run's storage (a run of more than `POOL_LIMIT` tasks, `n`, gets its own). */
export function scratchF64List(slot: number, n: number): NumberList<Float64Array> {
  if (n > POOL_LIMIT) return new NumberList(makeF64(n), makeF64);
  const list = (f64Lists[slot] ??= new NumberList(makeF64(FIRST_CAPACITY), makeF64));
  list.length = 0;
  return list;
}

export function scratchI32List(slot: number, n: number): NumberList<Int32Array> {
  if (n > POOL_LIMIT) return new NumberList(makeI32(n), makeI32);
  const list = (i32Lists[slot] ??= new NumberList(makeI32(FIRST_CAPACITY), makeI32));
  list.length = 0;
  return list;
}
