import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, flash_attention: true, optimizer: 'adamw_torch' };
const lora = { adapter: 'lora', lora_r: 16, lora_alpha: 32, lora_target_linear: true };
const qlora = { ...lora, adapter: 'qlora', load_in_4bit: true };
// Llama-2-7b, r = 16, all linear: 32 × 16·(4·8192 + 3·15104) = 39,976,960 trainable.
const TRAINABLE = 39_976_960;
const TOTAL = 6_738_415_616;

describe('LoRA / QLoRA as PEFT and bitsandbytes run them', () => {
  it('one GPU: optimizer states and gradients only for the fp32 adapters; the frozen base stays bf16 (or NF4)', async () => {
    const one = { simulation: { gpus: 1 } };
    const full = (await run({ ...base, ...one })).result;
    const l = (await run({ ...base, ...lora, ...one })).result;
    const q = (await run({ ...base, ...qlora, ...one })).result;
    expect(l.model.trainable_parameters).toBe(TRAINABLE);
    expect(q.model.trainable_parameters).toBe(TRAINABLE);
    expect(full.model.trainable_parameters).toBe(TOTAL);
    // AdamW m and v in fp32 for the adapters: 8 bytes each.
    expect(l.memory.breakdown_at_peak.optimizer_states).toBe(TRAINABLE * 8);
    // bf16 base + fp32 adapters.
    const linears = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008);
    const others = TOTAL - linears;
    expect(l.memory.model_states_bytes).toBe(TOTAL * 2 + TRAINABLE * (4 + 4 + 8));
    // NF4 with double quantisation for the decoder linears; embeddings, lm_head and norms stay bf16.
    const nf4 = 0.5 + 1 / 64 + 4 / (64 * 256);
    expect(q.memory.model_states_bytes).toBeCloseTo(linears * nf4 + others * 2 + TRAINABLE * 16, -3);
    expect(q.memory.peak_bytes).toBeLessThan(l.memory.peak_bytes);
    expect(l.memory.peak_bytes).toBeLessThan(full.memory.peak_bytes);
  });

  it('modules_to_save copies keep the bf16 base dtype beside fp32 adapters (PEFT upcasts only adapter layers)', async () => {
    const one = { simulation: { gpus: 1 } };
    const save = { lora_modules_to_save: ['embed_tokens', 'lm_head'] };
    const l = (await run({ ...base, ...lora, ...one })).result;
    const s = (await run({ ...base, ...lora, ...save, ...one })).result;
    // Llama-2-7b: embed_tokens and lm_head are 32000 × 4096 each.
    const copies = 2 * 32000 * 4096;
    expect(s.model.trainable_parameters).toBe(TRAINABLE + copies);
    // Copy weights, gradients and AdamW m, v in bf16: 2 + 2 + 4 bytes per element (fp32 would be 16).
    expect(s.memory.model_states_bytes - l.memory.model_states_bytes).toBe(copies * 8);
    const states = s.precision.rationale as string;
    expect(states).toMatch(/modules_to_save copies.*bf16/);
    // Without the upcast the adapters are bf16 too, and nothing is split.
    const noUp = (await run({ ...base, ...lora, ...save, ...one, peft_autocast_adapter_dtype: false })).result;
    expect(noUp.memory.model_states_bytes).toBe(TOTAL * 2 + (TRAINABLE + copies) * 8);
  });

  it('frozen weights skip their weight-gradient GEMMs; QLoRA pays dequantisation in forward and backward', async () => {
    const one = { simulation: { gpus: 1 } };
    const full = await run({ ...base, ...one });
    const lRun = await run({ ...base, ...lora, ...one });
    const qRun = await run({ ...base, ...qlora, ...one });
    // Busy time of layer 5's compute spans in one phase.
    const sumOf = (r: typeof lRun, phase: string) =>
      r.timeline.spans.filter((x) => x.tag.kind === 'compute' && x.tag.phase === phase && x.tag.layer === 5).reduce((a, x) => a + (x.end - x.workStart), 0);
    expect(sumOf(full, 'backward')).toBeGreaterThan(0);
    expect(sumOf(lRun, 'backward')).toBeLessThan(sumOf(full, 'backward'));
    expect(sumOf(qRun, 'backward')).toBeGreaterThan(sumOf(lRun, 'backward'));
    expect(sumOf(qRun, 'forward')).toBeGreaterThan(sumOf(lRun, 'forward'));
  });

  it('DDP all-reduces only the adapters’ gradients; FSDP2 gathers the frozen base but reduce-scatters only the adapters', async () => {
    const ddp = (await run({ ...base, ...lora, bf16: true })).result;
    expect(ddp.communication.by_kind.all_reduce!.bytes_per_gpu).toBeLessThan(TRAINABLE * 4 * 2 * 1.01);
    const fsdp = (await run({ ...base, ...lora, fsdp_version: 2, fsdp_config: { reshard_after_forward: true } })).result;
    const rs = fsdp.communication.by_kind.reduce_scatter!.bytes_per_gpu;
    const ag = fsdp.communication.by_kind.all_gather!.bytes_per_gpu;
    // bf16 reduce-scatter of the adapters: (n−1)/n of their bytes per GPU.
    expect(rs).toBeCloseTo((TRAINABLE * 2 * 7) / 8, -4);
    // Gathers move the whole model (bf16 base + adapters cast to bf16), most of it twice (reshard).
    expect(ag).toBeGreaterThan((1.5 * TOTAL * 2 * 7) / 8);
  });

  it('DeepSpeed ZeRO-3 partitions the whole model at its bf16 dtype (the engine casts adapters too) and keeps fp32 master + Adam for the adapters only', async () => {
    const ds = { zero_optimization: { stage: 3 }, bf16: { enabled: true } };
    const z = (await run({ ...base, ...lora, deepspeed: ds, simulation: { gpus: 4 } })).result;
    // Per GPU: (frozen + adapters) in bf16 / 4, adapter grads bf16 / 4, fp32 master + two fp32 Adam states / 4;
    // small persistent tensors (norms) are kept whole, so allow a little above.
    const partitioned = (TOTAL + TRAINABLE) * 2 / 4 + (TRAINABLE * 2) / 4 + (TRAINABLE * 12) / 4;
    expect(z.memory.model_states_bytes).toBeGreaterThan(partitioned * 0.99);
    expect(z.memory.model_states_bytes).toBeLessThan(partitioned * 1.02);
  });
});

