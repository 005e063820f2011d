import type { ResolvedConfig } from '../config/types.ts';
import type { ScenarioChange } from './types.ts';

/** What a move needs to know about the configuration it starts from (a simulated one). */
export interface MoveContext {
  cfg: ResolvedConfig;
  gpusPerNode: number;
  numNodes: number;
  worldSize: number;
  /** The scenario's own `simulation.gpus` / `dp_shard_size`, if it sets them. */
  gpusKey?: number;
  dpShardKey?: number;
  /** The scenario's `plugins:` list (a move that adds a plugin keeps the others). */
  plugins?: readonly string[];
}

const CCE_PLUGIN = 'axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin';
const isZero = (cfg: ResolvedConfig) => cfg.strategy.startsWith('zero');

/** One step of a checklist: the edits it makes from a given configuration, or undefined when it does not apply. */
export interface Move {
  id: string;
  /** May be applied again on top of itself (halving the micro-batch twice, doubling the nodes twice). */
  repeatable: boolean;
  edits(ctx: MoveContext): ScenarioChange | undefined;
}

const isFsdp = (cfg: ResolvedConfig) => cfg.strategy === 'fsdp2' || cfg.strategy === 'fsdp1';
/** Largest node count the advisor proposes (the biggest clusters in the calibration data are 64 nodes). */
const MAX_NODES = 64;

/**
 * The OOM checklist of the seed card, in its order: shard the model (FSDP2), reshard after forward, shard
 * over more GPUs, smaller micro-batches with more accumulation (same global batch), activation
 * checkpointing, then tensor parallelism and CPU offload (refused by this version; kept so they work once
 * supported).
 */
export const OOM_MOVES: Move[] = [
  {
    id: 'fsdp',
    repeatable: false,
    edits: ({ cfg, worldSize, gpusPerNode, numNodes, gpusKey }) => {
      if (isFsdp(cfg)) return undefined;
      if (worldSize > 1) return { fsdp_version: 2 };
      // One GPU: sharding needs the others of the node.
      const capacity = gpusPerNode * numNodes;
      return capacity > 1 && gpusKey !== undefined ? { fsdp_version: 2, 'simulation.gpus': capacity } : undefined;
    },
  },
  {
    id: 'reshard',
    repeatable: false,
    edits: ({ cfg }) => (isFsdp(cfg) && !cfg.fsdp.reshardAfterForward ? { 'fsdp_config.reshard_after_forward': true } : undefined),
  },
  {
    id: 'more-nodes',
    repeatable: true,
    edits: ({ cfg, numNodes, worldSize, gpusPerNode, gpusKey, dpShardKey }) => {
      if (!isFsdp(cfg) || numNodes * 2 > MAX_NODES) return undefined;
      if (gpusKey !== undefined && worldSize < gpusPerNode * numNodes) {
        // Fill the nodes first.
        const gpus = Math.min(worldSize * 2, gpusPerNode * numNodes);
        return { 'simulation.gpus': gpus, ...(dpShardKey !== undefined ? { dp_shard_size: (dpShardKey * gpus) / worldSize } : {}) };
      }
      const change: ScenarioChange = { 'simulation.num_nodes': numNodes * 2 };
      if (gpusKey !== undefined) change['simulation.gpus'] = worldSize * 2;
      if (dpShardKey !== undefined) change.dp_shard_size = dpShardKey * 2;
      return change;
    },
  },
  {
    id: 'smaller-micro-batch',
    repeatable: true,
    edits: ({ cfg }) => {
      const micro = cfg.batch.microBatchSize;
      if (micro < 2) return undefined;
      return { micro_batch_size: Math.floor(micro / 2), gradient_accumulation_steps: cfg.batch.gradientAccumulationSteps * 2 };
    },
  },
  {
    id: 'checkpointing',
    repeatable: false,
    edits: ({ cfg }) => (cfg.activationCheckpointing !== 'full' ? { gradient_checkpointing: true } : undefined),
  },
  {
    id: 'eight-bit-optimizer',
    repeatable: false,
    // AdamW states in 8 bits (block-wise absmax). Axolotl refuses bitsandbytes' AdamW8bit under FSDP2 and TP
    // (utils/schemas/validation.py), so sharded runs get torchao's.
    edits: ({ cfg }) => {
      const o = cfg.optimizer.spec;
      if (o.family !== 'adamw' || (o.storage !== 'param' && o.storage !== 'fp32') || isZero(cfg)) return undefined;
      return { optimizer: isFsdp(cfg) || cfg.mesh.tp > 1 ? 'adamw_torch_8bit' : 'adamw_bnb_8bit' };
    },
  },
  {
    id: 'cut-cross-entropy',
    repeatable: false,
    // Cut Cross-Entropy never materialises the logits (needs 16-bit compute).
    edits: ({ cfg, plugins }) =>
      cfg.kernels.loss === 'cce' || cfg.precision.computeDtype === 'fp32' ? undefined : { plugins: [...(plugins ?? []).filter((p) => p !== CCE_PLUGIN), CCE_PLUGIN], cut_cross_entropy: true },
  },
  {
    id: 'activation-offloading',
    repeatable: false,
    // Checkpointed layer inputs to pinned host memory on a side stream (Axolotl requires checkpointing).
    edits: ({ cfg }) => (cfg.activationCheckpointing !== 'none' && !cfg.activationOffloading && !isZero(cfg) ? { activation_offloading: true } : undefined),
  },
  {
    id: 'qlora',
    repeatable: false,
    // A LoRA run's frozen base in 4-bit NF4 (bitsandbytes, double quantisation) instead of 16 or 8 bits.
    edits: ({ cfg }) => (cfg.peft && cfg.peft.kind === 'lora' ? { adapter: 'qlora', load_in_4bit: true, load_in_8bit: null } : undefined),
  },
  {
    id: 'tensor-parallel',
    repeatable: true,
    // Double TP while it stays inside a node (TP's AllReduces are on the critical path: NVLink only).
    edits: ({ cfg, gpusPerNode, dpShardKey }) => {
      if (cfg.mesh.tp * 2 > gpusPerNode) return undefined;
      // An explicit dp_shard_size gives up the GPUs TP takes, so the mesh still multiplies to the world.
      if (dpShardKey !== undefined) return dpShardKey % 2 === 0 ? { tensor_parallel_size: cfg.mesh.tp * 2, dp_shard_size: dpShardKey / 2 } : undefined;
      return { tensor_parallel_size: cfg.mesh.tp * 2 };
    },
  },
  {
    id: 'no-accumulation',
    repeatable: false,
    // Under HF Trainer, FSDP keeps unsharded gradients across accumulation micro-batches (no_sync, see
    // strategy/fsdp2.ts); without accumulation each backward reduce-scatters them at once. The global
    // batch shrinks (every advice entry shows it); more nodes restore it.
    edits: ({ cfg }) => (isFsdp(cfg) && cfg.batch.gradientAccumulationSteps > 1 ? { gradient_accumulation_steps: 1 } : undefined),
  },
  {
    id: 'offload-params',
    repeatable: false,
    edits: ({ cfg }) => (cfg.fsdp.offloadParams ? undefined : isFsdp(cfg) ? { 'fsdp_config.offload_params': true } : { fsdp_version: 2, 'fsdp_config.offload_params': true }),
  },
];

