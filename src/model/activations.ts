/**
 * Activation memory saved for backward by one decoder layer (no recomputation), after Korthikanti et al. 2022,
 * "Reducing Activation Recomputation in Large Transformer Models" (arXiv:2205.05198), §4.1. For a GPT layer with
 * 16-bit activations, 1-byte dropout masks and a 4h GELU MLP their count is s·b·h·(34 + 5·a·s/h) bytes:
 *
 *   attention 11·sbh + 5·a·s²·b : QKV input 2sbh, Q and K 4sbh, V 2sbh, softmax output 2as²b,
 *                                 softmax-dropout mask as²b, dropout output (AV input) 2as²b,
 *                                 out-projection input 2sbh, out-dropout mask sbh
 *   MLP       19·sbh            : fc1 input 2sbh, GELU input 8sbh, fc2 input 8sbh, dropout mask sbh
 *   norms      4·sbh            : the two LayerNorm inputs, 2sbh each
 *
 * We list those tensors one by one and generalise them:
 *   - element size p (bytesPerElement) instead of 2; dropout masks are 1 byte and exist only with `dropout`
 *     (off by default: Llama/Mistral/Qwen train with dropout 0, and then the softmax output is itself the AV
 *     input, so the s² term is p·a·s²·b instead of 5·a·s²·b);
 *   - GQA: K and V are a_kv·d wide, Q and the attention output a·d wide (= h for MHA);
 *   - SwiGLU MLP, out = down(silu(gate(x)) ⊙ up(x)): saved are gate(x) (SiLU backward), silu(gate(x)) and up(x)
 *     (the ⊙ backward needs both operands) and their product (down_proj input): 4·s·b·I elements, plus the
 *     shared gate/up input. The GELU MLP keeps GELU input and output: 2·s·b·I (= 16sbh bytes at I=4h, p=2);
 *   - flash attention (Dao et al. 2022) never materialises the a·s² scores; it keeps the output (already counted
 *     as the out-projection input) and the per-row logsumexp, b·a·s fp32 values;
 *   - parallel residual (gpt_neox): both norms read the same layer input, stored once;
 *   - norm statistics (mean/rstd, b·s fp32 each) are ignored, as in the paper.
 * Parallelism (paper §4.2.2–4.2.3): with tensor parallel t, tensors split by heads or MLP columns are /t; the
 * h-wide tensors (norm inputs, QKV/MLP inputs, dropout masks) are replicated, i.e. sbh(10 + 24/t + 5as/(ht)),
 * unless sequence parallelism shards them along s, giving sbh/t·(34 + 5as/h). Context parallel c gives every
 * rank s/c of the tokens; its queries still see all s keys, so a non-flash score matrix is a·(s/c)·s·b.
 */
import { headWidth } from './params.ts';
import { shardedLinear } from './flops.ts';
import { recurrentCore } from './recurrent.ts';
import type { LayerSpec, LinearSpec, ModelSpec, MoeFfn } from './types.ts';

