import type { MemoryChange, Task, Work } from '../engine/index.ts';
import { collectiveCost, type CollectiveCost, type CollectiveKind, type GroupPlacement, type NetworkParams } from '../network/index.ts';
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

export type MemoryCategory = 'parameters' | 'gradients' | 'optimizer_states' | 'activations' | 'communication_buffers' | 'other';

export interface Plan {
  tasks: Task<OpTag>[];
  /** Shared link capacities (bytes/s) by resource name. */
  resources: Map<string, number>;
  /** Ranks that were simulated (all of them when ranks differ, else one representative). */
  ranks: number[];
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

export const mem = (at: 'start' | 'end', bytes: number, category: MemoryCategory, pool: AllocatorPool = 'default'): MemoryChange =>
  pool === 'default' ? { at, bytes, category } : { at, bytes, category, pool };

/**
 * Accumulates tasks for every simulated rank. Compute on a straggler rank runs slower; its links too.
 * Collectives become flows on the rank's link resource; a collective simulated on more than one rank
 * is a rendezvous group, so it starts when the last member arrives.
 */
export class PlanBuilder {
  readonly tasks: Task<OpTag>[] = [];
  readonly resources = new Map<string, number>();
  private readonly slow = new Map<number, Straggler>();
  private readonly costCache = new Map<string, CollectiveCost>();
  private readonly workCache = new Map<string, Work>();
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

  get multiRank(): boolean {
    return this.ranks.length > 1;
  }

  private push(rank: number, stream: StreamName, work: Work, tag: OpTag, deps: number[], memory: MemoryChange[], group?: string): number {
    if (this.tasks.length >= this.limit.maxTasks) throw this.limit.error(this.tasks.length);
    const task: Task<OpTag> = { process: rank, stream, work, tag };
    const d = deps.filter((x) => x >= 0);
    if (d.length > 0) task.deps = d;
    if (memory.length > 0) task.memory = memory;
    if (group !== undefined) task.group = group;
    this.tasks.push(task);
    return this.tasks.length - 1;
  }

  compute(rank: number, seconds: number, tag: OpTag, deps: number[] = [], memory: MemoryChange[] = []): number {
    const slowdown = this.slow.get(rank)?.computeSlowdown ?? 1;
    // Kernels share the SMs with whatever NCCL kernels are resident on this GPU.
    return this.push(rank, 'compute', { kind: 'delay', seconds: seconds * slowdown, sharesProcessor: true }, tag, deps, memory);
  }

  /** A host↔device copy (CPU offload) on its own stream at the host link's rate. */
  copy(rank: number, stream: 'host_to_device' | 'device_to_host', bytes: number, bytesPerSecond: number, tag: Omit<OpTag, 'kind'>, deps: number[] = [], memory: MemoryChange[] = []): number {
    return this.push(rank, stream, { kind: 'delay', seconds: bytes / bytesPerSecond }, { ...tag, kind: 'copy', bytes }, deps, memory);
  }

  /** Work on the host CPU (e.g. the optimizer step under CPU offload): blocks the step, uses no SMs. */
  host(rank: number, seconds: number, tag: OpTag, deps: number[] = [], memory: MemoryChange[] = []): number {
    return this.push(rank, 'host', { kind: 'delay', seconds }, tag, deps, memory);
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
    tag: Omit<OpTag, 'kind' | 'bytes' | 'groupSize' | 'algorithm' | 'wireBytes'>,
    deps: number[] = [],
    memory: MemoryChange[] = [],
  ): number {
    // The same collective (kind, size, group shape) recurs for every layer and micro-batch: cost it once.
    const costKey = `${kind}|${bytes}|${placement.size}|${placement.nodes}|${placement.gpusPerNode ?? ''}`;
    let cost = this.costCache.get(costKey);
    if (!cost) {
      cost = collectiveCost(kind, bytes, placement, this.net);
      this.costCache.set(costKey, cost);
    }
    const full: OpTag = { ...tag, kind, bytes, groupSize: placement.size, algorithm: cost.algorithm, wireBytes: cost.busBytes };
    // Work descriptions are immutable: share one per (collective shape, rank).
    const workKey = `${costKey}|${rank}`;
    let work = this.workCache.get(workKey);
    if (!work) {
      if (cost.busBytes === 0) work = { kind: 'delay', seconds: 0 };
      else {
        const resource = `${cost.link}:${rank}`;
        const capacity = this.resources.get(resource)!;
        const linkSlow = this.slow.get(rank)?.linkSlowdown ?? 1;
        const rate = cost.busBytesPerSecond / linkSlow;
        work = { kind: 'flow', latencySeconds: cost.latencySeconds, bytes: (cost.busBytes * capacity) / rate, maxBytesPerSecond: capacity, resources: [resource] };
      }
      this.workCache.set(workKey, work);
    }
    const index = this.push(rank, stream, work, full, deps, memory, this.multiRank ? key : undefined);
    if (cost.busBytes > 0 && this.collectiveOccupancy > 0) this.tasks[index]!.occupancy = this.collectiveOccupancy;
    return index;
  }
}
