import { describe, expect, it } from 'vitest';
import { loadScenarioObject, resolveConfig } from '../../src/config/index.ts';
import { loadModel } from '../../src/model/index.ts';
import { stepMemory } from '../../src/memory/step-memory.ts';
import { run } from '../helpers/run.ts';

// Axolotl monkeypatch/tiled_mlp: the MLP runs over ~32K-token shards, saving only its input in forward and
// re-running each shard's forward with autograd in backward.
const base = { base_model: 'meta-llama/Llama-3.1-8B', sequence_len: 65536, micro_batch_size: 1, bf16: true, flash_attention: true, simulation: { gpus: 1 } };
const cfgOf = async (s: Record<string, unknown>) => resolveConfig(loadScenarioObject(s, { name: 't' }), { hardware: 'dgx-h100', gpusPerNode: 8 });

describe('tiled MLP', () => {
  it('shards by ~32K tokens of the sequence the MLP sees, or tiled_mlp_num_shards', async () => {
    expect((await cfgOf({ ...base, tiled_mlp: true })).tiledMlp).toEqual({ shards: 2 });
    expect((await cfgOf({ ...base, tiled_mlp: true, tiled_mlp_num_shards: 8 })).tiledMlp).toEqual({ shards: 8 });
    expect((await cfgOf({ ...base, tiled_mlp: true, context_parallel_size: 2, simulation: { gpus: 2 } })).tiledMlp).toEqual({ shards: 1 });
  });

  it("saves only the MLP's input instead of gate, up, act and down's input; backward works on one shard at a time", async () => {
    const model = loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });
    const plain = stepMemory(await cfgOf(base), model).layers[0]!;
    const tiled = stepMemory(await cfgOf({ ...base, tiled_mlp: true }), model).layers[0]!;
    const T = 65536;
    // SwiGLU saves its input (h), gate, up, act and down's input (4 × I) in bf16; tiled keeps the input only.
    expect(plain.savedBytes - tiled.savedBytes).toBe(T * 4 * 14336 * 2);
    // At the MLP's backward the shard re-creates its part of the set: less than the whole set at once.
    expect(tiled.savedBytes + tiled.backwardWorkingBytes).toBeLessThan(plain.savedBytes + plain.backwardWorkingBytes);
  });

  it('pays the MLP forward once more in backward, and lowers the peak of a long-sequence step', async () => {
    const plain = (await run(base)).result;
    const tiled = (await run({ ...base, tiled_mlp: true })).result;
    expect(tiled.step_time_s).toBeGreaterThan(plain.step_time_s);
    expect(tiled.memory.peak_bytes).toBeLessThan(plain.memory.peak_bytes);
    expect(tiled.warnings.map((w) => w.message).join('\n')).not.toMatch(/tiled/);
  });
});
