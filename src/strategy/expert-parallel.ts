/**
 * Expert parallelism as Axolotl runs it (axolotl `integrations/expert_parallel/`, commit 067b021c): the
 * routed experts of every MoE layer are split `ep` ways on dim 0 (`shard.py` `shard_expert_weights`), and
 * each MoE block becomes DeepEP's dispatch → local experts → combine (`experts_fn.py` `_deep_ep_forward`):
 *
 *   dispatch  `Buffer.dispatch` sends each token's bf16 hidden state once to every rank owning one of its
 *             top-k experts (`get_dispatch_layout`: `num_tokens_per_rank`, `is_token_in_rank`);
 *   experts   the local kernel (grouped_mm by default, or ScatterMoE / SonicMoE / eager) on the rows received
 *             for this rank's numExperts / ep experts;
 *   combine   `Buffer.combine` sends the weighted expert outputs back and sums them per token.
 *
 * Backward mirrors it (`_DeepEPCombine.backward` is a dispatch, `_DeepEPDispatch.backward` a combine), and a
 * checkpointed layer's recompute runs both again. DeepEP's kernels run on its own communication stream and
 * the compute stream waits for them (the experts need the dispatched rows; the next op needs the combined
 * output). Each is costed as the NCCL all-to-all of the same payload (src/network/alltoall.ts).
 */
import seedrandom from 'seedrandom';
import type { MoeFfn } from '../model/types.ts';
import { bytesOf } from '../util/dtype.ts';

/**
 * Expected number of EP ranks one token is sent to: its k experts are k distinct of E, and a rank owns E/ep of
 * them, so a rank receives the token unless all k miss its slice: ep · (1 − C(E − E/ep, k) / C(E, k)).
 * DeepEP sends a token once per destination rank, not once per expert (`is_token_in_rank`).
 */
export function expectedDestinationRanks(numExperts: number, topK: number, ep: number): number {
  const slice = numExperts / ep;
  // C(E − m, k) / C(E, k) = Π_{i<k} (E − m − i) / (E − i)
  let miss = 1;
  for (let i = 0; i < topK; i++) miss *= Math.max(0, numExperts - slice - i) / (numExperts - i);
  return ep * (1 - miss);
}

/**
 * Bytes one rank dispatches per MoE layer (nccl-tests "size" S of the equivalent all-to-all: the rank's whole
 * send buffer, its own share included): every token's hidden state, in bf16 (`_deep_ep_forward` casts to
 * bfloat16), once per destination rank. The combine returns the same rows.
 */
export function dispatchBytes(ffn: MoeFfn, tokens: number, hidden: number, ep: number): number {
  return tokens * hidden * bytesOf('bf16') * expectedDestinationRanks(ffn.numExperts, ffn.topK, ep);
}

/**
 * Relative standard deviation of one rank's routed rows (its share of the expert work) across an EP group of
 * `ep` ranks, each routing `tokens` tokens to k distinct experts chosen uniformly — a router that is balanced
 * in expectation, which is what the auxiliary load-balancing loss (Switch / GShard) and DeepSeek's loss-free
 * bias balancing aim for. Per token the picks in one rank's slice of m = E/ep experts are hypergeometric
 * (mean k/ep, variance k·(1/ep)(1 − 1/ep)(E − k)/(E − 1)); over the group's ep·tokens tokens the load has mean
 * tokens·k. This is the statistical floor of the imbalance: trained routers concentrate more (Axolotl's
 * `expert_parallel_token_capacity` exists because GLM's router "concentrates more with depth"), which
 * `simulation.expert_load_imbalance` sets as a what-if.
 */
export function routedLoadCv(ffn: MoeFfn, tokens: number, ep: number): number {
  const E = ffn.numExperts;
  const k = ffn.topK;
  if (ep <= 1 || tokens <= 0) return 0;
  const varPerToken = k * (1 / ep) * (1 - 1 / ep) * (E > 1 ? (E - k) / (E - 1) : 0);
  const variance = ep * tokens * varPerToken;
  return Math.sqrt(variance) / (tokens * k);
}

