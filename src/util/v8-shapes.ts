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
