/**
 * heap.ts for the browser (the playground's worker; src/playground/build.ts swaps it in): a page cannot read
 * V8's heap limit, so the input limits (src/pipeline/limits.ts) plan for a fixed budget — Chrome's 64-bit
 * renderer heap limit is a few GiB; a quarter of 4 GiB leaves room for the page, the charts and the copies
 * a postMessage makes.
 */
const BROWSER_HEAP_BUDGET_BYTES = 1 * 2 ** 30;

export function heapBudgetBytes(): number {
  return BROWSER_HEAP_BUDGET_BYTES;
}

/** A page has no V8 flags to set (heap.ts). */
export function useDefaultHeapGrowth(): void {}

export { gigabytes } from './gigabytes.ts';
