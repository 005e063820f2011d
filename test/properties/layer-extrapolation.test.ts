import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadScenarioObject } from '../../src/config/index.ts';
import { ShardsimError } from '../../src/util/errors.ts';
import { prepareRun, runPrepared } from '../../src/pipeline/simulate.ts';
import { cuttable, evaluateVariant } from '../../src/pipeline/layer-extrapolation.ts';

/**
 * The advisor's layer extrapolation against whole-model runs over random valid configurations of deep
 * models: memory identical, `fits` identical, step time within 0.3% (src/pipeline/layer-extrapolation.ts:
 * float rounding unless the first layers settle later than the cut models reach; the worst seen is 0.18%).
 */
const SEED = Number(process.env.EXTRAPOLATION_SEED ?? 7);
const RUNS = Number(process.env.EXTRAPOLATION_RUNS ?? 80);

const config = fc.record({
  base_model: fc.constantFrom('meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B', 'mistralai/Mistral-7B-v0.1', 'meta-llama/Llama-3.1-70B'),
  sequence_len: fc.constantFrom(1024, 2048, 4096, 8192),
  micro_batch_size: fc.constantFrom(1, 2, 4),
  gradient_accumulation_steps: fc.constantFrom(1, 2, 4, 8),
  gradient_checkpointing: fc.constantFrom(true, false, 'selective'),
  // FSDP weighted up: it is what the extrapolation cuts (the others check that refusing to cut is right).
  strategy: fc.constantFrom('ddp', 'fsdp1', 'fsdp2', 'fsdp2', 'fsdp2-lora', 'fsdp2-qlora', 'fsdp2-qlora', 'zero1', 'zero3'),
  tensor_parallel_size: fc.constantFrom(1, 1, 2),
  context_parallel_size: fc.constantFrom(1, 1, 2),
  reshard_after_forward: fc.boolean(),
  offload_params: fc.constantFrom(false, false, true),
  activation_offloading: fc.constantFrom(false, false, true),
  num_nodes: fc.constantFrom(1, 2),
  straggler: fc.constantFrom(false, false, true),
  optimizer: fc.constantFrom('adamw_torch_fused', 'adamw_bnb_8bit'),
  sample_packing: fc.boolean(),
  hardware: fc.constantFrom('dgx-h100', 'dgx-h100', 'dgx-a100-80gb'),
});

function scenarioOf(c: typeof config extends fc.Arbitrary<infer T> ? T : never): Record<string, unknown> {
  const s: Record<string, unknown> = {
    base_model: c.base_model,
    sequence_len: c.sequence_len,
    micro_batch_size: c.micro_batch_size,
    gradient_accumulation_steps: c.gradient_accumulation_steps,
    bf16: true,
    flash_attention: true,
    gradient_checkpointing: c.gradient_checkpointing,
    tensor_parallel_size: c.tensor_parallel_size,
    context_parallel_size: c.context_parallel_size,
    activation_offloading: c.activation_offloading,
    optimizer: c.optimizer,
    sample_packing: c.sample_packing,
    simulation: { hardware: c.hardware, num_nodes: c.num_nodes, steps: 1, jitter: 0, ...(c.straggler ? { stragglers: [{ rank: 3, compute_slowdown: 1.3 }] } : {}) },
  };
  if (c.strategy.startsWith('fsdp')) {
    s.fsdp_version = c.strategy === 'fsdp1' ? 1 : 2;
    s.fsdp_config = { reshard_after_forward: c.reshard_after_forward, offload_params: c.offload_params };
  }
  if (c.strategy.endsWith('lora')) {
    s.adapter = c.strategy.endsWith('qlora') ? 'qlora' : 'lora';
    if (s.adapter === 'qlora') s.load_in_4bit = true;
    s.lora_r = 16;
    s.lora_alpha = 32;
    s.lora_target_linear = true;
  }
  if (c.strategy.startsWith('zero')) s.deepspeed = { zero_optimization: { stage: Number(c.strategy.slice(4)) }, bf16: { enabled: true } };
  return s;
}

describe('layer extrapolation: random deep-model configurations', () => {
  it(`equals the whole model's memory and fits, and its step time within 0.3% (seed ${SEED}, ${RUNS} runs)`, { timeout: 240_000 }, async () => {
    const counts = { extrapolated: 0, offLine: 0, notCut: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(config, async (c) => {
        const loaded = loadScenarioObject(scenarioOf(c), { name: 'extrapolation' });
        let prepared;
        try {
          prepared = await prepareRun(loaded);
        } catch (e) {
          if (e instanceof ShardsimError) {
            counts.refused++;
            return;
          }
          throw e;
        }
        let whole;
        try {
          whole = (await runPrepared(prepared, { steadyState: true })).result;
        } catch (e) {
          if (e instanceof ShardsimError) {
            counts.refused++;
            return;
          }
          throw e;
        }
        const outcome = await evaluateVariant(loaded, prepared.base);
        counts[outcome.method === 'layers' ? 'extrapolated' : cuttable(prepared.cfg, prepared.trained) ? 'offLine' : 'notCut']++;
        expect(Math.abs(outcome.peakBytes / whole.memory.peak_bytes - 1)).toBeLessThan(1e-9);
        expect(Math.abs(outcome.requiredBytes / whole.memory.required_bytes - 1)).toBeLessThan(1e-9);
        expect(outcome.fits).toBe(whole.memory.fits);
        expect(Math.abs(outcome.stepSeconds / whole.step_time_s - 1)).toBeLessThan(3e-3);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    if (process.env.EXTRAPOLATION_DEBUG) console.log(counts);
    // Some are cut and extrapolated (FSDP without offloading or a straggler): the property is not vacuous.
    expect(counts.extrapolated).toBeGreaterThan(RUNS / 20);
  });
});
