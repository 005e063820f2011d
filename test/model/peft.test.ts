import { describe, expect, it } from 'vitest';
import { applyPeft, loadModel, parameterCounts, quantizationOf, trainableParameters, type PeftOptions } from '../../src/model/index.ts';

const lora = (over: Partial<PeftOptions>): PeftOptions => ({ r: 8, dropout: false, dora: false, targets: { kind: 'all-linear' }, modulesToSave: [], ...over });

/**
 * PEFT's print_trainable_parameters for well-known setups; each is r·(in + out) summed over the adapted
 * projections, derived by hand in the comment.
 */
describe('trainable parameters as PEFT prints them', () => {
  it('Llama-2-7b, r = 8 on q_proj, v_proj: 32 × 2 × 8·(4096 + 4096) = 4,194,304', () => {
    const m = applyPeft(loadModel({ baseModel: 'meta-llama/Llama-2-7b-hf' }), lora({ targets: { kind: 'names', names: ['q_proj', 'v_proj'] } }));
    expect(trainableParameters(m)).toBe(4_194_304);
  });

  it('Mistral-7B, r = 16, all linear: 32 × 16·(2·8192 + 2·5120 + 3·18432) = 41,943,040', () => {
    const m = applyPeft(loadModel({ baseModel: 'mistralai/Mistral-7B-v0.1' }), lora({ r: 16 }));
    expect(trainableParameters(m)).toBe(41_943_040);
  });

  it('Llama-3.1-8B, r = 32, all linear (Axolotl lora_target_linear): 83,886,080; lm_head is never targeted', () => {
    const m = applyPeft(loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' }), lora({ r: 32 }));
    expect(trainableParameters(m)).toBe(83_886_080);
  });

  it('DoRA adds one magnitude per output feature; modules_to_save adds a trainable copy', () => {
    const base = loadModel({ baseModel: 'meta-llama/Llama-2-7b-hf' });
    const qv = { kind: 'names', names: ['q_proj', 'v_proj'] } as const;
    expect(trainableParameters(applyPeft(base, lora({ targets: qv, dora: true })))).toBe(4_194_304 + 32 * 2 * 4096);
    expect(trainableParameters(applyPeft(base, lora({ targets: qv, modulesToSave: ['embed_tokens', 'lm_head'] })))).toBe(4_194_304 + 2 * 32000 * 4096);
  });

  it('a regex target is full-matched against transformers module paths; layers_to_transform restricts layers', () => {
    const base = loadModel({ baseModel: 'meta-llama/Llama-2-7b-hf' });
    const re = applyPeft(base, lora({ targets: { kind: 'regex', pattern: String.raw`model\.layers\.\d+\.self_attn\.(q|v)_proj` } }));
    expect(trainableParameters(re)).toBe(4_194_304);
    const two = applyPeft(base, lora({ targets: { kind: 'names', names: ['q_proj', 'v_proj'] }, layersToTransform: [0, 1] }));
    expect(trainableParameters(two)).toBe(4_194_304 / 16);
  });

  it('a multimodal wrapper nests the decoder at model.language_model (Axolotl vision regexes match it)', () => {
    // Gemma 3 4B text: 34 layers, hidden 2560, q 8×256, k/v 4×256, MLP 10240 — per layer
    // 2·(2560 + 2048) + 2·(2560 + 1024) + 3·(2560 + 10240) = 54,784; × 34 × r 32 = 59,604,992.
    const base = loadModel({ baseModel: 'google/gemma-3-4b-it' });
    const pattern = String.raw`model.language_model.layers.[\d]+.(mlp|cross_attn|self_attn).(up|down|gate|q|k|v|o)_proj`;
    expect(trainableParameters(applyPeft(base, lora({ r: 32, targets: { kind: 'regex', pattern } })))).toBe(59_604_992);
    // The text-only path does not match inside the wrapper: PEFT would adapt nothing.
    const textOnly = String.raw`model\.layers\.\d+\.self_attn\.q_proj`;
    expect(trainableParameters(applyPeft(base, lora({ targets: { kind: 'regex', pattern: textOnly } })))).toBe(0);
  });

  it('families with other module names: GPT-NeoX query_key_value sits under gpt_neox.layers.<i>.attention', () => {
    const base = loadModel({ baseModel: 'EleutherAI/pythia-1.4b-deduped' });
    // 24 layers × r 8 × (2048 + 3·2048)
    const m = applyPeft(base, lora({ targets: { kind: 'regex', pattern: String.raw`gpt_neox\.layers\.\d+\.attention\.query_key_value` } }));
    expect(trainableParameters(m)).toBe(24 * 8 * (2048 + 3 * 2048));
  });

  it('Qwen3.5-27B (Gated DeltaNet + gated attention), r = 16 on q/k/v/o, up/down: only the 16 full-attention layers have q/k/v/o', () => {
    // Full layer: q 5120 → 2·24·256 (query + output gate), k/v 5120 → 4·256, o 6144 → 5120, MLP 17408;
    // 16 × 16·[(5120 + 12288) + 2·(5120 + 1024) + (6144 + 5120) + 2·(5120 + 17408)] + 48 × 16·2·(5120 + 17408).
    const m = applyPeft(loadModel({ baseModel: 'Qwen/Qwen3.5-27B' }), lora({ r: 16, targets: { kind: 'names', names: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'down_proj', 'up_proj'] } }));
    expect(trainableParameters(m)).toBe(16 * 16 * (17408 + 2 * 6144 + 11264 + 2 * 22528) + 48 * 16 * 2 * 22528);
    // Axolotl's README names the DeltaNet projections by their path: linear_attn.in_proj_qkv / in_proj_z / out_proj.
    const gdn = applyPeft(loadModel({ baseModel: 'Qwen/Qwen3.5-27B' }), lora({ r: 16, targets: { kind: 'names', names: ['linear_attn.in_proj_qkv', 'linear_attn.in_proj_z', 'linear_attn.out_proj'] } }));
    // 16 key heads × 128 (q, k) and 48 value heads × 128: in_proj_qkv 5120 → 10240, in_proj_z 5120 → 6144, out_proj 6144 → 5120.
    expect(trainableParameters(gdn)).toBe(48 * 16 * ((5120 + 10240) + (5120 + 6144) + (6144 + 5120)));
  });

  it('routed experts held as 3-D parameters are not modules: a target_modules name never adapts them, target_parameters does', () => {
    // Qwen3.5-35B-A3B: 10 full-attention layers (q 2048 → 8192, k/v 2048 → 512, o 4096 → 2048) and a shared
    // expert (512 wide) in all 40 layers; the 256 routed experts' down_proj is an nn.Parameter of Qwen3NextExperts.
    const base = loadModel({ baseModel: 'Qwen/Qwen3.5-35B-A3B' });
    const names = { kind: 'names', names: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'down_proj', 'up_proj'] } as const;
    const byName = 10 * 16 * ((2048 + 8192) + 2 * (2048 + 512) + (4096 + 2048)) + 40 * 16 * 2 * (2048 + 512);
    expect(trainableParameters(applyPeft(base, lora({ r: 16, targets: names })))).toBe(byName);
    const withExperts = applyPeft(base, lora({ r: 16, targets: names, parameters: ['mlp.experts.down_proj'] }));
    expect(trainableParameters(withExperts)).toBe(byName + 40 * 256 * 16 * (512 + 2048));
  });

  it('Gemma 4 26B-A4B (Axolotl example): the vision regex adapts attention and the dense MLP, target_parameters the 3-D experts', () => {
    // Sliding layers (25): q 2816 → 16·256, k/v → 8·256, o; full layers (5): q → 16·512, k → 2·512, no v_proj, o;
    // MLP 2112; experts 128 × (gate_up 2816 → 2·704, down 704 → 2816); r = 16.
    const pattern = String.raw`model.language_model.layers.[\d]+.(_checkpoint_wrapped_module.)?(mlp|self_attn).(up|down|gate|q|k|v|o)_proj`;
    const m = applyPeft(loadModel({ baseModel: 'google/gemma-4-26B-A4B' }), lora({ r: 16, targets: { kind: 'regex', pattern }, parameters: ['experts.gate_up_proj', 'experts.down_proj'] }));
    const sliding = 16 * ((2816 + 4096) + 2 * (2816 + 2048) + (4096 + 2816));
    const full = 16 * ((2816 + 8192) + (2816 + 1024) + (8192 + 2816));
    const ffn = 16 * 3 * (2816 + 2112) + 128 * 16 * ((2816 + 1408) + (704 + 2816));
    expect(trainableParameters(m)).toBe(25 * sliding + 5 * full + 30 * ffn);
  });

  it('Kimi-Linear (remote code): experts are nn.Linear w1/w2/w3 per expert, so llama-style names reach only attention, the dense MLP and the shared experts', () => {
    // r 16: 20 KDA layers (q/k/v 2304 → 4096, o 4096 → 2304), 7 MLA layers (q_proj 2304 → 32·192, o_proj 4096 → 2304;
    // kv_a / kv_b have other names), layer 0's dense MLP (9216), 26 shared experts (1024).
    const names = { kind: 'names', names: ['gate_proj', 'down_proj', 'up_proj', 'q_proj', 'v_proj', 'k_proj', 'o_proj'] } as const;
    const m = applyPeft(loadModel({ baseModel: 'moonshotai/Kimi-Linear-48B-A3B-Instruct' }), lora({ r: 16, targets: names }));
    const kda = 16 * (3 * (2304 + 4096) + (4096 + 2304));
    const mla = 16 * ((2304 + 6144) + (4096 + 2304));
    expect(trainableParameters(m)).toBe(20 * kda + 7 * mla + 16 * 3 * (2304 + 9216) + 26 * 16 * 3 * (2304 + 1024));
    // load_in_8bit would quantise the looped experts like any nn.Linear.
    const q = applyPeft(loadModel({ baseModel: 'moonshotai/Kimi-Linear-48B-A3B-Instruct' }), lora({ targets: names, quantization: quantizationOf({ kind: 'int8' }) }));
    expect(q.layers[1]!.linears.find((l) => l.name === 'experts.w1')!.quantized?.kind).toBe('int8');
  });

  it('adapting keeps the base parameter count and freezes every base projection', () => {
    const base = loadModel({ baseModel: 'meta-llama/Llama-3.2-1B' });
    const m = applyPeft(base, lora({ quantization: quantizationOf({ kind: 'nf4', doubleQuant: true }) }));
    expect(parameterCounts(m).total).toBe(parameterCounts(base).total);
    expect(m.layers.every((l) => l.linears.every((x) => x.frozen && x.quantized?.kind === 'nf4' && x.lora))).toBe(true);
  });
});

