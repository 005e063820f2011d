import type { MemoryChange, Task, Work } from '../engine/index.ts';
import { collectiveCost, type CollectiveCost, type CollectiveKind, type GroupPlacement, type LinkClass, type NetworkParams } from '../network/index.ts';
import { DOUBLE, primeShape } from '../util/v8-shapes.ts';
import type { Straggler } from '../config/types.ts';

/** CUDA streams a rank uses, named as PyTorch creates them. */
export type StreamName = 'compute' | 'all_gather' | 'reduce_scatter' | 'all_reduce' | 'tensor_parallel' | 'context_parallel' | 'expert_parallel' | 'host_to_device' | 'device_to_host' | 'host';

/** `copy`: a host↔device transfer over PCIe (offload); it uses copy engines, not SMs. */
export type OpKind = 'compute' | 'optimizer' | 'copy' | CollectiveKind;

/** What a task means to the ML side; the engine carries it through untouched. */
export interface OpTag {
  kind: OpKind;
  phase: 'forward' | 'backward' | 'recompute' | 'optimizer';
  /** "embedding", "layer 12", "head", "bucket 3", "root"… */
  label: string;
  layer?: number;
  microBatch: number;
  flops?: number;
  /** Collective payload S (nccl-tests "size") and the group it runs on. */
  bytes?: number;
  groupSize?: number;
  algorithm?: string;
  /** Bytes this rank sends on the wire (S × bus factor). */
  wireBytes?: number;
}

/**
 * `t` at micro-batch `mb`, every field set (absent ones undefined): one object shape for every task's tag,
 * so the engine, metrics and reports read tags monomorphically (a spread builds each shape key by key).
 */
export function opTag(t: Omit<OpTag, 'microBatch'>, mb: number): OpTag {
  return { kind: t.kind, phase: t.phase, label: t.label, layer: t.layer, microBatch: mb, flops: t.flops, bytes: t.bytes, groupSize: t.groupSize, algorithm: t.algorithm, wireBytes: t.wireBytes };
}

/** Every OpKind, in the order of its code (`OpKindCode`): metrics read a byte per task instead of its tag. */
export const OP_KINDS: readonly OpKind[] = ['compute', 'optimizer', 'copy', 'all_reduce', 'all_gather', 'reduce_scatter', 'broadcast', 'send_recv', 'all_to_all'];
export const KIND_COMPUTE = 0;
export const KIND_OPTIMIZER = 1;

/** The code of an OpKind: its index in OP_KINDS (comparisons of interned strings, no hashing). */
export function opKindCode(kind: OpKind): number {
  switch (kind) {
    case 'compute': return 0;
    case 'optimizer': return 1;
    case 'copy': return 2;
    case 'all_reduce': return 3;
    case 'all_gather': return 4;
    case 'reduce_scatter': return 5;
    case 'broadcast': return 6;
    case 'send_recv': return 7;
    case 'all_to_all': return 8;
  }
}

/**
 * What metrics read of every task, by task index, in typed arrays: the rank breakdown reads these instead of
 * `tasks[i].tag`, an object and a tag per task scattered over the heap (cache misses on every plan object were
 * most of its time in sweeps).
 */
export interface TaskColumns {
  /** `opKindCode(tag.kind)`. */
  kind: Uint8Array;
  /** `tag.microBatch`. */
  microBatch: Int32Array;
  /** `tag.wireBytes ?? 0`. */
  wireBytes: Float64Array;
}

/** The columns of tasks built without a PlanBuilder (hand-made plans in tests): read from their tags. */
export function taskColumnsOf(tasks: readonly Task<OpTag>[]): TaskColumns {
  const kind = new Uint8Array(tasks.length);
  const microBatch = new Int32Array(tasks.length);
  const wireBytes = new Float64Array(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    const tag = tasks[i]!.tag;
    kind[i] = opKindCode(tag.kind);
    microBatch[i] = tag.microBatch;
    wireBytes[i] = tag.wireBytes ?? 0;
  }
  return { kind, microBatch, wireBytes };
}

/** What a collective's caller says of it: PlanBuilder.collective adds the kind, payload, group and algorithm. */
export type CollectiveTag = Omit<OpTag, 'kind' | 'bytes' | 'groupSize' | 'algorithm' | 'wireBytes'>;