/** Standard normal draw (Box–Muller) from a seeded uniform generator. */
function normal(rng: () => number): number {
  const u = Math.max(rng(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * The ep ranks' routed loads relative to the mean for one layer and micro-batch: 1 + cv·(z_r − z̄) with z
 * seeded normal draws, centred so the group's rows add up exactly (every token's k picks land somewhere).
 */
export function sampledLoads(cv: number, ep: number, seed: string): number[] {
  const rng = seedrandom(seed);
  const z = Array.from({ length: ep }, () => normal(rng));
  const mean = z.reduce((a, x) => a + x, 0) / ep;
  return z.map((x) => Math.max(0, 1 + cv * (x - mean)));
}

/** Draws behind the expected slowest-rank load (Monte Carlo; seeded, so deterministic). */
const SLOWEST_RANK_DRAWS = 512;

/**
 * The slowest rank's routed rows over the mean, in expectation (E[max_r load_r] / mean): what a symmetric
 * simulation (one rank standing for all) charges every rank, since the combine waits for the slowest one.
 */
export function expectedSlowestLoad(cv: number, ep: number, seed: string): number {
  if (ep <= 1 || cv === 0) return 1;
  let sum = 0;
  for (let d = 0; d < SLOWEST_RANK_DRAWS; d++) sum += Math.max(...sampledLoads(cv, ep, `${seed}:${d}`));
  return sum / SLOWEST_RANK_DRAWS;
}

/** The JSON result's `expert_parallel` block: what EP does to one MoE layer of this run (first MoE layer). */
export interface ExpertParallelSummary {
  expert_parallel_size: number;
  experts_per_rank: number;
  /** Expected ranks one token is dispatched to (DeepEP sends a token once per destination rank). */
  destination_ranks_per_token: number;
  /** nccl-tests size of one dispatch (and of one combine) per rank per MoE layer and micro-batch. */
  dispatch_bytes_per_layer: number;
  /** The slowest EP rank's routed rows over the mean that a symmetric run charges (or the what-if). */
  slowest_rank_load: number;
  /** 'sampled' from the routing statistics (seeded), or 'given' by simulation.expert_load_imbalance. */
  load_source: 'sampled' | 'given';
  /** DeepEP's NVLink buffer per rank (expert_parallel_num_nvl_bytes). */
  buffer_bytes: number;
}

export function expertParallelSummary(
  cfg: { mesh: { ep: number; cp: number }; shape: { rows: number; rowTokens: number }; simulation: { seed: string; expertLoadImbalance?: number }; expertParallelBufferBytes: number },
  layers: readonly { hiddenSize: number; ffn: { kind: string } | null }[],
): ExpertParallelSummary | undefined {
  const ep = cfg.mesh.ep;
  const layer = layers.find((l) => l.ffn?.kind === 'moe');
  if (ep <= 1 || !layer) return undefined;
  const ffn = layer.ffn as MoeFfn;
  const tokens = (cfg.shape.rows * cfg.shape.rowTokens) / cfg.mesh.cp;
  const given = cfg.simulation.expertLoadImbalance;
  return {
    expert_parallel_size: ep,
    experts_per_rank: ffn.numExperts / ep,
    destination_ranks_per_token: expectedDestinationRanks(ffn.numExperts, ffn.topK, ep),
    dispatch_bytes_per_layer: dispatchBytes(ffn, tokens, layer.hiddenSize, ep),
    slowest_rank_load: given ?? expectedSlowestLoad(routedLoadCv(ffn, tokens, ep), ep, `${cfg.simulation.seed}:moe-routing`),
    load_source: given !== undefined ? 'given' : 'sampled',
    buffer_bytes: cfg.expertParallelBufferBytes,
  };
}
