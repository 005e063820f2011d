import { getHeapStatistics } from 'node:v8';

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

export { gigabytes } from './gigabytes.ts';
