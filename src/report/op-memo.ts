import type { OpTag } from '../strategy/index.ts';

/**
 * Values built once per op (kind, phase, label) and reused for the next tag of that op that `same` accepts.
 * A step repeats each op over micro-batches: the report's tens of thousands of bars and trace events come
 * from a few hundred ops, and their text is most of what the report builds. An op's tags differ where a
 * strategy makes them differ (a layer's payload, an algorithm): `same` says which fields the value read.
 */
export function opMemo<V>(build: (t: OpTag) => V, same: (built: V, t: OpTag) => boolean): (t: OpTag) => V {
  // Nested by kind and phase (interned strings): no key string built per tag.
  const byKind = new Map<string, Map<string, Map<string, V>>>();
  return (t) => {
    let byPhase = byKind.get(t.kind);
    if (!byPhase) byKind.set(t.kind, (byPhase = new Map()));
    let byLabel = byPhase.get(t.phase);
    if (!byLabel) byPhase.set(t.phase, (byLabel = new Map()));
    let v = byLabel.get(t.label);
    if (v === undefined || !same(v, t)) byLabel.set(t.label, (v = build(t)));
    return v;
  };
}
