import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile } from '../../src/config/index.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';
import { zeroModelStates, type ZeroDtypes } from '../../src/strategy/zero-common.ts';
import { run } from '../helpers/run.ts';

// Llama-2-7B: Ψ = 6,738,415,616 parameters, on 64 GPUs (8 × DGX A100 80 GB).
const PSI = 6_738_415_616;
const N = 64;
const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, gradient_checkpointing: true };
const sim = { hardware: 'dgx-a100-80gb', num_nodes: 8 };
/** ZeRO paper (Rajbhandari et al. 2020, §5.1 / Figure 1), K = 12 bytes of fp32 master + Adam states per parameter. */
const paper = { 1: 4 * PSI + (12 * PSI) / N, 2: 2 * PSI + (14 * PSI) / N, 3: (16 * PSI) / N } as const;
const mixed: ZeroDtypes = { model: 'bf16', master: 'fp32', state: 'fp32', grad: 'bf16', comm: 'bf16' };

describe('ZeRO model states per GPU follow the ZeRO paper', () => {
  it("reproduces the paper's Figure 1 (Ψ = 7.5B, N = 64): 31.4 GB, 16.6 GB, 1.9 GB", () => {
    const psi = 7.5e9;
    const total = (s: 1 | 2 | 3) => {
      const m = zeroModelStates(psi, 64, s, mixed, { offloadOptimizer: false, offloadParam: false });
      return (m.parameters + m.gradients + m.optimizerStates) / 1e9;
    };
    expect(total(1)).toBeCloseTo(31.4, 1);
    expect(total(2)).toBeCloseTo(16.6, 1);
    expect(total(3)).toBeCloseTo(1.9, 1);
  });

  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shardsim-zero-'));
  });

  it.each([1, 2, 3] as const)('ZeRO-%i on 8 × dgx-a100-80gb, from a DeepSpeed JSON file and from an inline object, within 2%% of the paper', async (stage) => {
    const ds = { zero_optimization: { stage, reduce_bucket_size: 'auto' }, bf16: { enabled: 'auto' }, gradient_accumulation_steps: 'auto', train_micro_batch_size_per_gpu: 'auto' };
    writeFileSync(join(dir, `zero${stage}.json`), JSON.stringify(ds));
    const yaml = join(dir, `zero${stage}.yaml`);
    writeFileSync(yaml, JSON.stringify({ ...base, deepspeed: `zero${stage}.json`, simulation: sim }));
    const fromFile = (await simulateLoaded(loadScenarioFile(yaml))).result;
    const inline = (await run({ ...base, deepspeed: ds, simulation: sim })).result;
    for (const r of [fromFile, inline]) {
      expect(r.strategy).toBe(`zero${stage}`);
      expect(r.world_size).toBe(N);
      expect(Math.abs(r.memory.model_states_bytes / paper[stage] - 1)).toBeLessThan(0.02);
    }
    expect(fromFile.memory.model_states_bytes).toBe(inline.memory.model_states_bytes);
    expect(fromFile.step_time_s).toBe(inline.step_time_s);
  });

  it('ZeRO-3 keeps small tensors whole (stage3_param_persistence_threshold): the documented extra is the norms, < 0.1%', async () => {
    const r = (await run({ ...base, deepspeed: { zero_optimization: { stage: 3 } }, simulation: sim })).result;
    const extra = r.memory.model_states_bytes - paper[3];
    // 2 RMSNorm weights per layer + the final norm, in bf16 on every GPU.
    expect(extra).toBeCloseTo((32 * 2 * 4096 + 4096) * 2 - (16 * PSI) / N + 16 * Math.ceil(PSI / N), -3);
    expect(extra / paper[3]).toBeLessThan(0.001);
  });

  it('fp32 gradient accumulation adds what DeepSpeed keeps: a full fp32 buffer under ZeRO-1 (BF16_Optimizer), an fp32 partition under ZeRO-3', async () => {
    const dt = { data_types: { grad_accum_dtype: 'fp32' } };
    const z1 = (await run({ ...base, deepspeed: { zero_optimization: { stage: 1 }, ...dt }, simulation: sim })).result;
    expect(z1.memory.model_states_bytes / (paper[1] + 2 * PSI)).toBeCloseTo(1, 2);
    const z3 = (await run({ ...base, deepspeed: { zero_optimization: { stage: 3 }, ...dt }, simulation: sim })).result;
    expect(z3.memory.model_states_bytes / (paper[3] + (2 * PSI) / N)).toBeCloseTo(1, 2);
  });

  it('sharding more lowers the peak: DDP > ZeRO-1 > ZeRO-2 > ZeRO-3', async () => {
    const peak = async (extra: Record<string, unknown>) => (await run({ ...base, ...extra, simulation: sim })).result.memory.peak_bytes;
    const ddp = await peak({});
    const z1 = await peak({ deepspeed: { zero_optimization: { stage: 1 } } });
    const z2 = await peak({ deepspeed: { zero_optimization: { stage: 2 } } });
    const z3 = await peak({ deepspeed: { zero_optimization: { stage: 3 } } });
    expect(ddp).toBeGreaterThan(z1);
    expect(z1).toBeGreaterThan(z2);
    expect(z2).toBeGreaterThan(z3);
  });

  it('the ZeRO-3 IPG bucket and the ZeRO-2 double bucket buffer are sized by reduce_bucket_size', async () => {
    const z3 = await run({ ...base, deepspeed: { zero_optimization: { stage: 3, reduce_bucket_size: 1e8 } }, simulation: sim });
    expect(z3.plan.persistentBytes.communication_buffers).toBe(1e8 * 2);
    const z2 = await run({ ...base, deepspeed: { zero_optimization: { stage: 2, overlap_comm: true, reduce_bucket_size: 1e8 } }, simulation: sim });
    const allocs = z2.plan.tasks.flatMap((t) => t.memory ?? []).filter((m) => m.category === 'communication_buffers' && m.bytes > 0).map((m) => m.bytes);
    expect(allocs).toContain(2 * 1e8 * 2);
  });
});

/**
 * DeepSpeedExamples training/bf16_master_weight (6.86B GPT, ZeRO-3 on 4 × H100, batch 1 × 512, activation
 * checkpointing), shared/validation/memory-calibration.jsonl rows mem0055 / mem0056: peak allocated memory.
 */
describe('DeepSpeed ZeRO-3 peak memory against DeepSpeedExamples (mem0055, mem0056)', () => {
  const row = {
    model_config: { model_type: 'gpt2', n_embd: 4096, n_layer: 32, n_head: 32, n_inner: 16384, n_positions: 512, vocab_size: 50257 },
    sequence_len: 512, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, optimizer: 'adamw_torch_fused',
    gradient_checkpointing: true, deepspeed: { zero_optimization: { stage: 3 }, bf16: { enabled: true } },
  };
  it.each([
    ['fp32 master weights (mem0055)', 'fp32', 33694018437],
    ['bf16 master weights and states (mem0056)', 'bf16', 20325932728],
  ] as const)('%s: peak allocated within 10%% of the measurement', async (_name, master, measured) => {
    const r = (await run({ ...row, simulation: { hardware: 'dgx-h100', gpus: 4, master_weights: master } })).result;
    expect(r.strategy).toBe('zero3');
    expect(Math.abs(r.memory.peak_bytes / measured - 1)).toBeLessThan(0.1);
  });
});
