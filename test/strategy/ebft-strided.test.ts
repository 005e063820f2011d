import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';
import { ebftStridedPasses } from '../../src/config/ebft.ts';
import { ebftStridedModelFlops } from '../../src/model/flops.ts';
import type { SimulationRun } from '../../src/pipeline/simulate.ts';

// Llama-3.2-1B (h 2048, 16 layers, 32 heads of 64, V 128256; 60,817,408 projection weights a layer), 64-token
// documents, args.py defaults: stride 8, context 8, 8 generated tokens, 4 rollouts → NB = (64 − 8 − 8) // 8 + 1
// = 7 blocks, rows of L = 64 + 7·8 = 120 tokens, R = 56 generated positions through the head, BN = 4 rows.
const ebft = { base_model: 'meta-llama/Llama-3.2-1B', rl: 'ebft', ebft: { mode: 'strided' }, sequence_len: 64, micro_batch_size: 1, gradient_accumulation_steps: 1, bf16: true, gradient_checkpointing: true, gradient_checkpointing_kwargs: { use_reentrant: true } };
const lora = { adapter: 'lora', lora_r: 16, lora_alpha: 32, lora_target_linear: true };

const tasks = (r: SimulationRun, label: RegExp) => r.plan.tasks.filter((t) => label.test(t.tag.label));
const index = (r: SimulationRun, label: RegExp, phase?: string) => r.plan.tasks.findIndex((t) => label.test(t.tag.label) && (!phase || t.tag.phase === phase));
const lastIndex = (r: SimulationRun, label: RegExp) => r.plan.tasks.reduce((a, t, i) => (label.test(t.tag.label) ? i : a), -1);

