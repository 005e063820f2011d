/**
 * Symmetry reduction: ranks that see the same inputs follow the same timeline, so one representative per
 * equivalence class is simulated and stands for the others.
 *
 * A rank's timeline is fixed by what is lowered for it (its straggler slowdowns, its expert-parallel load
 * slot: the only rank-specific inputs of a plan) and by when the members of each of its process groups
 * arrive at a collective (rendezvous: it starts when the last member arrives). Each group kind has one
 * placement for all its instances and every link resource is a rank's own (strategy/plan.ts), so nothing
 * else distinguishes ranks. Classes are the coarsest partition that is stable under "same own inputs, and in
 * each group kind a group holding the same multiset of classes" — colour refinement (1-dimensional
 * Weisfeiler–Leman) over the group hypergraph. By induction over the step's events, ranks of one class have
 * identical timelines: a class's members start each collective when the same set of classes has arrived.
 *
 * Stability also gives the rendezvous rule of the reduced plan: within one group kind, every instance that
 * holds a given class holds the same multiset of classes (its "group type"). A representative's collective
 * therefore rendezvous with the representatives of exactly the classes its group type holds, and naming the
 * instance by its type makes the engine's rendezvous groups (one key per instance) exact.
 * test/strategy/symmetry.test.ts pins equality with the all-ranks simulation.
 */

export interface RankClasses {
  /** Class index of every rank of the world. */
  classOf: Int32Array;
  /** The lowest rank of each class: the one simulated. */
  representatives: number[];
  /** Ranks per class (same order as `representatives`). */
  sizes: number[];
  /** Per group kind: the group type (a class multiset) of each group instance. */
  groupTypes: Int32Array[];
  /** The group kinds refined over (same order as `groupTypes`). */
  kinds: readonly { groups: readonly (readonly number[])[]; groupOf(rank: number): number }[];
}

/**
 * Classes of `worldSize` ranks under `groupKinds` (each a partition of the ranks into group instances, with
 * `groupOf(rank)` the instance index) and `ownColour(rank)` (the rank's own inputs, as a string).
 */
export function rankClasses(worldSize: number, groupKinds: readonly { groups: readonly (readonly number[])[]; groupOf(rank: number): number }[], ownColour: (rank: number) => string): RankClasses {
  let colour = new Int32Array(worldSize);
  let count = intern(worldSize, (r) => ownColour(r), colour);
  let groupTypes: Int32Array[] = [];
  for (;;) {
    // Each group instance's signature: the sorted multiset of its members' colours.
    groupTypes = groupKinds.map((kind) => {
      const types = new Int32Array(kind.groups.length);
      const ids = new Map<string, number>();
      kind.groups.forEach((g, i) => {
        const sig = g.map((r) => colour[r]!).sort((a, b) => a - b).join(',');
        let id = ids.get(sig);
        if (id === undefined) ids.set(sig, (id = ids.size));
        types[i] = id;
      });
      return types;
    });
    const next = new Int32Array(worldSize);
    const nextCount = intern(worldSize, (r) => `${colour[r]}|${groupKinds.map((k, i) => groupTypes[i]![k.groupOf(r)]).join('|')}`, next);
    // Refinement only splits classes: an unchanged count means a stable partition.
    const stable = nextCount === count;
    colour = next;
    count = nextCount;
    if (stable) break;
  }
  // Group types named after the final colours (the last pass's types were computed from the colours before it,
  // which induce the same partition of instances once stable).
  const representatives: number[] = [];
  const sizes: number[] = [];
  for (let r = 0; r < worldSize; r++) {
    const c = colour[r]!;
    if (representatives[c] === undefined) representatives[c] = r;
    sizes[c] = (sizes[c] ?? 0) + 1;
  }
  return { classOf: colour, representatives, sizes, groupTypes, kinds: groupKinds };
}

/** Numbers the distinct keys in first-seen rank order (so class 0 holds rank 0); returns how many. */
function intern(n: number, key: (rank: number) => string, out: Int32Array): number {
  const ids = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    const k = key(r);
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    out[r] = id;
  }
  return ids.size;
}
