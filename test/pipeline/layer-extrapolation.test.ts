import { describe, expect, it } from 'vitest';
import { loadScenarioFile, loadScenarioObject, type LoadedScenario } from '../../src/config/index.ts';
import { applyChange } from '../../src/advisor/index.ts';
import { prepareRun, runPrepared, simulateCut } from '../../src/pipeline/simulate.ts';
import { CUT_LAYERS, cuttable, evaluateVariant, extrapolate } from '../../src/pipeline/layer-extrapolation.ts';
import { stepCosts } from '../../src/strategy/costs.ts';

const SCENARIO_70B = 'scenarios/llama-3.1-70b-tp2-fsdp4-ddp2-16xh100.yaml';

/** The scenario with edits, as the advisor simulates it: one nominal step. */
function variant(file: string, change: Record<string, unknown>): LoadedScenario {
  const loaded = loadScenarioFile(file);
  return { ...loaded, input: applyChange(loaded.input, { ...change, 'simulation.steps': 1, 'simulation.jitter': 0 }) };
}

const relative = (a: number, b: number) => Math.abs(a / b - 1);

async function whole(loaded: LoadedScenario) {
  return (await runPrepared(await prepareRun(loaded), { steadyState: true })).result;
}

describe('layer extrapolation (the advisor\'s variants)', () => {
  const cases: [string, string, Record<string, unknown>][] = [
    ['70B TP2 × FSDP4 × DDP2 as it is', SCENARIO_70B, {}],
    // Without accumulation the peak moves from the backward's activations to the optimizer step's gradients
    // as layers are added: the cut models' peaks alone would miss that crossover (checked below).
    ['70B without gradient accumulation', SCENARIO_70B, { gradient_accumulation_steps: 1 }],
    ['70B with TP4', SCENARIO_70B, { dp_shard_size: 2, tensor_parallel_size: 4 }],
    ['70B with FSDP CPU offload', SCENARIO_70B, { 'fsdp_config.offload_params': true }],
    ['70B with activation offloading', SCENARIO_70B, { activation_offloading: true }],
    ['8B FSDP2 on 16 GPUs', 'scenarios/llama-3.1-8b-fsdp2-16xh100.yaml', {}],
    ['13B FSDP2', 'scenarios/llama-2-13b-fsdp2-8xh100.yaml', { micro_batch_size: 2 }],
  ];
  for (const [name, file, change] of cases) {
    it(`${name}: the whole model's step time and memory, from three cut models`, async () => {
      const loaded = variant(file, change);
      const outcome = await evaluateVariant(loaded, (await prepareRun(loaded)).base);
      const r = await whole(loaded);
      expect(outcome.method).toBe('layers');
      expect(relative(outcome.stepSeconds, r.step_time_s)).toBeLessThan(1e-12);
      expect(relative(outcome.peakBytes, r.memory.peak_bytes)).toBeLessThan(1e-12);
      expect(relative(outcome.requiredBytes, r.memory.required_bytes)).toBeLessThan(1e-12);
      expect(outcome.fits).toBe(r.memory.fits);
      expect(relative(outcome.tokensPerSecondPerGpu, r.throughput.tokens_per_s_per_gpu)).toBeLessThan(1e-12);
      expect(outcome.globalBatchSize).toBe(r.batch.global_batch_size);
    });
  }

  it('extrapolates each task\'s level before taking the highest: the cut models\' own peaks, on a line, are wrong here', async () => {
    const prepared = await prepareRun(variant(SCENARIO_70B, { gradient_accumulation_steps: 1 }));
    const runs = CUT_LAYERS.map((n) => simulateCut(prepared, n));
    const peaks = runs.map((r) => Math.max(...[...r.timeline.memory.values()].map((m) => m.peakBytes)));
    const L = prepared.trained.numLayers;
    const naive = peaks[2]! + ((peaks[2]! - peaks[1]!) / (CUT_LAYERS[2] - CUT_LAYERS[1])) * (L - CUT_LAYERS[2]);
    const truth = (await runPrepared(prepared, { steadyState: true })).result.memory.peak_bytes;
    expect(relative(naive, truth)).toBeGreaterThan(0.05);
    expect(relative(extrapolate(prepared, runs)!.peakBytes, truth)).toBeLessThan(1e-12);
  });

  it('refuses runs off a line (step time or any task\'s level), so the variant is simulated whole', async () => {
    const prepared = await prepareRun(variant(SCENARIO_70B, {}));
    const runs = CUT_LAYERS.map((n) => simulateCut(prepared, n));
    expect(extrapolate(prepared, runs)).toBeDefined();
    const slower = runs.map((r, i) => (i === 0 ? { ...r, stepSeconds: r.stepSeconds * (1 + 1e-6) } : r));
    expect(extrapolate(prepared, slower)).toBeUndefined();
    const levels = runs[0]!.timeline.levels!;
    const task = levels.total.findIndex((v) => v > 0);
    const bumped = { ...levels, total: levels.total.slice() };
    bumped.total[task] = bumped.total[task]! + 1e6;
    const offLine = runs.map((r, i) => (i === 0 ? { ...r, timeline: Object.assign(Object.create(Object.getPrototypeOf(r.timeline)), r.timeline, { levels: bumped }) } : r));
    expect(extrapolate(prepared, offLine)).toBeUndefined();
  });

  it('refuses cut models whose queues fill along the layers: a deeper model holds or waits more', async () => {
    // FSDP1 CPU offload: reduce-scattered gradients wait for their copy to the host, one more layer's worth
    // every ~16 layers; the cut models' line is 1.2% short of the memory the whole model requires.
    const offload = await prepareRun(variant(SCENARIO_70B, { fsdp_version: 1, dp_shard_size: null, tensor_parallel_size: null, dp_replicate_size: null, 'simulation.num_nodes': 1, sequence_len: 1024, micro_batch_size: 1, gradient_accumulation_steps: 1, gradient_checkpointing: false, 'fsdp_config.reshard_after_forward': false, 'fsdp_config.offload_params': true }));
    expect(cuttable(offload.cfg, offload.trained)).toBe(true);
    expect(extrapolate(offload, CUT_LAYERS.map((n) => simulateCut(offload, n)))).toBeUndefined();
    const outcome = await evaluateVariant(offload.loaded, offload.base);
    expect(outcome.method).toBe('full');
    expect(outcome.requiredBytes).toBe((await whole(offload.loaded)).memory.required_bytes);
  });

  it('does not cut DDP, ZeRO or a straggler: those variants are simulated whole, with the same numbers', async () => {
    for (const [file, change] of [
      [SCENARIO_70B, { 'simulation.stragglers': [{ rank: 3, compute_slowdown: 1.3 }] }],
      ['scenarios/llama-3.1-8b-ddp-8xh100.yaml', {}],
    ] as const) {
      const loaded = variant(file, change);
      const prepared = await prepareRun(loaded);
      expect(cuttable(prepared.cfg, prepared.trained)).toBe(false);
      const outcome = await evaluateVariant(loaded, prepared.base);
      expect(outcome.method).toBe('full');
      const r = await whole(loaded);
      expect(outcome.stepSeconds).toBe(r.step_time_s);
      expect(outcome.peakBytes).toBe(r.memory.peak_bytes);
    }
  });

  it('cuts only models of identical layers, deep enough, without gradient buckets that span layers', async () => {
    const lora = await prepareRun(variant('scenarios/llama-3.1-8b-lora-ddp-8xh100.yaml', {}));
    expect(lora.cfg.strategy).toBe('ddp');
    expect(cuttable(lora.cfg, lora.trained)).toBe(false);
    const fsdp = await prepareRun(variant('scenarios/llama-3.1-8b-fsdp2-16xh100.yaml', {}));
    expect(cuttable(fsdp.cfg, fsdp.trained)).toBe(true);
    const mixed = { ...fsdp.trained, layers: fsdp.trained.layers.map((l, i) => (i === 3 ? { ...l, signature: `${l.signature}+` } : l)) };
    expect(cuttable(fsdp.cfg, mixed)).toBe(false);
    const small = await prepareRun(loadScenarioObject({ base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 2048, micro_batch_size: 1, bf16: true, flash_attention: true, fsdp_version: 2 }, { name: 'small' }));
    expect(small.trained.numLayers).toBe(16);
    expect(cuttable(small.cfg, small.trained)).toBe(false);
    // Not cut: simulated whole, with the same numbers as a whole run.
    const outcome = await evaluateVariant(lora.loaded, lora.base);
    expect(outcome.method).toBe('full');
    expect(outcome.stepSeconds).toBe((await whole(lora.loaded)).step_time_s);
  });

  it("a variant's cut models share its layers' costs, and another config gets its own", async () => {
    const prepared = await prepareRun(variant(SCENARIO_70B, {}));
    const gpu = { ...prepared.cluster.profile.gpu, kernels: prepared.cluster.profile.kernels, framework: prepared.cluster.profile.framework };
    const cut = (layers: number) => ({ ...prepared.trained, layers: prepared.trained.layers.slice(0, layers), numLayers: layers });
    const five = stepCosts(prepared.cfg, cut(5), gpu);
    const seven = stepCosts(prepared.cfg, cut(7), gpu);
    const wholeModel = stepCosts(prepared.cfg, prepared.trained, gpu);
    expect(seven.layers[4]).toBe(five.layers[4]);
    expect(wholeModel.layers[79]).toBe(five.layers[0]);
    // Kept by config: a longer sequence is costed anew, and slower.
    const longer = await prepareRun(variant(SCENARIO_70B, { sequence_len: 8192 }));
    const other = stepCosts(longer.cfg, cut(5), gpu);
    expect(other.layers[0]).not.toBe(five.layers[0]);
    expect(other.layers[0]!.forwardSeconds).toBeGreaterThan(five.layers[0]!.forwardSeconds);
  });
});
