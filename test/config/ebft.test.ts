import { describe, expect, it } from 'vitest';
import { loadScenarioText, resolveConfig } from '../../src/config/index.ts';
import { denseMaskAssignments, ebftStridedPasses, resolveEbftStrided } from '../../src/config/ebft.ts';
import { ShardsimError } from '../../src/util/errors.ts';

const shape = { hardware: 'dgx-h100', gpusPerNode: 8 };
const strided = { mode: 'strided', stride: 8, context_length: 8, generate_max_len: 8, n_samples_per_prompt: 4 };
const base = { base_model: 'meta-llama/Llama-3.2-1B', rl: 'ebft', ebft: strided, sequence_len: 256, micro_batch_size: 1, bf16: 'auto', adapter: 'lora', lora_r: 16, lora_alpha: 32, lora_target_linear: true, gradient_checkpointing: true, gradient_checkpointing_kwargs: { use_reentrant: true } };
const load = (extra: Record<string, unknown>) => loadScenarioText(JSON.stringify({ ...base, ...extra }), { name: 't' });
const resolve = (extra: Record<string, unknown>) => resolveConfig(load(extra), shape);

describe('strided EBFT blocks (axolotl core/trainers/ebft/strided.py compute_loss)', () => {
  it('places NB = (S − G − anchor) // stride + 1 anchors and grows each row to L = S + NB·G', () => {
    // 256 tokens: (256 − 8 − 8) // 8 + 1 = 31 blocks, 256 + 31·8 = 504 tokens; the head reads the 248 generated ones.
    expect(resolveEbftStrided({ rl: 'ebft', ebft: strided, sequence_len: 256, adapter: 'lora' })).toMatchObject({
      blocks: 31, fullTokens: 504, logProbTokens: 248, anchorOffset: 8, featureNetwork: 'adapters-disabled', structured: false,
    });
    // ce_coef > 0: log-probs over every position but the last (compute_start = 0): 503; a full fine-tune copies the model.
    expect(resolveEbftStrided({ rl: 'ebft', ebft: { ...strided, ce_coef: 0.03 }, sequence_len: 256 })).toMatchObject({ logProbTokens: 503, featureNetwork: 'copy' });
    // args.py defaults (stride 8, context 8, 8 generated tokens, 4 samples): 64 tokens → (64 − 16) // 8 + 1 = 7 blocks.
    expect(resolveEbftStrided({ rl: 'ebft', ebft: { mode: 'strided' }, sequence_len: 64 })).toMatchObject({ blocks: 7, fullTokens: 120, samplesPerDocument: 4, generateTokens: 8 });
  });

  it('starts prompt/completion anchors at min_completion_prefix (prompt length 0: the most blocks)', () => {
    const t = resolveEbftStrided({ rl: 'ebft', ebft: { ...strided, min_completion_prefix: 16 }, sequence_len: 256, datasets: [{ path: 'x', type: 'ebft_strided_structured.transform' }] });
    // (256 − 8 − 16) // 8 + 1 = 30.
    expect(t).toMatchObject({ structured: true, anchorOffset: 16, blocks: 30 });
  });

  it('refuses a row too short for one anchor (strided.py returns a zero loss)', () => {
    // (15 − 8 − 8) // 8 + 1 = 0 (Python floors −1 // 8 to −1).
    expect(() => resolveEbftStrided({ rl: 'ebft', ebft: strided, sequence_len: 15 })).toThrow(/^sequence_len: 15 tokens leave no anchor/);
    expect(resolveEbftStrided({ rl: 'ebft', ebft: strided, sequence_len: 16 }).blocks).toBe(1);
  });

  it('counts the dense mask loops: NB · Σ_{s<g} (2 + s) assignments before generation step g', () => {
    expect(denseMaskAssignments(31, 0)).toBe(0);
    expect(denseMaskAssignments(31, 1)).toBe(62);
    expect(denseMaskAssignments(31, 2)).toBe(155);
    // The feature mask covers all G = 8 steps: 31 · (16 + 28).
    expect(denseMaskAssignments(31, 8)).toBe(1364);
  });

  it('lists the passes of a micro-batch: G growing no-grad generation forwards, the trained rows, the feature forward', () => {
    const t = resolveEbftStrided({ rl: 'ebft', ebft: strided, sequence_len: 256, adapter: 'lora' });
    const p = ebftStridedPasses(t, 2);
    expect(p.generation.map((g) => g.rowTokens)).toEqual([256, 287, 318, 349, 380, 411, 442, 473]);
    expect(p.generation.every((g) => g.rows === 8 && g.attention === 'eager-dense')).toBe(true);
    expect(p.trained).toMatchObject({ rows: 8, rowTokens: 504, attention: 'flex-strided' });
    // Adapters disabled: SDPA over the dense mask built by the same loops.
    expect(p.feature).toMatchObject({ rows: 8, rowTokens: 504, attention: 'sdpa-dense', maskAssignments: 1364 });
    expect(ebftStridedPasses({ ...t, featureNetwork: 'copy' }, 1).feature).toMatchObject({ attention: 'flex-strided', maskAssignments: 0 });
  });
});

