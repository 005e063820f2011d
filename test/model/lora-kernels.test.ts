import { describe, expect, it } from 'vitest';
import { applyPeft, loadModel, type PeftOptions } from '../../src/model/index.ts';
import { activationTensorsPerLayer } from '../../src/model/activations.ts';
import { linearizeExperts } from '../../src/model/linearized-experts.ts';
import { layerGemms } from '../../src/model/flops.ts';
import { resolveLoraKernels } from '../../src/config/peft.ts';
import { loadScenarioText } from '../../src/config/index.ts';
import { simulateLoaded } from '../../src/pipeline/simulate.ts';

const lora = (over: Partial<PeftOptions>): PeftOptions => ({ r: 16, dropout: false, dora: false, targets: { kind: 'all-linear' }, modulesToSave: [], ...over });
const all = { qkv: true, o: true, mlp: true };
const llama = () => loadModel({ baseModel: 'meta-llama/Llama-3.1-8B' });

describe("Axolotl's auto-enabling of its fused LoRA kernels (check_auto_enable_lora_kernels)", () => {
  const ctx = { multiGpu: false, fsdpConfig: false, fsdp2: false, axolotl: true };
  it('switches all on for LoRA/QLoRA on one GPU, DDP and FSDP2', () => {
    expect(resolveLoraKernels({}, 'lora', ctx)).toEqual({ qkv: true, o: true, mlp: true, auto: true });
    expect(resolveLoraKernels({ load_in_4bit: true }, 'qlora', { ...ctx, multiGpu: true })).toMatchObject({ auto: true });
    expect(resolveLoraKernels({}, 'lora', { ...ctx, multiGpu: true, fsdpConfig: true, fsdp2: true })).toMatchObject({ auto: true });
  });
  it('not with FSDP1 on several GPUs, 8-bit LoRA, trust_remote_code, any kernel key set, or outside Axolotl', () => {
    expect(resolveLoraKernels({}, 'lora', { ...ctx, multiGpu: true, fsdpConfig: true })).toMatchObject({ qkv: false, auto: false });
    expect(resolveLoraKernels({ load_in_8bit: true }, 'lora', ctx)).toMatchObject({ qkv: false });
    expect(resolveLoraKernels({ trust_remote_code: true }, 'lora', ctx)).toMatchObject({ qkv: false });
    expect(resolveLoraKernels({ lora_mlp_kernel: false }, 'lora', ctx)).toEqual({ qkv: false, o: false, mlp: false, auto: false });
    expect(resolveLoraKernels({ lora_qkv_kernel: true }, 'lora', ctx)).toEqual({ qkv: true, o: false, mlp: false, auto: false });
    expect(resolveLoraKernels({}, 'lora', { ...ctx, axolotl: false })).toMatchObject({ auto: false, mlp: false });
  });
});

