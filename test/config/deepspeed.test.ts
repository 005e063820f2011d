import { describe, expect, it, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadScenarioFile, loadScenarioText, resolveConfig } from '../../src/config/index.ts';
import { parseDeepSpeedConfig, resolveZeroBuckets } from '../../src/config/deepspeed.ts';
import type { ResolvedConfig } from '../../src/config/index.ts';
import { ShardsimError } from '../../src/util/errors.ts';

const shape = { hardware: 'dgx-a100-80gb', gpusPerNode: 8 };
const scenario = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 4, bf16: true };

async function resolve(extra: Record<string, unknown>): Promise<ResolvedConfig> {
  return resolveConfig(loadScenarioText(JSON.stringify({ ...scenario, ...extra }), { name: 't' }), shape);
}
async function error(extra: Record<string, unknown>): Promise<string> {
  try {
    await resolve(extra);
  } catch (e) {
    expect(e).toBeInstanceOf(ShardsimError);
    return (e as Error).message;
  }
  throw new Error('expected a ShardsimError');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardsim-ds-'));
  mkdirSync(join(dir, 'ds'));
  writeFileSync(join(dir, 'ds', 'z3.json'), JSON.stringify({ zero_optimization: { stage: 3, reduce_bucket_size: 'auto' }, bf16: { enabled: 'auto' }, gradient_accumulation_steps: 'auto', train_micro_batch_size_per_gpu: 'auto' }));
  writeFileSync(join(dir, 'broken.json'), '{ "zero_optimization": { "stage": 3, }');
});