/**
 * A collective's tag in one object shape for every call site (`layer`, `flops` undefined when absent).
 * PlanBuilder.collective reads each one: literals of other key sets (and spreads of them) were six maps there,
 * and each one first seen after it was optimised threw its code away ("wrong map").
 */
export const collTag = (phase: OpTag['phase'], label: string, microBatch: number, layer?: number, flops?: number): CollectiveTag =>
  ({ phase, label, layer, microBatch, flops });

export type MemoryCategory = 'parameters' | 'gradients' | 'optimizer_states' | 'activations' | 'communication_buffers' | 'other';

export interface Plan {
  tasks: Task<OpTag>[];
  /** What metrics read of each task's tag, filled as the builder pushed it (absent: read from the tags). */
  columns?: TaskColumns;
  /** Shared link capacities (bytes/s) by resource name. */
  resources: Map<string, number>;
  /** Ranks that were simulated (one representative when ranks are symmetric; see strategy/symmetry.ts). */
  ranks: number[];
  /** Symmetry reduction: how many ranks of the world each simulated rank stands for (absent: all or one). */
  rankClasses?: { representative: number; ranks: number }[];
  /** Symmetry reduction: group instances of the world per reduced group name (`kind~type` in a rendezvous key). */
  groupInstances?: Map<string, number>;
  /** Persistent per-rank model states at the start of the step (ZeRO's "model states" less gradients). */
  persistentBytes: Record<MemoryCategory, number>;
  /** Gradient bytes that persist through the step on one GPU (sharded under FSDP). */
  persistentGradientBytes: number;
  /** Optimizer state in CUDA unified memory (paged optimizers), per GPU: not in the allocator's peak. */
  pagedOptimizerBytes: number;
  /** Steady-state plans: this micro-batch stands for `extraTimes` more identical ones that were not lowered. */
  repeatedMicroBatch?: { microBatch: number; extraTimes: number };
}

/**
 * The caching allocator's pools: PyTorch reuses a freed block only for requests on the stream that
 * allocated it (c10/cuda/CUDACachingAllocator.cpp `get_free_block`: `(*it)->stream != p.stream()`), so
 * memory FSDP allocates on its all-gather and reduce-scatter streams stays reserved for them.
 */
export type AllocatorPool = 'default' | 'all_gather' | 'reduce_scatter';

/** One object shape for every change (`pool` undefined for the default pool), so the engine reads them monomorphically. */
export const mem = (at: 'start' | 'end', bytes: number, category: MemoryCategory, pool: AllocatorPool = 'default'): MemoryChange =>
  ({ at, bytes, category, pool: pool === 'default' ? undefined : pool });

/** What a plan needs of a collective's cost (network/collective.ts `collectiveCost`). */
interface PlannedCost {
  algorithm: CollectiveCost['algorithm'];
  link: LinkClass;
  latencySeconds: number;
  busBytes: number;
  busBytesPerSecond: number;
}

/**
 * The cost in one object shape: each algorithm's candidates are literals of their own (ring, tree, NVLS, p2p,
 * the local copy), so PlanBuilder.collective read costs of five maps, and one first seen after it was
 * optimised threw its code away ("wrong map"). Byte and rate fields are doubles from the start
 * (src/util/v8-shapes.ts): bus bytes cross 2^30 between configs.
 */
const plannedCost = (c: { algorithm: CollectiveCost['algorithm']; link: LinkClass; latencySeconds: number; busBytes: number; busBytesPerSecond: number }): PlannedCost =>
  ({ algorithm: c.algorithm, link: c.link, latencySeconds: c.latencySeconds, busBytes: c.busBytes, busBytesPerSecond: c.busBytesPerSecond });
primeShape(plannedCost({ algorithm: 'ring', link: 'intra', latencySeconds: DOUBLE, busBytes: DOUBLE, busBytesPerSecond: DOUBLE }));

/**
 * Accumulates tasks for every simulated rank. Compute on a straggler rank runs slower; its links too.
 * Collectives become flows on the rank's link resource; a collective simulated on more than one rank
 * is a rendezvous group, so it starts when the last member arrives.
 */