describe('strided EBFT step (src/strategy/ebft-strided.ts)', () => {
  it('runs G no-grad generation forwards, the trained rows one by one, the feature forward, then one backward, last row first', async () => {
    const r = await run({ ...ebft, ...lora });
    const gen = tasks(r, /^generation step \d\/8 \(no grad\)$/);
    expect(gen).toHaveLength(8);
    // Each generation step waits for its dense mask, built by Python loops on the host.
    expect(tasks(r, /^generation step \d\/8: dense strided mask \(host loop\)$/)).toHaveLength(8);
    expect(tasks(r, /^layer \d+ \(row \d\/4\)$/).filter((t) => t.tag.phase === 'forward')).toHaveLength(4 * 16);
    expect(tasks(r, /^layer \d+ \(row \d\/4\)$/).filter((t) => t.tag.phase === 'recompute')).toHaveLength(4 * 16);
    expect(lastIndex(r, /^generation step/)).toBeLessThan(index(r, /^layer 0 \(row 1\/4\)$/, 'forward'));
    const feature = index(r, /^feature forward \(no grad\)$/);
    expect(feature).toBeGreaterThan(index(r, /^head: lm_head \+ chunked log_softmax \(row 4\/4\)$/));
    // The first backward is the last row's head (autograd runs the newest nodes first); row 1 comes last.
    const backward = r.plan.tasks.map((t, i) => [t, i] as const).filter(([t]) => t.tag.phase === 'backward');
    expect(backward[0]![0].tag.label).toBe('head (row 4/4)');
    expect(backward[0]![1]).toBeGreaterThan(feature);
    expect(backward[backward.length - 1]![0].tag.label).toBe('layer 0 (row 1/4)');
    expect(r.result.trainer).toMatchObject({ kind: 'ebft-strided', ebft: { blocks: 7, full_tokens: 120, log_prob_tokens: 56, trained_forward: 'per-row', feature_network: 'adapters-disabled' } });
  });

  it('builds each dense mask on the host: one fill per loop assignment at the no-grad per-kernel host cost', async () => {
    const r = await run({ ...ebft, ...lora });
    const seconds = (g: number) => r.timeline.spans.find((x) => x.tag.label === `generation step ${g}/8: dense strided mask (host loop)`)!;
    const span = (g: number) => seconds(g).end - seconds(g).start;
    // Before step 2 the loops make NB · 2 = 14 assignments, after full / tril / masked_fill / positions (4):
    // 18 launches at dgx-h100's 16.4 µs without autograd (the mask itself, 4 · 71² · 2 bytes, takes far less).
    expect(span(2)).toBeCloseTo(18 * 16.4e-6, 9);
    // Before step 8: 7 · (2·7 + 21) = 245 assignments.
    expect(span(8)).toBeCloseTo((245 + 4) * 16.4e-6, 9);
  });

  it('counts generation FLOPs by hand: step 1 is 4 rows × 64 tokens with eager attention over every score and logits everywhere', async () => {
    const r = await run(ebft);
    // 16 · 2 · 60,817,408 · 256 (projections) + 16 · 2 · 4 · 64² · 32 · 128 (QKᵀ and PV, dense) + 2 · 256 · 2048 · 128,256 (lm_head).
    expect(tasks(r, /^generation step 1\/8 \(no grad\)$/)[0]!.tag.flops).toBe(634_849_853_440);
    // A full fine-tune's feature network is a bf16 copy running flex_attention: L = 120 is one 128 × 128 block a row.
    // 16 · 2 · 60,817,408 · 480 + 16 · 2 · 4 · 128² · 32 · 128 + 2 · 480 · 2048 · 128,256.
    expect(tasks(r, /^feature forward \(no grad\)$/)[0]!.tag.flops).toBe(1_194_906_877_952);
    expect(tasks(r, /^feature forward: dense strided mask/)).toHaveLength(0);
  });

  it('model FLOPs count every pass in the PaLM convention, lm_head where it runs', async () => {
    const r = await run(ebft);
    const t = r.cfg.trainer;
    if (t.kind !== 'ebft-strided') throw new Error('not EBFT');
    // N = 16 · 60,817,408 + 128,256 · 2048 = 1,235,746,816 matmul weights; attention 2 · 16 · 32 · 128 = 131,072 per
    // token per key: generation Σ_g 4·(64 + 7g)·(2N + 131,072·(64 + 7g)) = 7,033,199,788,032; features
    // 480 · (2N + 131,072 · 120) = 1,193,866,690,560; a full fine-tune trains all rows at once with logits
    // everywhere: 480 · (6N + 3 · 131,072 · 120) = 3,581,600,071,680.
    expect(ebftStridedModelFlops(r.model, ebftStridedPasses(t, 1))).toBe(11_808_666_550_272);
    expect(r.result.throughput.tflops_per_gpu * 1e12 * r.result.step_time_s).toBeCloseTo(11_808_666_550_272, -3);
    // Under PEFT each row's lm_head runs over its 56 log-prob positions only: 4 · (120 − 56) · 6Vh fewer.
    const peft = await run({ ...ebft, ...lora });
    const pt = peft.cfg.trainer;
    if (pt.kind !== 'ebft-strided') throw new Error('not EBFT');
    const frozenHead = ebftStridedModelFlops(peft.model, ebftStridedPasses(pt, 1));
    expect(ebftStridedPasses(pt, 1).trained.headTokens).toBe(56);
    expect(ebftStridedPasses(t, 1).trained.headTokens).toBe(120);
    expect(frozenHead).toBeLessThan(11_808_666_550_272);
  });

  it('a full fine-tune trains the rows all at once (strided.py falls back when the model has no .model.model), logits everywhere', async () => {
    const r = await run(ebft);
    expect(tasks(r, /^layer 0 \(4 rows\)$/).map((t) => t.tag.phase)).toEqual(['forward', 'recompute', 'backward']);
    const head = tasks(r, /^head: lm_head \+ chunked log_softmax \(4 rows\)$/)[0]!;
    // Kept: the trainable RMSNorm's fp32 input and output and the lm_head input over 4 · 120 tokens
    // (480 · 2048 · (4 + 2 + 2)), the log-probs 4 · 56 · 128,256 · 4; transient: the 4 · 120 · 128,256 16-bit
    // logits and the fp32 chunk.
    expect(head.memory!.reduce((a, m) => a + m.bytes, 0)).toBe(7_864_320 + 114_917_376);
    expect(head.memory!.find((m) => m.at === 'end')!.bytes).toBe(-238_043_136);
  });

  it("keeps each trained row's head until backward: the final norm over L and the fp32 log-softmax of R positions", async () => {
    const r = await run({ ...ebft, ...lora });
    const head = tasks(r, /^head: lm_head \+ chunked log_softmax \(row 1\/4\)$/)[0]!;
    const net = head.memory!.reduce((a, m) => a + m.bytes, 0);
    // Frozen RMSNorm: its fp32 input copy (120 · 2048 · 4) and the lm_head input (120 · 2048 · 2); the log-probs
    // 56 · 128,256 · 4 = 28,729,344.
    expect(net).toBe(983_040 + 491_520 + 28_729_344);
  });

  it('a full fine-tune holds a bf16 copy of the model for the features; LoRA borrows its base weights', async () => {
    const full = await run(ebft);
    const sft = await run({ ...ebft, rl: undefined, ebft: undefined, simulation: { gpus: 1 } });
    expect(full.plan.persistentBytes.parameters - sft.plan.persistentBytes.parameters).toBe(full.result.model.parameters * 2);
    const peft = await run({ ...ebft, ...lora });
    const peftSft = await run({ ...ebft, ...lora, rl: undefined, ebft: undefined, simulation: { gpus: 1 } });
    expect(peft.plan.persistentBytes.parameters).toBe(peftSft.plan.persistentBytes.parameters);
  });

  it('the generation forwards dominate a short-document step; the trained rows outweigh the feature forward', async () => {
    const r = await run({ ...ebft, ...lora, sequence_len: 1024 });
    const seconds = (label: RegExp) => r.timeline.spans.filter((s) => label.test(s.tag.label)).reduce((a, s) => a + s.end - s.start, 0);
    const generation = seconds(/^generation step \d\/8 \(no grad\)$/);
    const feature = seconds(/^feature forward \(no grad\)$/);
    const trained = seconds(/\(row \d\/4\)$/);
    expect(generation).toBeGreaterThan(feature);
    expect(trained).toBeGreaterThan(feature);
    // Eager attention's score matrices make the last generation step longer than the first.
    const steps = r.timeline.spans.filter((s) => /^generation step \d\/8 \(no grad\)$/.test(s.tag.label));
    expect(steps[7]!.end - steps[7]!.start).toBeGreaterThan(steps[0]!.end - steps[0]!.start);
  });
});