describe('deepspeed: a path (as Axolotl takes it) or an inline object (validation rows)', () => {
  it('a path relative to the scenario file and the same object inline resolve identically', async () => {
    const yaml = join(dir, 'scenario.yaml');
    writeFileSync(yaml, `base_model: meta-llama/Llama-2-7b-hf\nsequence_len: 2048\nmicro_batch_size: 2\ngradient_accumulation_steps: 4\nbf16: true\ndeepspeed: ds/z3.json\n`);
    const fromFile = await resolveConfig(loadScenarioFile(yaml), shape);
    const inline = await resolve({ deepspeed: { zero_optimization: { stage: 3, reduce_bucket_size: 'auto' }, bf16: { enabled: 'auto' }, gradient_accumulation_steps: 'auto', train_micro_batch_size_per_gpu: 'auto' } });
    expect(fromFile.strategy).toBe('zero3');
    expect(fromFile.deepspeed!.source).toBe('ds/z3.json');
    expect(inline.deepspeed!.source).toBe('inline');
    expect({ ...fromFile.deepspeed, source: '' }).toEqual({ ...inline.deepspeed, source: '' });
    expect(fromFile.precision).toEqual(inline.precision);
    expect(fromFile.mesh.dpShard).toBe(8);
  });

  it('a missing file is one error naming the path; broken JSON names the file', async () => {
    const yaml = join(dir, 'missing.yaml');
    writeFileSync(yaml, `base_model: meta-llama/Llama-2-7b-hf\nsequence_len: 2048\nmicro_batch_size: 1\ndeepspeed: nowhere/zero3.json\n`);
    await expect(resolveConfig(loadScenarioFile(yaml), shape)).rejects.toThrow(/deepspeed: cannot read DeepSpeed config "nowhere\/zero3.json" \(looked for .*nowhere\/zero3.json\)/);
    writeFileSync(yaml, `base_model: meta-llama/Llama-2-7b-hf\nsequence_len: 2048\nmicro_batch_size: 1\ndeepspeed: broken.json\n`);
    await expect(resolveConfig(loadScenarioFile(yaml), shape)).rejects.toThrow(/deepspeed: broken.json is not valid JSON/);
  });

  it('the CLI prints the missing-file error as one line with exit code 2', async () => {
    const yaml = join(dir, 'cli-missing.yaml');
    writeFileSync(yaml, `base_model: meta-llama/Llama-2-7b-hf\nsequence_len: 2048\nmicro_batch_size: 1\ndeepspeed: zero9.json\n`);
    const bin = join(import.meta.dirname, '../../bin/shardsim.js');
    const r = await promisify(execFile)('node', [bin, 'simulate', yaml, '--no-report'], { timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/zero9\.json/);
  });
});

describe("DeepSpeed's defaults (deepspeed/runtime/zero/config.py) and HF Trainer's auto values", () => {
  it('applies DeepSpeedZeroConfig defaults', () => {
    const z3 = parseDeepSpeedConfig({ zero_optimization: { stage: 3 } }, 'inline');
    expect(z3).toMatchObject({ reduceBucketSize: 5e8, allgatherBucketSize: 5e8, prefetchBucketSize: 5e7, paramPersistenceThreshold: 1e5, maxLiveParameters: 1e9, maxReuseDistance: 1e9, contiguousGradients: true, reduceScatter: true, useMultiRankBucketAllreduce: true });
    // overlap_comm None → true only for stage 3 (`overlap_comm_valid`).
    expect(z3.overlapComm).toBe(true);
    expect(parseDeepSpeedConfig({ zero_optimization: { stage: 2 } }, 'inline').overlapComm).toBe(false);
    expect(parseDeepSpeedConfig({}, 'inline').stage).toBe(0);
  });

  it('fills "auto" bucket sizes from the hidden size only for the keys HF Trainer knows', () => {
    const h = 4096;
    const prefixed = parseDeepSpeedConfig({ zero_optimization: { stage: 3, reduce_bucket_size: 'auto', stage3_prefetch_bucket_size: 'auto', stage3_param_persistence_threshold: 'auto' } }, 'inline');
    expect(resolveZeroBuckets(prefixed, h)).toEqual({ reduceBucketElements: h * h, prefetchBucketElements: Math.floor(0.9 * h * h), paramPersistenceThreshold: 10 * h });
    // The unprefixed aliases are not filled by HF; DeepSpeedConfigModel drops "auto" → DeepSpeed's defaults.
    const aliases = parseDeepSpeedConfig({ zero_optimization: { stage: 3, prefetch_bucket_size: 'auto', param_persistence_threshold: 'auto', max_live_parameters: 0, overlap_comm: 'auto' } }, 'inline');
    expect(resolveZeroBuckets(aliases, h)).toMatchObject({ prefetchBucketElements: 5e7, paramPersistenceThreshold: 1e5 });
    expect(aliases.maxLiveParameters).toBe(0);
    expect(aliases.overlapComm).toBe(true);
  });

  it('reads offload, precision flags and the deprecated cpu_offload', () => {
    const c = parseDeepSpeedConfig({
      zero_optimization: { stage: 3, offload_optimizer: { device: 'cpu', pin_memory: true }, offload_param: { device: 'cpu' } },
      bf16: { enabled: true, bf16_master_weights_and_grads: true, bf16_optimizer_states: true },
      data_types: { grad_accum_dtype: 'fp32' },
      communication_data_type: 'fp32',
    }, 'inline');
    expect(c.offloadOptimizer).toEqual({ pinMemory: true });
    expect(c.offloadParam).toEqual({ pinMemory: false });
    expect(c.gradAccumDtype).toBe('fp32');
    expect(c.communicationDtype).toBe('fp32');
    expect(c.bf16MasterWeightsAndGrads && c.bf16OptimizerStates).toBe(true);
    expect(parseDeepSpeedConfig({ zero_optimization: { stage: 2, cpu_offload: true } }, 'inline').offloadOptimizer).toEqual({ pinMemory: false });
    expect(parseDeepSpeedConfig({ zero_optimization: { stage: 2, offload_optimizer: { device: 'none' } } }, 'inline').offloadOptimizer).toBeUndefined();
  });
});

describe('invalid DeepSpeed configs: one error naming the key and the fix', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['stage out of range', { zero_optimization: { stage: 4 } }, /deepspeed\.zero_optimization\.stage: must be 0, 1, 2 or 3 \(got 4\) — use 1/],
    ['stage as text', { zero_optimization: { stage: 'three' } }, /deepspeed\.zero_optimization\.stage/],
    ['stage 0', { zero_optimization: { stage: 0 } }, /deepspeed\.zero_optimization\.stage: stage 0 disables ZeRO.*use 1, 2 or 3/],
    ['unknown zero key', { zero_optimization: { stage: 3, overlap_com: true } }, /unknown key "deepspeed\.zero_optimization\.overlap_com".*did you mean "overlap_comm"/],
    ['negative bucket', { zero_optimization: { stage: 2, reduce_bucket_size: -1 } }, /deepspeed\.zero_optimization\.reduce_bucket_size: must be a number of elements/],
    ['boolean as text', { zero_optimization: { stage: 2, overlap_comm: 'yes' } }, /deepspeed\.zero_optimization\.overlap_comm: must be true or false/],
    ['param offload below stage 3', { zero_optimization: { stage: 2, offload_param: { device: 'cpu' } } }, /deepspeed\.zero_optimization\.offload_param: parameter offload is valid only with stage 3/],
    ['nvme', { zero_optimization: { stage: 3, offload_optimizer: { device: 'nvme', nvme_path: '/x' } } }, /offload_optimizer\.device: NVMe offload/],
    ['unknown offload key', { zero_optimization: { stage: 3, offload_optimizer: { device: 'cpu', pin_memroy: true } } }, /offload_optimizer\.pin_memroy".*pin_memory/],
    ['bad dtype', { zero_optimization: { stage: 3 }, data_types: { grad_accum_dtype: 'fp8' } }, /deepspeed\.data_types\.grad_accum_dtype: unknown dtype "fp8"/],
    ['bf16 and fp16', { zero_optimization: { stage: 2 }, bf16: { enabled: true }, fp16: { enabled: true } }, /deepspeed\.fp16\.enabled: bf16 and fp16 cannot both be enabled/],
    ['bf16 states without bf16 master', { zero_optimization: { stage: 3 }, bf16: { enabled: true, bf16_optimizer_states: true } }, /bf16_optimizer_states: is only valid with bf16_master_weights_and_grads/],
    ['bf16 master with fp32 states on the GPU', { zero_optimization: { stage: 3 }, bf16: { enabled: true, bf16_master_weights_and_grads: true } }, /bf16_master_weights_and_grads: with fp32 optimizer states requires offload_optimizer/],
    ['accumulation mismatch', { zero_optimization: { stage: 2 }, gradient_accumulation_steps: 8 }, /deepspeed\.gradient_accumulation_steps: 8 disagrees with gradient_accumulation_steps \(4\).*"auto"/],
    ['micro-batch mismatch', { zero_optimization: { stage: 2 }, train_micro_batch_size_per_gpu: 1 }, /deepspeed\.train_micro_batch_size_per_gpu: 1 disagrees with micro_batch_size \(2\)/],
    ['global batch mismatch', { zero_optimization: { stage: 2 }, train_batch_size: 16 }, /deepspeed\.train_batch_size: 16 disagrees .* \(64\)/],
    ['bf16 mismatch', { zero_optimization: { stage: 2 }, bf16: { enabled: false } }, /deepspeed\.bf16\.enabled: false disagrees with bf16 \(true\)/],
    ['ZeRO++ quantization', { zero_optimization: { stage: 3, zero_quantized_weights: true } }, /zero_quantized_weights: ZeRO\+\+ quantized communication is not modelled/],
  ];
  it.each(cases)('%s', async (_name, ds, pattern) => {
    expect(await error({ deepspeed: ds })).toMatch(pattern);
  });

  it('refuses DeepSpeed together with FSDP or tensor parallelism', async () => {
    expect(await error({ deepspeed: { zero_optimization: { stage: 3 } }, fsdp_version: 2 })).toMatch(/deepspeed: cannot be combined with FSDP/);
    expect(await error({ deepspeed: { zero_optimization: { stage: 3 } }, tensor_parallel_size: 2 })).toMatch(/tensor_parallel_size: is not modelled together with DeepSpeed ZeRO/);
  });

  it('warns about an unknown top-level key instead of failing (DeepSpeed ignores it)', async () => {
    const cfg = await resolve({ deepspeed: { zero_optimization: { stage: 1 }, gradient_clippin: 1.0 } });
    expect(cfg.warnings.join('\n')).toMatch(/deepspeed: unknown key "gradient_clippin" ignored.*gradient_clipping/);
  });
});