export interface ActivationOptions {
  microBatch: number;
  seqLen: number;
  flashAttention: boolean;
  bytesPerElement?: number;
  tp?: number;
  cp?: number;
  sequenceParallel?: boolean;
  /** Dropout masks and post-dropout copies are kept (1 byte per mask element). Default false. */
  dropout?: boolean;
  /**
   * Count what the eager Hugging Face transformers modules really save (default false: the paper's count).
   * - LlamaRMSNorm (modeling_llama.py) upcasts its input (`hidden_states.to(torch.float32)`), and pow/mul
   *   save that fp32 copy; `self.weight * hidden_states.to(input_dtype)` saves the 16-bit normalized tensor
   *   for the weight's gradient, and its product is the next linear's input: fp32 input + normalized + output
   *   per norm (torchtitan, torchtune and litgpt RMSNorms do the same). nn.LayerNorm runs in fp32 under
   *   autocast (an fp32-list op, aten/src/ATen/autocast_mode.cpp), so native_layer_norm saves an fp32 copy of
   *   its input; its fp32 output is cast again by the next linear, which saves the 16-bit cast. Autocast casts
   *   each call's input anew, so a parallel-residual layer (gpt_neox) keeps two fp32 copies.
   * - Eager attention (`eager_attention_forward`): `repeat_kv` materialises K and V at the query width, the
   *   softmax runs in fp32 (`softmax(..., dtype=torch.float32)`, saved for its backward) and its 16-bit cast is
   *   saved by the P·V matmul. FlashAttention-2 takes GQA K/V as they are (no repeat).
   */
  transformersEager?: boolean;
  /**
   * Norm weights are frozen (PEFT): `weight * normalized` no longer saves the normalized tensor (MulBackward
   * keeps an operand only when the other one needs a gradient, torch/csrc/autograd derivatives.yaml `mul`).
   */
  frozenNorms?: boolean;
  /**
   * Fused norm / activation kernels (Liger's Triton kernels, or torch.compile's partitioner): a fused RMSNorm or
   * LayerNorm saves its 16-bit input and the per-row 1/rms (fp32) instead of the fp32 copy and the normalized
   * tensor (Liger ops/rms_norm.py `LigerRMSNormFunction` saves X and RSTD); a fused SwiGLU saves gate and up and
   * recomputes silu(gate) in backward (ops/swiglu.py), so its activation output is not kept.
   */
  fusedNorm?: boolean;
  fusedActivation?: boolean;
}

export interface ActivationTensor {
  name: string;
  bytes: number;
}

/**
 * Whether a projection keeps its input for backward. A linear's MmBackward saves its input only to compute
 * the weight's gradient (derivatives.yaml `mm`: self is saved when mat2 requires grad): a trainable weight
 * needs it; a frozen one does not, unless its quantised matmul keeps it anyway. A LoRA adapter's A matmul
 * needs x (or, with dropout, its own dropout(x) copy, counted with the adapter).
 */
function keepsInput(l: LinearSpec): boolean {
  // Axolotl's fused LoRA kernels save their group's input X themselves (ctx.save_for_backward(X, X_drop, …)).
  if (l.lora?.kernel) return true;
  return !l.frozen || (l.lora !== undefined && !l.lora.dropout && !l.lora.castsInput);
}

/**
 * What a LoRA adapter adds (peft/tuners/lora/layer.py `Linear.forward`: lora_B(lora_A(dropout(x))) * scaling):
 * with lora_dropout > 0 each adapted projection has its own nn.Dropout, whose output (saved by A) and 1-byte
 * mask are new tensors; A's output (tokens × r) is saved for B's weight gradient. Adapter activations are in
 * the compute dtype (autocast runs the fp32 adapter matmuls in bf16).
 */
function adapterTensors(l: LinearSpec, name: string, tokens: number, inLocal: number, p: number): ActivationTensor[] {
  if (!l.lora) return [];
  const t: ActivationTensor[] = [];
  if (l.lora.kernel) {
    // Fused kernels (axolotl kernels/lora.py): one dropout(X) per group, and X·A recomputed in backward
    // (`A @ X_lora_t`), so nothing per adapter.
    if (l.lora.dropout && l.lora.kernel.lead) t.push({ name: `${l.lora.kernel.group}.lora_dropout_output`, bytes: tokens * inLocal * p });
    return t;
  }
  if (l.lora.dropout) t.push({ name: `${name}.lora_dropout_output`, bytes: tokens * inLocal * p }, { name: `${name}.lora_dropout_mask`, bytes: tokens * inLocal });
  else if (l.lora.castsInput) t.push({ name: `${name}.lora_input_cast`, bytes: tokens * inLocal * p });
  t.push({ name: `${name}.lora_A_output`, bytes: tokens * l.lora.r * p });
  return t;
}

