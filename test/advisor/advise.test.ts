import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadScenarioObject, type LoadedScenario } from '../../src/config/index.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';
import { advise, applyChange, OOM_MOVES } from '../../src/advisor/index.ts';
import { evaluateVariant } from '../../src/pipeline/layer-extrapolation.ts';

const oom = {
  base_model: 'meta-llama/Llama-3.1-8B',
  sequence_len: 8192,
  micro_batch_size: 8,
  gradient_accumulation_steps: 1,
  bf16: true,
  flash_attention: true,
  gradient_checkpointing: false,
  simulation: { hardware: 'dgx-h100' },
};

const load = (s: Record<string, unknown>): LoadedScenario => loadScenarioObject(s, { name: 'advisor' });

describe('OOM advisor', () => {
  it('Llama-3.1-8B DDP, micro 8 × 8192, no checkpointing on a DGX H100 does not fit, and the advice has fitting changes', async () => {
    const run = await simulateLoaded(load(oom), { advice: true });
    const r = run.result;
    expect(r.strategy).toBe('ddp');
    expect(r.memory.fits).toBe(false);
    expect(r.advice_debug?.mode).toBe('out_of_memory');
    const advice = r.advice!;
    const fitting = advice.filter((a) => a.fits);
    expect(fitting.length).toBeGreaterThan(0);
    for (const a of fitting) expect(a.required_bytes).toBeLessThanOrEqual(r.memory.capacity_bytes);
    // Fitting first, fastest first among them; the rest by the memory they need.
    const firstMiss = advice.findIndex((a) => !a.fits);
    if (firstMiss >= 0) expect(advice.slice(firstMiss).every((a) => !a.fits)).toBe(true);
    for (let i = 1; i < fitting.length; i++) expect(fitting[i]!.tokens_per_s_per_gpu).toBeLessThanOrEqual(fitting[i - 1]!.tokens_per_s_per_gpu);
    // Every fitting change shards the model over GPUs (FSDP or TP): replicated 8B with AdamW does not fit here.
    for (const a of fitting) expect(a.change.fsdp_version === 2 || (a.change.tensor_parallel_size as number) > 1).toBe(true);
    // The logits of 8 × 8192 tokens dominate: the fitting changes drop them with Cut Cross-Entropy.
    expect(fitting.some((a) => a.change.cut_cross_entropy === true)).toBe(true);
  });

  it('the advised change, applied to the scenario and simulated on its own, gives the reported peak and step time', async () => {
    const run = await simulateLoaded(load(oom), { advice: true });
    const best = run.result.advice!.find((a) => a.fits)!;
    const again = await simulateLoaded(load(applyChange(oom, best.change)));
    // The advisor extrapolated it from cut models (src/pipeline/layer-extrapolation.ts): equal to float rounding.
    expect(Math.abs(again.result.memory.peak_bytes / best.peak_bytes - 1)).toBeLessThan(1e-12);
    expect(again.result.step_time_s).toBeCloseTo(best.step_time_s, 9);
    expect(again.result.memory.fits).toBe(true);
  });

  it('tensor parallelism is among the changes it simulates', async () => {
    const r = (await simulateLoaded(load(oom), { advice: true })).result;
    expect(r.advice!.some((a) => 'tensor_parallel_size' in a.change)).toBe(true);
    const tp = r.advice!.find((a) => Object.keys(a.change).join() === 'tensor_parallel_size')!;
    // TP halves the per-GPU share of the model: the peak must come down.
    expect(tp.peak_bytes).toBeLessThan(r.memory.peak_bytes);
  });

  it('advice runs stay within the budget and run one nominal step', async () => {
    const loaded = load({ ...oom, simulation: { hardware: 'dgx-h100', steps: 5, jitter: 0.02, seed: 3 } });
    const base = await simulateLoaded(loaded);
    let evaluations = 0;
    const out = await advise(base, loaded, {
      budget: 7,
      evaluate: async (variant) => {
        expect(variant.input.simulation?.steps).toBe(1);
        expect(variant.input.simulation?.jitter).toBe(0);
        evaluations++;
        return evaluateVariant(variant, base.model);
      },
    });
    expect(out.debug.evaluated).toBeLessThanOrEqual(7);
    expect(evaluations).toBe(out.debug.evaluated);
  });

  it('a scenario that fits with room to spare gets only faster configurations that still fit', async () => {
    const roomy = { base_model: 'meta-llama/Llama-3.2-1B', sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 8, bf16: true, flash_attention: true, gradient_checkpointing: true, fsdp_version: 2 };
    const r = (await simulateLoaded(load(roomy), { advice: true })).result;
    expect(r.memory.fits).toBe(true);
    expect(r.advice_debug?.mode).toBe('headroom');
    expect(r.advice!.length).toBeGreaterThan(0);
    for (const a of r.advice!) {
      expect(a.fits).toBe(true);
      expect(a.tokens_per_s_per_gpu).toBeGreaterThan(r.throughput.tokens_per_s_per_gpu);
    }
  });

  it('a scenario that fits without much room gets no advice', async () => {
    const snug = { ...oom, micro_batch_size: 2, gradient_accumulation_steps: 4, gradient_checkpointing: true, fsdp_version: 2 };
    const r = (await simulateLoaded(load(snug), { advice: true })).result;
    expect(r.memory.fits).toBe(true);
    expect(r.memory.required_bytes).toBeGreaterThan(0.6 * r.memory.capacity_bytes);
    expect(r.advice).toEqual([]);
    expect(r.advice_debug?.mode).toBe('fits');
  });
});