export class PlanBuilder {
  readonly tasks: Task<OpTag>[] = [];
  // Per task, filled by `push` (grown by doubling; `taskColumns` hands out views of the filled part). They
  // start small so that the first plan of a sweep runs the growth path before `push` is optimised: a path
  // first taken by optimised code has no type feedback and de-optimises it ("insufficient type feedback").
  private kindCodes = new Uint8Array(64);
  private microBatches = new Int32Array(64);
  private wireBytes = new Float64Array(64);
  readonly resources = new Map<string, number>();
  private readonly slow = new Map<number, Straggler>();
  private readonly costCache = new Map<GroupPlacement, Map<CollectiveKind, Map<number, PlannedCost>>>();
  private readonly workCache = new Map<PlannedCost, Map<number, Work>>();
  /**
   * The most tasks this process can hold, with the error to throw past it (pipeline/limits.ts): a plan that
   * outgrows the heap stops here, while it is being built, instead of crashing V8.
   */
  limit: { maxTasks: number; error: (tasks: number) => Error } = { maxTasks: Infinity, error: (n) => new Error(`plan too large: ${n} tasks`) };

  constructor(
    readonly ranks: number[],
    private readonly net: NetworkParams,
    stragglers: Straggler[],
    /** Share of a GPU's SMs one running collective holds (NCCL CTAs ÷ SMs); compute gets the rest. */
    private readonly collectiveOccupancy = 0,
  ) {
    for (const s of stragglers) this.slow.set(s.rank, s);
    for (const r of ranks) {
      const linkSlow = this.slow.get(r)?.linkSlowdown ?? 1;
      this.resources.set(`intra:${r}`, Math.max(net.intraRingBusBytesPerSecond, net.intraNvlsBusBytesPerSecond) / linkSlow);
      this.resources.set(`inter:${r}`, net.interBusBytesPerSecondPerGpu / linkSlow);
    }
  }

  private costOf(kind: CollectiveKind, bytes: number, placement: GroupPlacement): PlannedCost {
    let byKind = this.costCache.get(placement);
    if (!byKind) this.costCache.set(placement, (byKind = new Map()));
    let byBytes = byKind.get(kind);
    if (!byBytes) byKind.set(kind, (byBytes = new Map()));
    let cost = byBytes.get(bytes);
    if (!cost) byBytes.set(bytes, (cost = plannedCost(collectiveCost(kind, bytes, placement, this.net))));
    return cost;
  }

  /**
   * Symmetry reduction under jitter (strategy/index.ts): how many members of the real group instance named by
   * `key` the representative `rank` stands for. Set, collectives always rendezvous, even on one simulated rank.
   */
  standsFor: ((rank: number, key: string) => number) | undefined;

  get multiRank(): boolean {
    return this.ranks.length > 1 || this.standsFor !== undefined;
  }

  private push(rank: number, stream: StreamName, work: Work, tag: OpTag, deps: number[], memory: MemoryChange[], group?: string): number {
    if (this.tasks.length >= this.limit.maxTasks) throw this.limit.error(this.tasks.length);
    let kept = 0;
    for (let i = 0; i < deps.length; i++) if (deps[i]! >= 0) kept++;
    // Every field present (absent ones undefined): one object shape for every task, whichever fields it uses.
    const task: Task<OpTag> = {
      process: rank,
      stream,
      deps: kept === 0 ? undefined : kept === deps.length ? deps.slice() : deps.filter((x) => x >= 0),
      work,
      group,
      standsFor: undefined,
      memory: memory.length > 0 ? memory : undefined,
      occupancy: undefined,
      tag,
    };
    const index = this.tasks.length;
    this.tasks.push(task);
    if (index === this.kindCodes.length) {
      const kinds = new Uint8Array(2 * index);
      kinds.set(this.kindCodes);
      this.kindCodes = kinds;
      const mbs = new Int32Array(2 * index);
      mbs.set(this.microBatches);
      this.microBatches = mbs;
      const wire = new Float64Array(2 * index);
      wire.set(this.wireBytes);
      this.wireBytes = wire;
    }
    this.kindCodes[index] = opKindCode(tag.kind);
    this.microBatches[index] = tag.microBatch;
    this.wireBytes[index] = tag.wireBytes ?? 0;
    return index;
  }