/** The tensors one decoder layer saves for backward, per rank, in bytes (see the file comment for each term). */
export function activationTensorsPerLayer(layer: LayerSpec, opts: ActivationOptions): ActivationTensor[] {
  const p = opts.bytesPerElement ?? 2;
  const tp = opts.tp ?? 1;
  const cp = opts.cp ?? 1;
  const sp = opts.sequenceParallel ?? false;
  const dropout = opts.dropout ?? false;
  const b = opts.microBatch;
  const sLocal = opts.seqLen / cp;
  const tokens = b * sLocal;
  const h = layer.hiddenSize;
  // h-wide tensors: replicated across TP ranks unless sequence parallel shards them along s.
  const hWide = (tokens * h) / (sp ? tp : 1);

  const hf = opts.transformersEager ?? false;
  // A 16-bit norm input upcast to fp32 is a 4-byte copy; in fp32 training it is the input itself.
  // A fused norm keeps its 16-bit input plus one fp32 statistic per row (normalised per token below).
  const fusedNorm = opts.fusedNorm ?? false;
  const normInputBytes = fusedNorm ? p + 4 / Math.max(1, layer.hiddenSize) : hf ? Math.max(p, 4) : p;
  const rms = hf && !fusedNorm && layer.norms[0]?.kind === 'rmsnorm' && !opts.frozenNorms;
  const part = (x: 'attention' | 'mlp') => layer.linears.filter((l) => l.part === x && l.branch !== 'parallel');
  const lora = (ls: LinearSpec[]) => ls.flatMap((l) => adapterTensors(l, l.name, tokens, shardedLinear(l, tp).in, p));

  const t: ActivationTensor[] = [];
  const attn = layer.mixer?.kind === 'attention' ? layer.mixer : undefined;
  if (attn) {
    const heads = attn.numHeads / tp;
    const qWidth = heads * attn.headDim;
    const kvWidth = Math.ceil(attn.numKvHeads / tp) * attn.headDim;
    const vWidth = Math.ceil(attn.numKvHeads / tp) * attn.vHeadDim;
    const oWidth = heads * attn.vHeadDim;
    const linears = part('attention');
    const inputs = linears.slice(0, -1);
    const out = linears[linears.length - 1];
    // Eager attention repeats GQA K/V to every query head; flash kernels read the grouped K/V directly.
    const repeat = hf && !opts.flashAttention;
    t.push({ name: 'attn_norm_input', bytes: hWide * normInputBytes });
    if (rms) t.push({ name: 'attn_norm_normalized', bytes: hWide * p });
    if (inputs.some(keepsInput)) t.push({ name: 'qkv_input', bytes: hWide * p });
    t.push(...lora(inputs));
    if (attn.qkNorm) {
      // Per-head RMSNorm on q and k (Qwen3, Gemma 3, OLMo 2/3): the fp32 input copy, and the normalized tensor
      // when the norm weight trains; its output is the q / k attention reads.
      t.push({ name: 'q_norm_input', bytes: tokens * qWidth * normInputBytes }, { name: 'k_norm_input', bytes: tokens * kvWidth * normInputBytes });
      if (rms) t.push({ name: 'qk_norm_normalized', bytes: tokens * (qWidth + kvWidth) * p });
    }
    t.push({ name: 'q', bytes: tokens * qWidth * p });
    t.push({ name: 'k', bytes: tokens * (repeat ? qWidth : kvWidth) * p });
    t.push({ name: 'v', bytes: tokens * (repeat ? oWidth : vWidth) * p });
    if (opts.flashAttention) {
      t.push({ name: 'softmax_lse', bytes: b * heads * sLocal * 4 });
    } else {
      const scores = b * heads * sLocal * opts.seqLen;
      if (hf && p < 4) t.push({ name: 'softmax_output_fp32', bytes: scores * 4 });
      t.push({ name: 'softmax_output', bytes: scores * p });
      if (dropout) {
        t.push({ name: 'attn_dropout_mask', bytes: scores });
        t.push({ name: 'attn_dropout_output', bytes: scores * p });
      }
    }
    // The attention output: flash kernels save it for their own backward; eager attention's P·V product is
    // kept only when the output projection needs it.
    if (opts.flashAttention || !out || keepsInput(out)) t.push({ name: 'o_proj_input', bytes: tokens * oWidth * p });
    if (out) t.push(...lora([out]));
    if (dropout) t.push({ name: 'attn_out_dropout_mask', bytes: hWide });
  }
  if (layer.mixer && layer.mixer.kind !== 'attention') {
    // SSM / linear attention / convolution (src/model/recurrent.ts): the norm, the in-projections' input,
    // what the core keeps, and the out-projection's input.
    const linears = part('attention');
    const out = linears.find((l) => l.tp === 'rowwise');
    const inputs = linears.filter((l) => l !== out);
    t.push({ name: 'mixer_norm_input', bytes: hWide * normInputBytes });
    if (rms) t.push({ name: 'mixer_norm_normalized', bytes: hWide * p });
    if (inputs.some(keepsInput)) t.push({ name: 'mixer_input', bytes: hWide * p });
    t.push(...lora(inputs));
    t.push(...recurrentCore(layer.mixer, tokens, tp, p).saved);
    if (out && keepsInput(out)) t.push({ name: 'mixer_out_input', bytes: tokens * shardedLinear(out, tp).in * p });
    if (out) t.push(...lora([out]));
  }
  if (layer.parallelMixer) {
    // Falcon-H1: the parallel Mamba-2 reads the same normalised input; its projections and core save alongside.
    const linears = layer.linears.filter((l) => l.branch === 'parallel');
    const out = linears.find((l) => l.tp === 'rowwise');
    const inputs = linears.filter((l) => l !== out);
    t.push(...lora(inputs));
    t.push(...recurrentCore(layer.parallelMixer, tokens, tp, p).saved.map((x) => ({ ...x, name: `parallel_${x.name}` })));
    if (out && keepsInput(out)) t.push({ name: 'parallel_mixer_out_input', bytes: tokens * shardedLinear(out, tp).in * p });
    if (out) t.push(...lora([out]));
  }
  const ffn = layer.ffn;
  if (ffn) {
    const linears = part('mlp');
    // A parallel-residual layer's MLP norm reads the same input as the attention norm (stored once, unless
    // autocast casts it anew for each call).
    if (!attn || !layer.parallelResidual || (hf && p < 4)) t.push({ name: 'mlp_norm_input', bytes: hWide * normInputBytes });
    if (rms) t.push({ name: 'mlp_norm_normalized', bytes: hWide * p });
    if (ffn.kind === 'dense') {
      const down = linears.find((l) => l.tp === 'rowwise');
      const inputs = linears.filter((l) => l !== down);
      if (inputs.some(keepsInput)) t.push({ name: 'mlp_input', bytes: hWide * p });
      t.push(...lora(inputs));
      const I = down ? shardedLinear(down, tp).in : ffn.intermediate / tp;
      // LoRA_MLP saves X, gate and up and recomputes act(gate)·up in backward (axolotl kernels/lora.py).
      const kernel = down?.lora?.kernel?.group === 'mlp';
      t.push(...mlpTensors('', ffn.gated, tokens, I, p, !kernel && (!down || keepsInput(down)), kernel || (opts.fusedActivation ?? false)));
      if (down) t.push(...lora([down]));
    } else {
      t.push(...moeTensors(ffn, linears, { tokens, hWide, h, tp, p, lora, fusedActivation: opts.fusedActivation ?? false }));
    }
    if (dropout) t.push({ name: 'mlp_dropout_mask', bytes: hWide });
  }
  for (const x of layer.extraSaved ?? []) t.push({ name: x.name, bytes: ((tokens * x.elementsPerToken) / (sp ? tp : 1)) * p });
  return t;
}