describe('which projections the kernels take over (apply_lora_kernel_patches)', () => {
  it('QKV only when q, k and v all carry LoRA; MLP only when gate, up and down do', () => {
    const qv = applyPeft(llama(), lora({ targets: { kind: 'names', names: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj'] }, fusedKernels: all }));
    const byName = new Map(qv.layers[0]!.linears.map((l) => [l.name, l.lora?.kernel?.group]));
    expect(byName.get('q_proj')).toBeUndefined();
    expect(byName.get('o_proj')).toBe('o');
    expect(byName.get('gate_proj')).toBeUndefined();
    const full = applyPeft(llama(), lora({ fusedKernels: all }));
    expect(full.layers[0]!.linears.map((l) => l.lora?.kernel?.group)).toEqual(['qkv', 'qkv', 'qkv', 'o', 'mlp', 'mlp', 'mlp']);
    expect(full.layers[0]!.linears.filter((l) => l.lora?.kernel?.lead).map((l) => l.name)).toEqual(['q_proj', 'o_proj', 'gate_proj']);
  });
});

describe('what the LoRA paths save for backward (one Llama-3.1-8B layer, 4096 tokens, bf16)', () => {
  const opts = { microBatch: 1, seqLen: 4096, flashAttention: true, bytesPerElement: 2, transformersEager: true, frozenNorms: true };
  const bytes = (m: ReturnType<typeof llama>) => activationTensorsPerLayer(m.layers[0]!, opts).reduce((a, t) => a + t.bytes, 0);
  const names = (m: ReturnType<typeof llama>) => activationTensorsPerLayer(m.layers[0]!, opts).map((t) => t.name);

  it('LoRA_MLP keeps X, gate and up, and recomputes act(gate)·up: 2 × tokens × I × 2 B less than PEFT', () => {
    const peft = applyPeft(llama(), lora({ upcastAdapters: false }));
    const fused = applyPeft(llama(), lora({ fusedKernels: all }));
    expect(names(fused)).not.toContain('act_output');
    expect(names(fused)).not.toContain('down_input');
    expect(names(fused).some((n) => n.includes('lora_A_output'))).toBe(false);
    const loraA = 16 * 4096 * 2 * 7;
    expect(bytes(peft) - bytes(fused)).toBe(2 * 4096 * 14336 * 2 + loraA);
  });

  it("PEFT with fp32 adapters over a 16-bit nn.Linear saves each adapted module's own 16-bit copy of x", () => {
    const shared = applyPeft(llama(), lora({ upcastAdapters: false }));
    const cast = applyPeft(llama(), lora({ upcastAdapters: true }));
    // q, k, v, gate, up: one copy each of the h-wide input instead of one shared; o one of h; down one of I.
    const extra = 4096 * 2 * (5 * 4096 + 4096 + 14336) - 4096 * 2 * (4096 + 4096 + 14336);
    expect(bytes(cast) - bytes(shared)).toBe(extra);
    // A 4-bit base skips the cast under autocast (bitsandbytes Linear4bit): x is shared again.
    const q = applyPeft(llama(), lora({ upcastAdapters: true, quantization: { kind: 'nf4', bytesPerParam: 0.5 } }));
    expect(bytes(q)).toBe(bytes(shared));
  });
});

describe('Llama 4 experts as transformers and Axolotl run them', () => {
  const scout = () => loadModel({ baseModel: 'meta-llama/Llama-4-Scout-17B-16E' });
  it('every expert computes every token (Llama4TextMoe repeats the tokens num_experts times)', () => {
    const layer = scout().layers[0]!;
    const gemms = layerGemms(layer, 1000);
    const experts = gemms.filter((g) => g.experts);
    expect(experts.length).toBeGreaterThan(0);
    for (const g of experts) expect(g.m).toBe(1000 * 16);
  });
  it('llama4_linearized_experts: one nn.Linear per expert (gate, up, down), quantised by load_in_4bit', () => {
    const lin = linearizeExperts(scout());
    const names = lin.layers[0]!.linears.filter((l) => l.experts).map((l) => l.name);
    expect(names).toEqual(['experts.gate_projs', 'experts.up_projs', 'experts.down_projs']);
    const q = applyPeft(lin, lora({ targets: { kind: 'names', names: ['q_proj'] }, quantization: { kind: 'nf4', bytesPerParam: 0.5 } }));
    expect(q.layers[0]!.linears.filter((l) => l.experts).every((l) => l.quantized)).toBe(true);
    const fused = applyPeft(scout(), lora({ targets: { kind: 'names', names: ['q_proj'] }, quantization: { kind: 'nf4', bytesPerParam: 0.5 } }));
    expect(fused.layers[0]!.linears.filter((l) => l.experts).some((l) => l.quantized)).toBe(false);
  });
});

describe('end to end: the kernels make a default Axolotl LoRA run faster and leaner', () => {
  const yaml = (extra: string) => `base_model: meta-llama/Llama-3.1-8B
adapter: lora
lora_r: 16
lora_target_linear: true
sequence_len: 4096
micro_batch_size: 1
bf16: true
flash_attention: true
simulation: {hardware: dgx-h100, gpus: 1}
${extra}`;
  it('auto-enabled kernels beat PEFT modules in time and memory, and the result says which ran', async () => {
    const auto = (await simulateLoaded(loadScenarioText(yaml(''), { name: 'auto' }))).result;
    const off = (await simulateLoaded(loadScenarioText(yaml('lora_mlp_kernel: false\nlora_qkv_kernel: false\nlora_o_kernel: false'), { name: 'off' }))).result;
    expect(auto.adapter).toMatchObject({ kind: 'lora', fused_kernels: ['qkv', 'o', 'mlp'], fused_kernels_auto: true, dtype: 'fp32' });
    expect(off.adapter?.fused_kernels).toEqual([]);
    expect(auto.step_time_s).toBeLessThan(off.step_time_s);
    expect(auto.memory.peak_bytes).toBeLessThan(off.memory.peak_bytes);
    expect(auto.model.trainable_parameters).toBe(off.model.trainable_parameters);
  });
});