describe('applyChange', () => {
  it('sets dotted keys, creates parents, and removes keys set to null', () => {
    const s = { fsdp_version: 2, fsdp_config: { reshard_after_forward: false }, micro_batch_size: 4 };
    expect(applyChange(s, { 'fsdp_config.reshard_after_forward': true, 'simulation.num_nodes': 2 })).toEqual({
      fsdp_version: 2, fsdp_config: { reshard_after_forward: true }, micro_batch_size: 4, simulation: { num_nodes: 2 },
    });
    expect(applyChange(s, { fsdp_version: null, fsdp_config: null, 'simulation.gpus': null })).toEqual({ micro_batch_size: 4 });
    expect(s.fsdp_config.reshard_after_forward).toBe(false);
  });
});

describe('simulate --json', () => {
  const exec = promisify(execFile);
  const BIN = join(import.meta.dirname, '../../bin/shardsim.js');
  it('includes advice by default and omits it with --no-advice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-advice-'));
    const file = join(dir, 'oom.yaml');
    writeFileSync(file, JSON.stringify(oom));
    const withAdvice = JSON.parse((await exec('node', [BIN, 'simulate', file, '--json', '--no-report'], { timeout: 120_000 })).stdout);
    expect(withAdvice.memory.fits).toBe(false);
    expect(withAdvice.advice.some((a: { fits: boolean }) => a.fits)).toBe(true);
    const without = JSON.parse((await exec('node', [BIN, 'simulate', file, '--json', '--no-report', '--no-advice'], { timeout: 120_000 })).stdout);
    expect(without.advice).toBeUndefined();
  }, 180_000);
});

describe("OOM advisor on the card's 70B TP2 × FSDP4 scenario", () => {
  it('finds a fitting change: accumulation kept unsharded gradients (no_sync), so it drops accumulation and scales out', async () => {
    const { loadScenarioFile } = await import('../../src/config/index.ts');
    const r = (await simulateLoaded(loadScenarioFile('scenarios/llama-3.1-70b-tp2-fsdp4-8xh100.yaml'), { advice: true })).result;
    expect(r.memory.fits).toBe(false);
    const fitting = r.advice!.filter((a) => a.fits);
    expect(fitting.length).toBeGreaterThan(0);
    expect(fitting.some((a) => a.change.gradient_accumulation_steps === 1)).toBe(true);
    // 80 identical layers under FSDP2 × TP: most variants come from cut models (src/pipeline/layer-extrapolation.ts;
    // the offloading ones are simulated whole).
    expect(r.advice_debug!.extrapolated).toBeGreaterThan((r.advice_debug!.evaluated - r.advice_debug!.skipped.length) / 2);
  });
});

describe('moves the PEFT work opens up', () => {
  const move = (id: string) => OOM_MOVES.find((m) => m.id === id)!;
  const ctxOf = async (s: Record<string, unknown>) => {
    const run = await simulateLoaded(load(s));
    return { cfg: run.cfg, gpusPerNode: 8, numNodes: 1, worldSize: run.cluster.worldSize, ...(Array.isArray(s.plugins) ? { plugins: s.plugins as string[] } : {}) };
  };
  const lora = { ...oom, sequence_len: 2048, micro_batch_size: 1, adapter: 'lora', lora_target_linear: true, simulation: { hardware: 'dgx-h100', gpus: 1 } };

  it('LoRA → QLoRA (4-bit base); a QLoRA run has nothing to switch', async () => {
    expect(move('qlora').edits(await ctxOf(lora))).toEqual({ adapter: 'qlora', load_in_4bit: true, load_in_8bit: null });
    expect(move('qlora').edits(await ctxOf({ ...lora, adapter: 'qlora', load_in_4bit: true }))).toBeUndefined();
  });

  it("8-bit AdamW: bitsandbytes' on one GPU, torchao's under FSDP2 (Axolotl refuses bitsandbytes' there)", async () => {
    expect(move('eight-bit-optimizer').edits(await ctxOf(lora))).toEqual({ optimizer: 'adamw_bnb_8bit' });
    const fsdp = { ...oom, sequence_len: 2048, micro_batch_size: 1, fsdp_version: 2, fsdp_config: { reshard_after_forward: true } };
    expect(move('eight-bit-optimizer').edits(await ctxOf(fsdp))).toEqual({ optimizer: 'adamw_torch_8bit' });
    expect(move('eight-bit-optimizer').edits(await ctxOf({ ...lora, optimizer: 'adamw_torch_8bit' }))).toBeUndefined();
  });

  it('Cut Cross-Entropy keeps the other plugins; activation offloading needs checkpointing', async () => {
    const liger = 'axolotl.integrations.liger.LigerPlugin';
    expect(move('cut-cross-entropy').edits(await ctxOf({ ...lora, plugins: [liger] }))).toEqual({ plugins: [liger, 'axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin'], cut_cross_entropy: true });
    expect(move('activation-offloading').edits(await ctxOf(lora))).toBeUndefined();
    expect(move('activation-offloading').edits(await ctxOf({ ...lora, gradient_checkpointing: true }))).toEqual({ activation_offloading: true });
  });
});