/** An MLP's saved intermediates for `rows` rows of width I (gated: gate, up, act; plain: act input), and the down input. */
function mlpTensors(prefix: string, gated: boolean, rows: number, I: number, p: number, downInput: boolean, fused: boolean): ActivationTensor[] {
  const t: ActivationTensor[] = gated
    ? [{ name: `${prefix}gate_output`, bytes: rows * I * p }, { name: `${prefix}up_output`, bytes: rows * I * p }, ...(fused ? [] : [{ name: `${prefix}act_output`, bytes: rows * I * p }])]
    : [{ name: `${prefix}act_input`, bytes: rows * I * p }];
  if (downInput) t.push({ name: `${prefix}down_input`, bytes: rows * I * p });
  return t;
}

/**
 * What a routed-experts block saves (transformers MoE blocks with the grouped_mm / eager experts functions):
 * the router input (for the router's weight gradient), the fp32 routing softmax (its backward needs the
 * output) and the top-k weights, the tokens gathered into expert order (tokens·topK rows, for the experts'
 * weight gradients), each routed row's MLP intermediates, and every expert output row (the top-k weights'
 * gradient is the dot product with it). Shared experts save like a dense MLP.
 */
function moeTensors(
  ffn: MoeFfn,
  linears: LinearSpec[],
  c: { tokens: number; hWide: number; h: number; tp: number; p: number; lora: (ls: LinearSpec[]) => ActivationTensor[]; fusedActivation: boolean },
): ActivationTensor[] {
  const { tokens, hWide, h, tp, p } = c;
  const router = linears.find((l) => l.router);
  const gateUp = linears.find((l) => l.experts && l.tp === 'colwise');
  const down = linears.find((l) => l.experts && l.tp === 'rowwise');
  const shared = linears.filter((l) => !l.router && !l.experts);
  const rows = tokens * (ffn.denseDispatch ? ffn.numExperts : ffn.topK);
  const I = ffn.expertIntermediate / tp;
  const t: ActivationTensor[] = [];
  if ((router && keepsInput(router)) || shared.some(keepsInput)) t.push({ name: 'mlp_input', bytes: hWide * p });
  t.push({ name: 'router_probs', bytes: tokens * ffn.numExperts * 4 }, { name: 'topk_weights', bytes: rows * 4 });
  if (!gateUp || keepsInput(gateUp)) t.push({ name: 'experts_input', bytes: rows * h * p });
  if (gateUp) t.push(...c.lora([gateUp]));
  t.push(...mlpTensors('experts_', ffn.gated, rows, I, p, !down || keepsInput(down), c.fusedActivation));
  if (down) t.push(...c.lora([down]));
  t.push({ name: 'experts_output', bytes: rows * h * p });
  if (ffn.sharedIntermediate > 0) {
    const sharedDown = shared.find((l) => l.tp === 'rowwise');
    t.push(...c.lora(shared.filter((l) => l !== sharedDown)));
    t.push(...mlpTensors('shared_', ffn.gated, tokens, ffn.sharedIntermediate / tp, p, !sharedDown || keepsInput(sharedDown), c.fusedActivation));
    if (sharedDown) t.push(...c.lora([sharedDown]));
  }
  return t;
}

