import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadScenarioText, resolveConfig } from '../../src/config/index.ts';
import { KEY_FATES, DEPRECATED_ALIASES } from '../../src/config/key-fates.ts';
import { MODELLED_KEYS } from '../../src/config/schema.ts';
import { resolveDtypeFlags } from '../../src/config/precision.ts';
import { ShardsimError } from '../../src/util/errors.ts';

const shape = { hardware: 'dgx-a100-80gb', gpusPerNode: 8 };
const base = { base_model: 'meta-llama/Llama-2-7b-hf', sequence_len: 2048, micro_batch_size: 2, gradient_accumulation_steps: 1, bf16: true };
const load = (extra: Record<string, unknown>) => loadScenarioText(JSON.stringify({ ...base, ...extra }), { name: 't' });
const resolve = (extra: Record<string, unknown>) => resolveConfig(load(extra), shape);

describe('Axolotl key fates', () => {
  it('drops keys that do not change a step, silently', () => {
    expect(load({ learning_rate: 2e-5, wandb_project: 'x', chat_template: 'llama3', num_epochs: 3 }).warnings).toEqual([]);
  });

  it('warns for an unmodelled key only when it is set', () => {
    expect(load({ relora: true }).warnings).toEqual([expect.stringMatching(/^relora: ReLoRA \/ LISA/)]);
    expect(load({ relora: false, lisa_n_layers: null, optim_target_modules: [] }).warnings).toEqual([]);
  });

  it('refuses out-of-scope trainers with one line naming the key', () => {
    expect(() => load({ vllm: { gpu_memory_utilization: 0.9 } })).toThrow(ShardsimError);
    expect(() => load({ vllm: { gpu_memory_utilization: 0.9 } })).toThrow(/^vllm: RL trainers with generation .* remove the key$/);
    expect(() => load({ kd_trainer: true })).toThrow(/^kd_trainer: /);
    expect(load({ vllm: null, kd_trainer: false }).warnings).toEqual([]);
  });

  it('warns with a suggestion for a key Axolotl does not know', () => {
    expect(load({ lora_rr: 8 }).warnings).toEqual(['unknown key "lora_rr" ignored (not an Axolotl key) — did you mean "lora_r"?']);
  });

  it('maps deprecated spellings as Axolotl does', async () => {
    const cfg = await resolveConfig(loadScenarioText(JSON.stringify({ ...base, micro_batch_size: 1, sequence_parallel_degree: 2, flash_attention: true, simulation: { gpus: 2 } }), { name: 't' }), shape);
    expect(cfg.mesh.cp).toBe(2);
    expect(Object.keys(DEPRECATED_ALIASES).every((k) => !MODELLED_KEYS.includes(k))).toBe(true);
  });

  it('no key is both modelled and given a fate', () => {
    expect([...KEY_FATES.keys()].filter((k) => MODELLED_KEYS.includes(k))).toEqual([]);
  });

  it("every key of Axolotl's schema and plugins is modelled or has a fate", () => {
    const ax = JSON.parse(readFileSync(new URL('./axolotl-schema-keys.json', import.meta.url), 'utf8')) as { top: string[]; integrations: string[] };
    const missing = [...ax.top, ...ax.integrations].filter((k) => !MODELLED_KEYS.includes(k) && !KEY_FATES.has(k) && !(k in DEPRECATED_ALIASES));
    expect(missing).toEqual([]);
  });
});

describe("Axolotl's resolve_dtype", () => {
  it('bf16: auto is bf16 unless fp16 is set; bf16 clears fp16', () => {
    expect(resolveDtypeFlags({ bf16: 'auto' }).half).toBe('bf16');
    expect(resolveDtypeFlags({ bf16: 'auto', fp16: true })).toEqual({ half: 'fp16', tf32: false, gradScaler: true });
    expect(resolveDtypeFlags({ bf16: true, fp16: true })).toEqual({ half: 'bf16', tf32: false, gradScaler: false });
  });
  it('weights load in bfloat16/float16 without autocast; load_in_8bit loads the rest in fp16', () => {
    expect(resolveDtypeFlags({ bfloat16: true }).half).toBe('bf16');
    expect(resolveDtypeFlags({ float16: true })).toEqual({ half: 'fp16', tf32: false, gradScaler: false });
    expect(resolveDtypeFlags({ load_in_8bit: true }).half).toBe('fp16');
    expect(resolveDtypeFlags({}).half).toBeUndefined();
  });

  it('fp16 trains 16-bit like bf16, and full fine-tuning under DDP warns of the GradScaler failure', async () => {
    const b = await resolve({});
    const f = await resolve({ bf16: false, fp16: true });
    expect(f.precision.computeDtype).toBe('fp16');
    expect(f.precision.paramDtype).toBe('fp16');
    expect(f.precision.optimizerBytesPerParam).toBe(b.precision.optimizerBytesPerParam);
    expect(f.warnings.join('\n')).toMatch(/^fp16: full fine-tuning in fp16 fails in torch's GradScaler/m);
    const lora = await resolve({ bf16: false, fp16: true, adapter: 'lora', lora_target_linear: true });
    expect(lora.warnings.join('\n')).not.toMatch(/GradScaler/);
  });

  it('tf32 runs fp32 matmuls on the tensor cores', async () => {
    const fp32 = await resolve({ bf16: false });
    const tf32 = await resolve({ bf16: false, tf32: true });
    expect(fp32.precision.tf32Matmul).toBeUndefined();
    expect(tf32.precision.tf32Matmul).toBe(true);
    expect(tf32.precision.computeDtype).toBe('fp32');
  });
});
