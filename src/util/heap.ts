import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** Share of the free heap one run may plan for (the rest: V8's own slack, the advisor, the output). */
const HEAP_SHARE = 0.8;

/**
 * Heap bytes a run may plan for in this process (or worker thread): V8's limit less what is in use.
 * Raise the limit with NODE_OPTIONS=--max-old-space-size=… to go further.
 */
export function heapBudgetBytes(): number {
  const h = getHeapStatistics();
  return Math.max(0, (h.heap_size_limit - h.used_heap_size) * HEAP_SHARE);
}

let defaultGrowth = false;

/**
 * Gives V8 back its own old-generation growth factor. bin/shardsim.js fixes it at 7 for `simulate` and
 * `compare`, which saves a short run its second full GC; a long run would pile up to 7× its live heap in
 * garbage between full GCs instead (405B on 16,384 GPUs, 20 steps with a report: peak RSS 417 → 658 MB).
 * V8 reads the flag whenever it sets the next limit, after each full GC.
 */
export function useDefaultHeapGrowth(): void {
  if (defaultGrowth) return;
  defaultGrowth = true;
  setFlagsFromString('--heap-growing-percent=0');
}

export { gigabytes } from './gigabytes.ts';
