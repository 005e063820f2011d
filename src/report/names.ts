import type { OpTag } from '../strategy/index.ts';

/** How an op is named in charts, traces and explanations: "layer 12 forward", "all_gather layer 3 (backward)". */
export function opName(t: OpTag): string {
  if (t.kind === 'compute') return `${t.label} ${t.phase}`;
  if (t.kind === 'optimizer') return t.label;
  return `${t.kind} ${t.label} (${t.phase})`;
}