/** Bytes one decoder layer keeps for backward without activation checkpointing, per rank. */
export function activationBytesPerLayer(layer: LayerSpec, opts: ActivationOptions): number {
  return activationTensorsPerLayer(layer, opts).reduce((sum, x) => sum + x.bytes, 0);
}

/**
 * With full activation checkpointing a layer keeps only its input, b·s·h elements (per rank: s/cp tokens,
 * and /tp when sequence parallel shards it), and recomputes the rest during backward.
 */
export function checkpointedLayerInputBytes(
  spec: { hiddenSize: number; checkpointedInputWidth?: number },
  opts: { microBatch: number; seqLen: number; bytesPerElement?: number; tp?: number; cp?: number; sequenceParallel?: boolean },
): number {
  const p = opts.bytesPerElement ?? 2;
  const tp = opts.tp ?? 1;
  const cp = opts.cp ?? 1;
  return (opts.microBatch * (opts.seqLen / cp) * (spec.checkpointedInputWidth ?? spec.hiddenSize) * p) / (opts.sequenceParallel ? tp : 1);
}

/**
 * The logits tensor b·s·V (per rank: vocab-parallel ceil(V/tp) columns, s/cp tokens). Returned as an element
 * count plus its size in bf16 and fp32, because the caller knows the dtype: HF models upcast logits to fp32
 * for the loss (`logits.float()`), so peak often holds both copies.
 */
export function logitsBytes(
  spec: ModelSpec,
  microBatch: number,
  seqLen: number,
  tp = 1,
  cp = 1,
): { elements: number; bf16Bytes: number; fp32Bytes: number } {
  const elements = microBatch * (seqLen / cp) * Math.ceil(headWidth(spec) / tp);
  return { elements, bf16Bytes: 2 * elements, fp32Bytes: 4 * elements };
}