/**
 * When a configuration fits with room to spare, the same levers the other way: larger micro-batches with
 * less accumulation, no recomputation, no re-gather in backward, and plain DDP when the model fits replicated.
 */
export const HEADROOM_MOVES: Move[] = [
  {
    id: 'larger-micro-batch',
    repeatable: true,
    edits: ({ cfg }) => {
      const ga = cfg.batch.gradientAccumulationSteps;
      const change: ScenarioChange = { micro_batch_size: cfg.batch.microBatchSize * 2 };
      if (ga >= 2) change.gradient_accumulation_steps = Math.max(1, Math.floor(ga / 2));
      return change;
    },
  },
  {
    id: 'no-checkpointing',
    repeatable: false,
    edits: ({ cfg }) => (cfg.activationCheckpointing !== 'none' ? { gradient_checkpointing: false } : undefined),
  },
  {
    id: 'no-reshard',
    repeatable: false,
    edits: ({ cfg }) => (isFsdp(cfg) && cfg.fsdp.reshardAfterForward ? { 'fsdp_config.reshard_after_forward': false } : undefined),
  },
  {
    id: 'ddp',
    repeatable: false,
    edits: ({ cfg, worldSize }) => (isFsdp(cfg) && worldSize > 1 && cfg.mesh.tp === 1 && cfg.mesh.cp === 1 ? { fsdp_version: null, fsdp_config: null, fsdp: null } : undefined),
  },
];

/** Applies dotted-key edits to a scenario object (a deep copy); a null value removes the key. */
export function applyChange<T extends object>(input: T, change: ScenarioChange): T {
  const out = structuredClone(input) as Record<string, unknown>;
  for (const [key, value] of Object.entries(change)) {
    const path = key.split('.');
    let node = out;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        if (value === null) {
          node = {};
          break;
        }
        node[part] = {};
      }
      node = node[part] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (value === null) delete node[last];
    else node[last] = value;
  }
  return out as T;
}