describe('strided EBFT against Axolotl and the trainer', () => {
  it('runs on one GPU unless told otherwise, and says so', async () => {
    const cfg = await resolve({});
    expect(cfg.worldSize).toBe(1);
    expect(cfg.strategy).toBe('single');
    expect(cfg.warnings.join('\n')).toMatch(/^ebft: strided mode simulated on one GPU/m);
    // Rows are padded to sequence_len by the EBFT transforms, whatever the documents.
    expect(cfg.shape).toMatchObject({ rows: 1, rowTokens: 256 });
  });

  it('refuses more GPUs, FSDP, packing, activation offloading, and torch_compile with checkpointing (Axolotl refuses it)', async () => {
    await expect(resolve({ simulation: { gpus: 2 } })).rejects.toThrow(/^ebft: strided EBFT is modelled on one GPU/);
    await expect(resolve({ fsdp_version: 2, fsdp_config: {}, simulation: { gpus: 1 } })).rejects.toThrow(/^ebft: /);
    await expect(resolve({ sample_packing: true })).rejects.toThrow(/^sample_packing: /);
    await expect(resolve({ activation_offloading: true })).rejects.toThrow(/^activation_offloading: /);
    await expect(resolve({ torch_compile: true })).rejects.toThrow(/^torch_compile: .*Axolotl refuses it/);
  });

  it('warns that non-reentrant checkpointing (Axolotl default) meets flex_attention, unless attn_implementation is flex_attention', async () => {
    const warned = (extra: Record<string, unknown>) => resolve(extra).then((c) => c.warnings.some((w) => w.startsWith('gradient_checkpointing_kwargs:')));
    expect(await warned({ gradient_checkpointing_kwargs: null })).toBe(true);
    expect(await warned({ gradient_checkpointing_kwargs: { use_reentrant: false } })).toBe(true);
    expect(await warned({})).toBe(false);
    expect(await warned({ gradient_checkpointing_kwargs: { use_reentrant: false }, attn_implementation: 'flex_attention' })).toBe(false);
  });

  it('refuses structured modes by name, before their trl / vllm keys, in one line', () => {
    const structured = { ebft: { feature_layers: [0.5] }, trl: { use_vllm: true, num_generations: 4 }, vllm: { gpu_memory_utilization: 0.5 } };
    expect(() => load(structured)).toThrow(ShardsimError);
    expect(() => load(structured)).toThrow(/^ebft: EBFT structured mode generates completions on a separate vLLM server .*out of scope — /);
    expect(() => load({ ...structured, trl: { use_vllm: false } })).toThrow(/^ebft: EBFT structured mode generates completions with TRL's generate/);
    expect(() => load({ ebft: null })).toThrow(/^ebft: rl: ebft needs an ebft: section/);
  });

  it("checks the ebft block's keys as Axolotl's EBFTConfig does", () => {
    expect(() => load({ ebft: { ...strided, stride: 0 } })).toThrow(/ebft\.stride/);
    expect(() => load({ ebft: { ...strided, strides: 8 } })).toThrow(/unknown key "ebft\.strides"/);
    expect(() => load({ ebft: { ...strided, advantage_estimator: 'ppo' } })).toThrow(/ebft\.advantage_estimator/);
  });

  it('ignores an ebft block without rl: ebft, with a warning', async () => {
    const cfg = await resolveConfig(loadScenarioText(JSON.stringify({ ...base, rl: undefined, simulation: { gpus: 1 } }), { name: 't' }), shape);
    expect(cfg.trainer.kind).toBe('sft');
    expect(cfg.warnings).toContain('ebft: not read without rl: ebft');
  });
});