describe('quantised storage (bitsandbytes / GPTQ formats)', () => {
  it('NF4 blocksize 64: 0.5 B + an fp32 absmax per block, or with double quantisation 8-bit absmax + fp32 per 256 blocks', () => {
    expect(quantizationOf({ kind: 'nf4', doubleQuant: false }).bytesPerParam).toBe(0.5 + 4 / 64);
    expect(quantizationOf({ kind: 'nf4', doubleQuant: true }).bytesPerParam).toBeCloseTo(0.5 + 1 / 64 + 4 / (64 * 256), 12);
  });

  it('GPTQ 4-bit, group 128: packed weights + fp16 scales + packed zeros per group', () => {
    expect(quantizationOf({ kind: 'gptq', bits: 4, groupSize: 128 }).bytesPerParam).toBeCloseTo(0.5 + 2 / 128 + 0.5 / 128, 12);
  });
});

describe("Axolotl's quantize_moe_experts", () => {
  it('quantises the routed experts too (bitsandbytes leaves 3-D expert parameters alone otherwise)', () => {
    const base = loadModel({ baseModel: 'Qwen/Qwen3-30B-A3B' });
    const nf4 = quantizationOf({ kind: 'nf4', doubleQuant: true });
    const plain = applyPeft(base, lora({ targets: { kind: 'names', names: ['q_proj'] }, quantization: nf4 }));
    const experts = applyPeft(base, lora({ targets: { kind: 'names', names: ['q_proj'] }, quantization: nf4, quantizeExperts: true }));
    const routed = (m: typeof base) => m.layers.flatMap((l) => l.linears).filter((l) => l.experts && !l.router);
    expect(routed(plain).every((l) => l.quantized === undefined)).toBe(true);
    expect(routed(experts).every((l) => l.quantized?.kind === 'nf4')).toBe(true);
    expect(trainableParameters(experts)).toBe(trainableParameters(plain));
  });
});

