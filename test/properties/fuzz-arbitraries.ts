import fc from 'fast-check';

/**
 * Scenario keys and CLI flags as a demanding user (or a typo) writes them: valid values, boundaries, huge
 * and tiny numbers, wrong types. Each key appears or not, so most scenarios mix several oddities.
 */
const oddNumber = fc.constantFrom(0, -1, 1.5, 1e30, -1e30, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e-9, '4', 'many', null, true);
const count = (valid: number[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: oddNumber });
const bool = fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('yes', 'auto', 'maybe', 1, null) });

const MODELS = ['meta-llama/Llama-3.2-1B', 'meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B', 'mistralai/Mistral-7B-v0.1', 'gpt2', 'EleutherAI/pythia-1b', 'mosaicml/mpt-7b', 'meta-llama/Llama-3.1-70B', 'no-such/model'];
export const HARDWARE = ['dgx-h100', 'dgx-a100-80gb', 'dgx-b200', '8x-l40s-pcie', '8x-rtx4090-pcie', 'hgx-h200', 'no-such-gpu'];

const modelConfig = fc.record(
  {
    num_hidden_layers: count([1, 2, 4, 8, 100, 3000]),
    hidden_size: count([64, 256, 2048, 4096, 100_000]),
    num_attention_heads: count([1, 8, 32, 64]),
    vocab_size: count([1, 1000, 32_000, 10_000_000]),
  },
  { requiredKeys: [] },
);

const deepspeed = fc.record(
  {
    zero_optimization: fc.record(
      {
        stage: fc.constantFrom(0, 1, 2, 3, 4, 'auto'),
        reduce_bucket_size: fc.constantFrom(1, 1e3, 5e8, 'auto', -1, 1e30),
        stage3_prefetch_bucket_size: fc.constantFrom(1, 5e7, 'auto', 1e30),
        overlap_comm: bool,
        offload_optimizer: fc.constantFrom({ device: 'cpu', pin_memory: true }, { device: 'none' }, { device: 'nvme' }, 'cpu'),
        offload_param: fc.constantFrom({ device: 'cpu' }, { device: 'none' }),
      },
      { requiredKeys: ['stage'] },
    ),
    bf16: fc.record({ enabled: fc.constantFrom(true, false, 'auto', 'yes') }),
    fp16: fc.record({ enabled: fc.constantFrom(true, false, 'auto') }),
    gradient_accumulation_steps: fc.constantFrom('auto', 1, 2, 0),
  },
  { requiredKeys: ['zero_optimization'] },
);

const straggler = fc.record(
  { rank: count([0, 1, 3, 7, 15, 100]), compute_slowdown: fc.constantFrom(1, 1.5, 10, 1e6, 0.5, 1e300), link_slowdown: fc.constantFrom(1, 2, 1e6, 0) },
  { requiredKeys: ['rank'] },
);

/** Valid values only: most of these scenarios simulate. */
const valid = {
  base_model: fc.constantFrom('meta-llama/Llama-3.2-1B', 'meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B', 'EleutherAI/pythia-1b', 'mosaicml/mpt-7b', 'gpt2'),
  sequence_len: fc.constantFrom(128, 512, 1024, 2048, 4096),
  micro_batch_size: fc.constantFrom(1, 2, 4, 8),
  gradient_accumulation_steps: fc.constantFrom(1, 2, 3, 4, 8),
  bf16: fc.constantFrom(true, false, 'auto'),
  flash_attention: fc.boolean(),
  torch_compile: fc.boolean(),
  gradient_checkpointing: fc.constantFrom(true, false, 'selective'),
  optimizer: fc.constantFrom('adamw_torch_fused', 'adamw_torch'),
  tensor_parallel_size: fc.constantFrom(1, 1, 2),
  ddp_bucket_cap_mb: fc.constantFrom(25, 1, 100),
};
const validSimulation = fc.record(
  {
    hardware: fc.constantFrom('dgx-h100', 'dgx-a100-80gb', 'dgx-b200', '8x-l40s-pcie', 'hgx-h200'),
    num_nodes: fc.constantFrom(1, 2, 4),
    seed: fc.integer({ min: 0, max: 99 }),
    steps: fc.constantFrom(1, 3),
    jitter: fc.constantFrom(0, 0, 0.02),
    stragglers: fc.constantFrom([], [], [{ rank: 1, compute_slowdown: 1.5 }], [{ rank: 2, link_slowdown: 4 }]),
    inter_node_bandwidth: fc.constantFrom('400 Gb/s', '100 Gb/s', '1 Gb/s'),
  },
  { requiredKeys: [] },
);
const strategy = fc.oneof(
  fc.constant({}),
  fc.record({ fsdp_version: fc.constantFrom(1, 2), fsdp_config: fc.record({ reshard_after_forward: fc.boolean(), offload_params: fc.constantFrom(false, false, true) }) }),
  fc.record({ deepspeed: fc.record({ zero_optimization: fc.record({ stage: fc.constantFrom(1, 2, 3) }) }) }),
);
const validScenario = fc
  .tuple(fc.record(valid, { requiredKeys: ['base_model', 'sequence_len', 'micro_batch_size'] }), strategy, validSimulation)
  .map(([keys, strat, simulation]) => ({ ...keys, ...strat, simulation }));