describe('optimizers as Axolotl names them', () => {
  const one = { ...base, ...lora, simulation: { gpus: 1 } };
  it('8-bit (bitsandbytes / torchao) and 4-bit (torchao) states: 2 × (1 + 4/256) and 2 × (0.5 + 4/128) bytes per parameter', async () => {
    const b8 = (await run({ ...one, optimizer: 'adamw_bnb_8bit' })).result;
    const ao8 = (await run({ ...one, optimizer: 'adamw_torch_8bit' })).result;
    const ao4 = (await run({ ...one, optimizer: 'adamw_torch_4bit' })).result;
    expect(b8.memory.breakdown_at_peak.optimizer_states).toBeCloseTo(TRAINABLE * 2 * (1 + 4 / 256), 0);
    expect(ao8.memory.breakdown_at_peak.optimizer_states).toBeCloseTo(TRAINABLE * 2 * (1 + 4 / 256), 0);
    expect(ao4.memory.breakdown_at_peak.optimizer_states).toBeCloseTo(TRAINABLE * 2 * (0.5 + 4 / 128), 0);
  });

  it('paged optimizers keep their states in unified memory: outside the allocator peak, reported apart', async () => {
    const paged = (await run({ ...one, optimizer: 'paged_adamw_32bit' })).result;
    const plain = (await run({ ...one, optimizer: 'adamw_torch_fused' })).result;
    expect(paged.memory.paged_optimizer_bytes).toBe(TRAINABLE * 8);
    expect(paged.memory.breakdown_at_peak.optimizer_states).toBe(0);
    expect(plain.memory.paged_optimizer_bytes).toBe(0);
    expect(paged.memory.peak_bytes).toBeLessThan(plain.memory.peak_bytes);
  });

  it('an unknown optimizer is refused with the list of modelled ones', async () => {
    await expect(run({ ...one, optimizer: 'adamw_magic' })).rejects.toThrow(/adamw_bnb_8bit/);
  });
});