describe('a bitsandbytes base with 3-D routed experts says they stay unquantised (resolve.ts warnUnquantizedExperts)', () => {
  const qlora = { adapter: 'qlora', load_in_4bit: true, lora_r: 16, lora_alpha: 32, lora_target_linear: true, sequence_len: 1024, micro_batch_size: 1, bf16: true, flash_attention: true, simulation: { gpus: 1 } };
  const warned = (r: { result: { warnings: { message?: string; text?: string }[] } }) => JSON.stringify(r.result.warnings).includes('quantize_moe_experts: true quantises them');

  it('Qwen3-30B-A3B QLoRA warns and names the experts’ size; with quantize_moe_experts, or a dense model, it does not', async () => {
    const { run } = await import('../helpers/run.ts');
    const moe = await run({ ...qlora, base_model: 'Qwen/Qwen3-30B-A3B' });
    expect(warned(moe)).toBe(true);
    expect(JSON.stringify(moe.result.warnings)).toMatch(/routed experts of Qwen\/Qwen3-30B-A3B \(2\d\.\d\d B parameters/);
    expect(warned(await run({ ...qlora, base_model: 'Qwen/Qwen3-30B-A3B', quantize_moe_experts: true }))).toBe(false);
    expect(warned(await run({ ...qlora, base_model: 'Qwen/Qwen3-8B' }))).toBe(false);
  });
});
