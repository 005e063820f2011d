// The single-file mathjs bundle (loads ~20× faster than the ESM tree); typed as the subset we use.
declare module 'mathjs/lib/browser/math.js' {
  const math: { unit: (s: string) => { toNumber: (u: string) => number } };
  export default math;
}
