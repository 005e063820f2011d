import { describe, expect, it } from 'vitest';
import { loadScenarioObject, resolveConfig } from '../../src/config/index.ts';

const base = { base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 2048, micro_batch_size: 1 };
const shape = { hardware: 'dgx-h100', gpusPerNode: 8 };
const resolve = (s: Record<string, unknown>) => resolveConfig(loadScenarioObject(s, { name: 'test' }), shape);

describe('world size: what the scenario says, else what the explicit mesh implies, else one node', () => {
  it('no mesh keys: every GPU of one node (accelerate launch defaults to the visible GPUs)', async () => {
    expect((await resolve(base)).worldSize).toBe(8);
  });

  it('an explicit dp_shard_size describes that many GPUs (Axolotl requires the product to equal the processes)', async () => {
    const c = await resolve({ ...base, fsdp_version: 2, dp_shard_size: 2, tensor_parallel_size: 2 });
    expect(c.worldSize).toBe(4);
    expect(c.mesh).toMatchObject({ dpShard: 2, tp: 2 });
    const big = await resolve({ ...base, fsdp_version: 2, dp_shard_size: 16 });
    expect([big.worldSize, big.simulation.numNodes]).toEqual([16, 2]);
  });

  it('simulation.gpus or num_nodes win over the mesh', async () => {
    await expect(resolve({ ...base, fsdp_version: 2, dp_shard_size: 2, simulation: { gpus: 8 } })).rejects.toThrow(/dp_shard_size/);
    await expect(resolve({ ...base, fsdp_version: 2, dp_shard_size: 8, simulation: { num_nodes: 2 } })).rejects.toThrow(/world has 16 GPUs/);
    expect((await resolve({ ...base, fsdp_version: 2, dp_shard_size: 8, dp_replicate_size: 2, simulation: { num_nodes: 2 } })).worldSize).toBe(16);
  });
});