/** Every key a mutation can set, with the odd values it can take (the full domains above). */
const mutable: Record<string, fc.Arbitrary<unknown>> = {
  base_model: fc.constantFrom(...MODELS),
  model_config: modelConfig,
  sequence_len: count([1, 32_768, 1_048_576]),
  micro_batch_size: count([4096, 100_000]),
  gradient_accumulation_steps: count([1000, 1_000_000_000]),
  bf16: bool,
  gradient_checkpointing: fc.constantFrom('full', 'offload', 'yes', null),
  optimizer: fc.constantFrom('lion', ''),
  fsdp_version: fc.constantFrom(1, 2, 3, '2'),
  fsdp_config: fc.record({ sharding_strategy: fc.constantFrom('HYBRID_SHARD', 'NO_SHARD', 'BOGUS'), backward_prefetch: fc.constantFrom('BACKWARD_POST', 'SIDEWAYS') }, { requiredKeys: [] }),
  deepspeed,
  dp_shard_size: count([1, 2, 3, 8]),
  dp_replicate_size: count([2, 3]),
  tensor_parallel_size: count([3, 4, 8, 16]),
  context_parallel_size: count([2, 4]),
  ddp_bucket_cap_mb: fc.constantFrom(1e-6, 1e9, 0, -5),
  'simulation.hardware': fc.constantFrom(...HARDWARE),
  'simulation.num_nodes': count([16, 1000, 1_000_000]),
  'simulation.gpus': count([1, 2, 4, 12, 16]),
  // (Jittered steps are each simulated, up to ~a minute of work: 20 keeps a case within seconds.)
  'simulation.steps': count([20, 1_000_000_000]),
  'simulation.jitter': fc.constantFrom(0.5, 0.6, -0.1, '0.02'),
  'simulation.stragglers': fc.array(straggler, { maxLength: 3 }),
  'simulation.inter_node_bandwidth': fc.constantFrom('1 b/s', 400, 1e-3, 0, 'fast', '1e30 B/s', ''),
  'simulation.master_weights': fc.constantFrom('fp32', 'bf16', 'fp8'),
  'simulation.sequence_parallel': bool,
  'simulation.fsdp_gradient_sync': fc.constantFrom('every_micro_batch', 'sometimes'),
};
const mutation = fc.constantFrom(...Object.keys(mutable)).chain((key) => mutable[key]!.map((value) => [key, value] as const));

/** A valid scenario with up to three keys set to odd values: about half simulate, half are refused. */
export const scenario = fc.tuple(validScenario, fc.array(mutation, { maxLength: 3 })).map(([base, edits]) => {
  const s: Record<string, unknown> = structuredClone(base);
  for (const [key, value] of edits) {
    const [head, tail] = key.split('.');
    if (tail) (s[head!] as Record<string, unknown>)[tail] = value;
    else s[head!] = value;
  }
  return s;
});

/** Flags of `simulate` as strings (what a shell passes). */
export const simulateFlags = fc.record(
  {
    '--hardware': fc.constantFrom(...HARDWARE),
    '--nodes': fc.constantFrom('1', '2', '0', '-1', '1.5', '1e9', 'two', ''),
    '--gpus': fc.constantFrom('1', '4', '8', '9', '0', ''),
    '--seed': fc.constantFrom('0', '7', 'abc', ''),
    '--steps': fc.constantFrom('1', '3', '0', '1000000000', '1e3', ''),
    '--jitter': fc.constantFrom('0', '0.02', '0.5', '0.7', '-1', '', 'x', '1e-400'),
    '--inter-node-bandwidth': fc.constantFrom('400 Gb/s', '1 Gb/s', '400', '0', 'fast', ''),
  },
  { requiredKeys: [] },
);