  /** The metrics' columns of every task pushed so far (views of the builder's arrays). */
  taskColumns(): TaskColumns {
    const n = this.tasks.length;
    return { kind: this.kindCodes.subarray(0, n), microBatch: this.microBatches.subarray(0, n), wireBytes: this.wireBytes.subarray(0, n) };
  }

  compute(rank: number, seconds: number, tag: OpTag, deps: number[] = [], memory: MemoryChange[] = []): number {
    const slowdown = this.slow.size === 0 ? 1 : (this.slow.get(rank)?.computeSlowdown ?? 1);
    // Kernels share the SMs with whatever NCCL kernels are resident on this GPU.
    // Delay work in one object shape (sharesProcessor always present), as the engine reads every task's work.
    return this.push(rank, 'compute', { kind: 'delay', seconds: seconds * slowdown, sharesProcessor: true }, tag, deps, memory);
  }

  /** A host↔device copy (CPU offload) on its own stream at the host link's rate. */
  copy(rank: number, stream: 'host_to_device' | 'device_to_host', bytes: number, bytesPerSecond: number, tag: Omit<OpTag, 'kind'>, deps: number[] = [], memory: MemoryChange[] = []): number {
    return this.push(rank, stream, { kind: 'delay', seconds: bytes / bytesPerSecond, sharesProcessor: undefined }, opTag({ ...tag, kind: 'copy', bytes }, tag.microBatch), deps, memory);
  }

  /** Work on the host CPU (e.g. the optimizer step under CPU offload): blocks the step, uses no SMs. */
  host(rank: number, seconds: number, tag: OpTag, deps: number[] = [], memory: MemoryChange[] = []): number {
    return this.push(rank, 'host', { kind: 'delay', seconds, sharesProcessor: undefined }, tag, deps, memory);
  }

  /**
   * A collective on `stream`. `key` names the collective instance (the same on every member rank).
   * The flow's bytes are scaled so that alone it takes latency + busBytes/busbw, while concurrent flows
   * share the link's capacity.
   */
  collective(
    rank: number,
    stream: StreamName,
    kind: CollectiveKind,
    bytes: number,
    placement: GroupPlacement,
    key: string,
    tag: CollectiveTag,
    deps: number[] = [],
    memory: MemoryChange[] = [],
  ): number {
    // The same collective (kind, size, group shape) recurs for every layer and micro-batch: cost it once.
    // Keyed on the placement object (layouts build one per group shape), then kind and bytes: no string keys.
    const cost = this.costOf(kind, bytes, placement);
    // One object shape for every collective's tag (a spread of `tag` would build each one key by key).
    const full: OpTag = { kind, phase: tag.phase, label: tag.label, layer: tag.layer, microBatch: tag.microBatch, flops: tag.flops, bytes, groupSize: placement.size, algorithm: cost.algorithm, wireBytes: cost.busBytes };
    // Work descriptions are immutable: share one per (collective cost, rank).
    let perRank = this.workCache.get(cost);
    if (!perRank) this.workCache.set(cost, (perRank = new Map()));
    let work = perRank.get(rank);
    if (!work) {
      if (cost.busBytes === 0) work = { kind: 'delay', seconds: 0, sharesProcessor: undefined };
      else {
        const resource = `${cost.link}:${rank}`;
        const capacity = this.resources.get(resource)!;
        const linkSlow = this.slow.get(rank)?.linkSlowdown ?? 1;
        const rate = cost.busBytesPerSecond / linkSlow;
        work = { kind: 'flow', latencySeconds: cost.latencySeconds, bytes: (cost.busBytes * capacity) / rate, maxBytesPerSecond: capacity, resources: [resource] };
      }
      perRank.set(rank, work);
    }
    const index = this.push(rank, stream, work, full, deps, memory, this.multiRank ? key : undefined);
    if (this.standsFor) {
      const alike = this.standsFor(rank, key);
      if (alike > 1) this.tasks[index]!.standsFor = alike;
    }
    if (cost.busBytes > 0 && this.collectiveOccupancy > 0) this.tasks[index]!.occupancy = this.collectiveOccupancy;
    return index;
  }
}
