import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';
import { layerTensors, zero3LayerHostOps } from '../../src/strategy/zero-common.ts';
import type { LayerSpec } from '../../src/model/types.ts';

/** A GPT-2-style block: fused qkv, o, fc, proj with biases, two LayerNorms with bias. */
const h = 64;
const block = {
  norms: [
    { kind: 'layernorm', width: h, bias: true },
    { kind: 'layernorm', width: h, bias: true },
  ],
  linears: [
    { name: 'c_attn', in: h, out: 3 * h, bias: true, part: 'attention', tp: 'column' },
    { name: 'attn.c_proj', in: h, out: h, bias: true, part: 'attention', tp: 'row' },
    { name: 'c_fc', in: h, out: 4 * h, bias: true, part: 'mlp', tp: 'column' },
    { name: 'mlp.c_proj', in: 4 * h, out: h, bias: true, part: 'mlp', tp: 'row' },
  ],
  extraParams: 0,
} as unknown as LayerSpec;

describe('ZeRO-3 host calls per layer (zero-common.ts zero3LayerHostOps)', () => {
  it('counts every tensor as transformers holds it: 4 weights, 4 biases, 2 × (weight, bias) of the norms', () => {
    expect(layerTensors(block)).toHaveLength(12);
  });

  it('stage3_param_persistence_threshold 0 fetches all 12 tensors of 6 modules; the default threshold keeps biases and norms whole', () => {
    const all = zero3LayerHostOps(block, 0, 4);
    expect(all.fetch).toBe(6 * (4 + 5) + 12 * (2 * 4 + 5));
    expect(all.release).toBe(12 * 2);
    const big = zero3LayerHostOps(block, 4 * h, 4);
    // Only the weights (> 4h elements) are partitioned; every trainable tensor still passes through the reducer.
    expect(big.fetch).toBe(4 * (4 + 5) + 4 * (2 * 4 + 5));
    expect(big.release).toBe(4 * 2);
    expect(big.reduce).toBe(all.reduce);
  });

  it('the per-rank slicing grows with the group; a frozen base (PEFT) reduces nothing but its adapters', () => {
    expect(zero3LayerHostOps(block, 0, 64).fetch).toBeGreaterThan(zero3LayerHostOps(block, 0, 8).fetch);
    const frozen = { ...block, linears: block.linears.map((l) => ({ ...l, frozen: true })) } as LayerSpec;
    expect(zero3LayerHostOps(frozen, 0, 4).reduce).toBe(0);
    const lora = { ...frozen, linears: frozen.linears.map((l) => ({ ...l, lora: { r: 8, dropout: false, dora: false } })) } as LayerSpec;
    expect(zero3LayerHostOps(lora, 0, 4).reduce).toBe(8 * (4 + 13));
  });
});

describe('ZeRO-3 with little GPU work per rank is host-bound', () => {
  const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 256, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, simulation: { hardware: 'dgx-h100' } };
  const z3 = (threshold: number, extra: Record<string, unknown> = {}) =>
    run({ ...base, ...extra, deepspeed: { zero_optimization: { stage: 3, stage3_param_persistence_threshold: threshold } } });

  it('the step is no shorter than the host calls of every layer, and partitioning the norms too (threshold 0) adds some', async () => {
    const profile = JSON.parse(readFileSync(new URL('../../hardware-profiles/dgx-h100.json', import.meta.url), 'utf8'));
    const perOp: number = profile.framework.eager_kernel_host_seconds;
    const r = await z3(0);
    const layers = 32;
    // Llama-2-7B on 8 GPUs: 9 tensors in 9 modules per layer, all partitioned at threshold 0.
    const ops = 9 * (8 + 5) + 9 * (2 * 8 + 5) + 2 * 9 + 9 * (8 + 13);
    expect(r.result.step_time_s).toBeGreaterThan(layers * ops * perOp);
    const whole = (await z3(100000)).result.step_time_s;
    expect(r.result.step_time_s).toBeGreaterThan(whole);
  });

  it('a long sequence hides the same host calls behind GPU work', async () => {
    const short = (await z3(0)).result;
    const long = (await z3(0, { sequence_len: 8192 })).result;
    const shortTime = short.step_time_s / 256;
    const longTime = long.step_time_s / 8192;
    expect(longTime).toBeLessThan(shortTime / 4);
  });
});