describe('precision under DeepSpeed (bf16_optimizer.py, stage_1_and_2.py, stage3.py)', () => {
  it('bf16 params and grads, fp32 master + Adam states partitioned, bf16 collectives', async () => {
    for (const stage of [1, 2, 3]) {
      const cfg = await resolve({ deepspeed: { zero_optimization: { stage }, bf16: { enabled: 'auto' } } });
      expect(cfg.strategy).toBe(`zero${stage}`);
      expect(cfg.precision).toMatchObject({ computeDtype: 'bf16', paramDtype: 'bf16', gradDtype: 'bf16', optimizerBytesPerParam: 12, gatherDtype: 'bf16', reduceDtype: 'bf16' });
    }
  });

  it('bf16 master weights and states (DeepSpeed flags or simulation.master_weights) hold 6 B/param', async () => {
    const flags = await resolve({ deepspeed: { zero_optimization: { stage: 3 }, bf16: { enabled: true, bf16_master_weights_and_grads: true, bf16_optimizer_states: true } } });
    expect(flags.precision.optimizerBytesPerParam).toBe(6);
    const sim = await resolve({ deepspeed: { zero_optimization: { stage: 3 }, bf16: { enabled: true } }, simulation: { master_weights: 'bf16' } });
    expect(sim.precision.optimizerBytesPerParam).toBe(6);
  });

  it('fp32 gradient accumulation: a full fp32 buffer under ZeRO-1 (BF16_Optimizer), an fp32 partition under ZeRO-3, the param dtype under ZeRO-2', async () => {
    const dt = { data_types: { grad_accum_dtype: 'fp32' } };
    expect((await resolve({ deepspeed: { zero_optimization: { stage: 1 }, ...dt } })).precision.gradDtype).toBe('fp32');
    expect((await resolve({ deepspeed: { zero_optimization: { stage: 2 }, ...dt } })).precision.gradDtype).toBe('bf16');
    expect((await resolve({ deepspeed: { zero_optimization: { stage: 3 }, ...dt } })).precision.gradDtype).toBe('fp32');
    expect((await resolve({ deepspeed: { zero_optimization: { stage: 3 }, communication_data_type: 'fp32' } })).precision.reduceDtype).toBe('fp32');
  });

  it('bf16: false trains fp32 and still keeps a separate fp32 master copy (20 B/param of model states)', async () => {
    const cfg = await resolve({ bf16: false, deepspeed: { zero_optimization: { stage: 2 }, bf16: { enabled: 'auto' } } });
    expect(cfg.precision.paramDtype).toBe('fp32');
    expect(cfg.precision.optimizerBytesPerParam).toBe(12);
  });
});
