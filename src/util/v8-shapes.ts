/**
 * V8 fixes an object field's representation from the first value stored in it: a number in small-integer
 * range (|x| < 2^30) makes it an integer field, anything else a double field. A later double in an integer
 * field changes the map of every such object and throws away each optimised function that read one; in a
 * sweep that happens mid-run (byte counts cross 2^30 as micro-batch and sequence length grow), and the FSDP
 * lowering was recompiled several times over. Modules whose objects hold such numbers build one object of
 * each shape at load time with this value in its number fields, so the fields are doubles from the start
 * (integers are stored exactly in them). It is never read as data.
 */
export const DOUBLE = 0.5;

/** Takes a load-time object built for its shape alone (a bare literal would be dropped by the bundler). */
export function primeShape(shape: object): void {
  void shape;
}

/**
 * `xs.map(f)` as an array that is always of packed elements. The elements kind of `Array.prototype.map`'s
 * result depends on the caller's tier: the builtin returns a packed array, while TurboFan inlines `map` into an
 * optimised caller with an array made by `new Array(length)`, which stays holey. Per-layer arrays of the plan
 * are indexed by optimised lowering code, whose keyed loads check the array's map: a holey array after a
 * packed one (when the function building it got optimised or de-optimised mid-sweep) threw away every
 * function reading it ("wrong map"). Pushing onto an empty literal gives packed elements in every tier.
 */
export function packedMap<T, U>(xs: readonly T[], f: (x: T, i: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i]!, i));
  return out;
}
