/**
 * Kernel replacements Axolotl can switch on, and the loss implementation they imply:
 *
 * - torch.compile fuses every elementwise chain (norms, rotary, activation) and lets AOTAutograd's min-cut
 *   partitioner recompute cheap elementwise results in backward instead of saving them.
 * - Liger (axolotl integrations/liger, linkedin/Liger-Kernel): `liger_rms_norm` / `liger_layer_norm`,
 *   `liger_glu_activation` (SwiGLU/GeGLU), `liger_rope` swap in fused Triton kernels;
 *   `liger_cross_entropy` computes the loss and writes the logits' gradient in place during forward;
 *   `liger_fused_linear_cross_entropy` also fuses the lm_head matmul, chunking the tokens so that only one
 *   chunk of logits ever exists (ops/fused_linear_cross_entropy.py).
 * - Cut Cross-Entropy (`cut_cross_entropy`, axolotl integrations/cut_cross_entropy, apple/ml-cross-entropy
 *   `linear_cross_entropy`): the log-sum-exp is computed blockwise from the hidden states and the lm_head
 *   weight without materialising logits; backward recomputes the logit blocks.
 * - `chunked_cross_entropy` (Axolotl's chunked loss, as torchtune's CEWithChunkedOutputLoss): the logits are
 *   upcast to fp32 one chunk at a time (`chunked_cross_entropy_num_chunks`, default 8). Axolotl
 *   (monkeypatch/loss/chunked.py) splits the full logits tensor the model's lm_head produced; outside Axolotl
 *   (simulation.framework: other) the key stands for torchtune's recipe, whose model projects each chunk of
 *   hidden states on its own (torchtune/modules/transformer.py `TransformerDecoder.chunked_output`), so every
 *   logits chunk is a separate tensor with its own backward.
 */
import type { Fusion } from '../compute/elementwise.ts';

export type LossImpl = 'hf' | 'liger_ce' | 'liger_flce' | 'cce' | 'chunked';

export interface KernelChoices {
  /** torch.compile is on: inductor fuses the elementwise ops around the GEMMs (PEFT's LoRA casts, scale and add). */
  compiled: boolean;
  /** The loss is compiled too (src/config/kernels.ts `resolveKernels`); false: it runs eagerly on fp32 logits. */
  compiledLoss: boolean;
  fusion: Fusion;
  /** Which of the fused kernels also change what is saved for backward (Liger's, or compile's partitioner). */
  fusedSaves: Fusion;
  loss: LossImpl;
  lossChunks: number;
  /** 'chunked' with the logits computed per chunk (torchtune `chunked_output`) rather than split from one tensor. */
  chunkedOutput?: boolean;
}

export interface KernelInput {
  torch_compile?: boolean | 'auto' | null;
  liger_rms_norm?: boolean | null;
  liger_layer_norm?: boolean | null;
  liger_glu_activation?: boolean | null;
  liger_rope?: boolean | null;
  liger_cross_entropy?: boolean | null;
  liger_fused_linear_cross_entropy?: boolean | null;
  cut_cross_entropy?: boolean | null;
  chunked_cross_entropy?: boolean | null;
  chunked_cross_entropy_num_chunks?: number | null;
}

const LIGER_KEYS = ['liger_rms_norm', 'liger_layer_norm', 'liger_glu_activation', 'liger_rope', 'liger_cross_entropy', 'liger_fused_linear_cross_entropy'] as const;

/**
 * Axolotl keeps a plugin's keys only when the plugin is listed in `plugins:` (integrations/config.py merges
 * each listed plugin's args model into the schema; utils/config/__init__.py `validate_config` drops the rest),
 * and listing CutCrossEntropyPlugin switches `cut_cross_entropy` on by default (integrations/cut_cross_entropy/
 * args.py). A run outside Axolotl (simulation.framework: other) reads the keys as they are.
 */
export function applyPlugins(s: KernelInput & { plugins?: readonly string[] | null }, axolotl: boolean, warnings: string[]): KernelInput {
  if (!axolotl) return s;
  const plugins = (s.plugins ?? []).map(String);
  const listed = (name: string) => plugins.some((p) => p === name || p.endsWith(`.${name}`));
  const out: KernelInput = { ...s };
  if (!listed('LigerPlugin')) {
    for (const k of LIGER_KEYS) {
      if (out[k] === true) warnings.push(`${k}: not applied — Axolotl drops Liger's keys unless plugins lists axolotl.integrations.liger.LigerPlugin`);
      delete out[k];
    }
  }
  if (listed('CutCrossEntropyPlugin')) out.cut_cross_entropy = s.cut_cross_entropy ?? true;
  else {
    if (out.cut_cross_entropy === true) warnings.push('cut_cross_entropy: not applied — Axolotl drops it unless plugins lists axolotl.integrations.cut_cross_entropy.CutCrossEntropyPlugin');
    delete out.cut_cross_entropy;
  }
  return out;
}

/**
 * Whether torch.compile covers the loss. Under Axolotl (HF Trainer) it does: the compiled module is the whole
 * causal-LM, whose forward computes the loss (transformers `ForCausalLMLoss`). Outside it, frameworks differ
 * and `simulation.compile_loss` says: torchtune compiles its loss (`training.compile_loss`); torchtitan
 * compiles the transformer blocks, and its loss only before 2024-12-18 (commit e8977b0, train.py: "TODO:
 * compiling loss function causes CUDA errors, turning off for now") and again from 2025-08-20 when
 * `compile.components` lists "loss" (#1608). Default: compiled with the model.
 */
export function resolveKernels(s: KernelInput, axolotl = true, compileLoss?: boolean): KernelChoices {
  // `torch_compile: auto` is true on torch ≥ 2.5.1 (axolotl utils/schemas/config.py), which Axolotl pins.
  const compiled = s.torch_compile === true || s.torch_compile === 'auto';
  const compiledLoss = compiled && (axolotl || compileLoss !== false);
  const fusion: Fusion = {
    norm: compiled || s.liger_rms_norm === true || s.liger_layer_norm === true,
    rope: compiled || s.liger_rope === true,
    activation: compiled || s.liger_glu_activation === true,
  };
  const loss: LossImpl = s.cut_cross_entropy
    ? 'cce'
    : s.liger_fused_linear_cross_entropy
      ? 'liger_flce'
      : s.liger_cross_entropy
        ? 'liger_ce'
        : s.chunked_cross_entropy
          ? 'chunked'
          : 'hf';
  return { compiled, compiledLoss, fusion, fusedSaves: fusion, loss, lossChunks: s.chunked_cross_entropy_num_chunks ?? 8, ...(loss === 'chunked' && !axolotl ? { chunkedOutput: true } : {}) };
}
