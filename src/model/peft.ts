/**
 * Parameter-efficient fine-tuning as PEFT and bitsandbytes set it up, applied to a model description:
 *
 * - Quantised bases (`load_in_4bit` / `load_in_8bit`, transformers' `replace_with_bnb_linear`): every
 *   nn.Linear of the decoder layers becomes a bnb Linear4bit / Linear8bitLt holding its weight in the
 *   quantised storage; the output layer (lm_head) is kept in the model dtype (`get_keys_to_not_convert`), as
 *   are embeddings and norms. Routed experts stored as 3-D parameters are not nn.Linear and stay unquantised.
 * - LoRA (peft/tuners/lora): `inject_adapter` matches `target_modules` against module names — a list matches
 *   by name suffix (`key.endswith("." + target)`), a string is a regex full-matched against the module path,
 *   "all-linear" (Axolotl `lora_target_linear`) targets every linear but the output layer — and wraps each
 *   match in a lora.Linear with A (r × in) and B (out × r). `_mark_only_adapters_as_trainable` freezes every
 *   other parameter (bias="none"). `modules_to_save` wraps a module in ModulesToSaveWrapper: a trainable
 *   copy beside the frozen original.
 *
 * Module paths for regexes are synthesised as transformers names decoder layers: `model.layers.<i>.self_attn.
 * <name>` for the token mixer's projections and `model.layers.<i>.mlp.<name>` for the feed-forward's.
 */
import type { LayerSpec, LinearSpec, ModelSpec, WeightQuantization } from './types.ts';
import { rebuildLayers } from './layer.ts';

export type LoraTargets = { kind: 'names'; names: readonly string[] } | { kind: 'regex'; pattern: string } | { kind: 'all-linear' } | { kind: 'none' };

export interface PeftOptions {
  r: number;
  dropout: boolean;
  dora: boolean;
  targets: LoraTargets;
  /**
   * `target_parameters` (Axolotl `lora_target_parameters`): parameter names matched by suffix, for routed
   * experts that transformers holds as 3-D parameters (PEFT's ParamWrapper: A and B per expert).
   */
  parameters?: readonly string[];
  /** `modules_to_save` names (embed_tokens / lm_head and their family aliases). */
  modulesToSave: readonly string[];
  /** `layers_to_transform`: only these decoder layers get adapters (all when absent). */
  layersToTransform?: readonly number[];
  quantization?: WeightQuantization;
  /** Quantise the routed experts' 3-D parameters as well (Axolotl quantize_moe_experts). */
  quantizeExperts?: boolean;
  /** Axolotl's fused LoRA kernels in use (`lora_qkv_kernel`, `lora_o_kernel`, `lora_mlp_kernel`, after auto-enabling). */
  fusedKernels?: { qkv: boolean; o: boolean; mlp: boolean };
  /** The adapters are kept in fp32 while the matmuls run in 16 bits (PEFT `autocast_adapter_dtype`). */
  upcastAdapters?: boolean;
}

/**
 * Which projections of a layer Axolotl's fused kernels take over (axolotl `monkeypatch/lora_kernels.py`
 * `apply_lora_kernel_patches`): LoRA_QKV when the attention module has q_proj, k_proj, v_proj (optional) and
 * o_proj and every one of q/k/v carries LoRA; LoRA_O when o_proj does; LoRA_MLP when the MLP has gate_proj,
 * up_proj and down_proj (`find_mlp_in_layer`; SwiGLU / GeGLU) and all three carry LoRA. Anything else stays on
 * PEFT's path.
 */
function kernelGroups(layer: LayerSpec, linears: LinearSpec[], k: NonNullable<PeftOptions['fusedKernels']>): Map<LinearSpec, NonNullable<NonNullable<LinearSpec['lora']>['kernel']>> {
  const out = new Map<LinearSpec, NonNullable<NonNullable<LinearSpec['lora']>['kernel']>>();
  const named = (part: LinearSpec['part'], name: string) => linears.find((l) => l.part === part && l.name === name && !l.experts && l.branch !== 'parallel');
  const group = (members: LinearSpec[], g: 'qkv' | 'o' | 'mlp') => {
    if (members.length > 0 && members.every((l) => l.lora)) members.forEach((l, i) => out.set(l, { group: g, lead: i === 0 }));
  };
  if (layer.mixer?.kind === 'attention') {
    const [q, kk, v, o] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => named('attention', n));
    if (q && kk && o) {
      if (k.qkv) group([q, kk, ...(v ? [v] : [])], 'qkv');
      if (k.o) group([o], 'o');
    }
  }
  if (k.mlp && layer.ffn?.kind === 'dense' && layer.ffn.gated) {
    const mlp = ['gate_proj', 'up_proj', 'down_proj'].map((n) => named('mlp', n));
    if (mlp.every((l) => l)) group(mlp as LinearSpec[], 'mlp');
  }
  return out;
}

const EMBEDDING_NAMES = new Set(['embed_tokens', 'wte', 'embed_in', 'word_embeddings', 'tok_embeddings', 'embeddings']);
// `score`: the head of AutoModelForSequence/TokenClassification (src/config/trainer.ts), in lm_head's place.
const LM_HEAD_NAMES = new Set(['lm_head', 'embed_out', 'output', 'score']);

/**
 * Where transformers puts the decoder layers and their token-mixer / feed-forward modules, by model type (the
 * `modeling_<type>.py` attribute names); the rest use `model.layers.<i>.self_attn` / `.mlp`. A multimodal
 * wrapper (Gemma 3, Mllama, Mistral 3, LLaVA, Qwen2-VL … in transformers 5) nests the decoder under
 * `model.language_model` (ModelSpec.languageModelPrefix).
 */
const MODULE_PATHS: Readonly<Record<string, { layers: string; attention: string; mlp: string; recurrent?: string }>> = {
  gpt2: { layers: 'transformer.h', attention: 'attn', mlp: 'mlp' },
  gptj: { layers: 'transformer.h', attention: 'attn', mlp: 'mlp' },
  qwen: { layers: 'transformer.h', attention: 'attn', mlp: 'mlp' },
  falcon: { layers: 'transformer.h', attention: 'self_attention', mlp: 'mlp' },
  mpt: { layers: 'transformer.blocks', attention: 'attn', mlp: 'ffn' },
  dbrx: { layers: 'transformer.blocks', attention: 'norm_attn_norm.attn', mlp: 'ffn' },
  gpt_neox: { layers: 'gpt_neox.layers', attention: 'attention', mlp: 'mlp' },
  llama4_text: { layers: 'model.layers', attention: 'self_attn', mlp: 'feed_forward' },
  jamba: { layers: 'model.layers', attention: 'self_attn', mlp: 'feed_forward', recurrent: 'mamba' },
  falcon_h1: { layers: 'model.layers', attention: 'self_attn', mlp: 'feed_forward', recurrent: 'mamba' },
  nemotron_h: { layers: 'backbone.layers', attention: 'mixer', mlp: 'mixer', recurrent: 'mixer' },
  kimi_linear: { layers: 'model.layers', attention: 'self_attn', mlp: 'mlp', recurrent: 'self_attn' },
  lfm2: { layers: 'model.layers', attention: 'self_attn', mlp: 'feed_forward', recurrent: 'conv' },
  qwen3_next: { layers: 'model.layers', attention: 'self_attn', mlp: 'mlp', recurrent: 'linear_attn' },
  qwen3_5_text: { layers: 'model.layers', attention: 'self_attn', mlp: 'mlp', recurrent: 'linear_attn' },
  qwen3_5_moe_text: { layers: 'model.layers', attention: 'self_attn', mlp: 'mlp', recurrent: 'linear_attn' },
};
const DEFAULT_PATHS: { layers: string; attention: string; mlp: string; recurrent?: string } = { layers: 'model.layers', attention: 'self_attn', mlp: 'mlp' };

/** transformers' parameter names outside the decoder layers, by model type (the rest: `model.embed_tokens` …). */
const ROOT_NAMES: Readonly<Record<string, { embedding: string; finalNorm: string; lmHead: string }>> = {
  gpt2: { embedding: 'transformer.wte', finalNorm: 'transformer.ln_f', lmHead: 'lm_head' },
  gptj: { embedding: 'transformer.wte', finalNorm: 'transformer.ln_f', lmHead: 'lm_head' },
  qwen: { embedding: 'transformer.wte', finalNorm: 'transformer.ln_f', lmHead: 'lm_head' },
  falcon: { embedding: 'transformer.word_embeddings', finalNorm: 'transformer.ln_f', lmHead: 'lm_head' },
  mpt: { embedding: 'transformer.wte', finalNorm: 'transformer.norm_f', lmHead: 'lm_head' },
  gpt_neox: { embedding: 'gpt_neox.embed_in', finalNorm: 'gpt_neox.final_layer_norm', lmHead: 'embed_out' },
  nemotron_h: { embedding: 'backbone.embeddings', finalNorm: 'backbone.norm_f', lmHead: 'lm_head' },
};

/** Module paths of the parts outside the projections, for name-based selection (Axolotl unfrozen_parameters). */
export function moduleNames(model: Pick<ModelSpec, 'modelType' | 'languageModelPrefix'>): { layers: string; embedding: string; finalNorm: string; lmHead: string } {
  const root = model.languageModelPrefix;
  const names = root ? { embedding: `${root}.embed_tokens`, finalNorm: `${root}.norm`, lmHead: 'lm_head' } : ROOT_NAMES[model.modelType] ?? { embedding: 'model.embed_tokens', finalNorm: 'model.norm', lmHead: 'lm_head' };
  return { layers: root ? `${root}.layers` : (MODULE_PATHS[model.modelType] ?? DEFAULT_PATHS).layers, ...names };
}

/** The module path transformers gives a projection of decoder layer `i` (see the file comment). */
export function linearPath(i: number, l: LinearSpec, model?: Pick<ModelSpec, 'modelType' | 'languageModelPrefix' | 'layers'>): string {
  const paths = (model && MODULE_PATHS[model.modelType]) || DEFAULT_PATHS;
  const layers = model?.languageModelPrefix ? `${model.languageModelPrefix}.layers` : paths.layers;
  const layer = model?.layers[i];
  const recurrent = l.part === 'attention' && (l.branch === 'parallel' || (layer?.mixer && layer.mixer.kind !== 'attention'));
  const module = l.module ?? (l.part === 'mlp' ? paths.mlp : recurrent ? (paths.recurrent ?? 'mixer') : paths.attention);
  return module ? `${layers}.${i}.${module}.${l.name}` : `${layers}.${i}.${l.name}`;
}

/** Whether LoRA targets this projection of layer `i`. */
export function isTargeted(targets: LoraTargets, i: number, l: LinearSpec, model?: Pick<ModelSpec, 'modelType' | 'languageModelPrefix' | 'layers'>): boolean {
  if (targets.kind === 'none') return false;
  if (targets.kind === 'all-linear') return !l.experts && !l.router;
  // Routed experts held as 3-D parameters (transformers 5 `experts.gate_up_proj` / `down_proj`) are not
  // modules, so no target_modules name or regex reaches them: only target_parameters does (PEFT ParamWrapper).
  if (l.experts && !l.experts.linear) return false;
  if (targets.kind === 'names') return targets.names.some((t) => t === l.name || linearPath(i, l, model).endsWith(`.${t}`));
  return new RegExp(`^(?:${targets.pattern})$`).test(linearPath(i, l, model));
}

/**
 * Whether a bitsandbytes load (load_in_4bit / load_in_8bit) quantises this projection: nn.Linear modules only
 * — not the router (a plain parameter in transformers' TopKRouter), and routed experts only when they are
 * nn.Linear (Llama 4 linearised) or Axolotl's `quantize_moe_experts` quantises their 3-D parameters on load.
 */
export function bitsandbytesQuantizes(l: LinearSpec, quantizeExperts: boolean): boolean {
  return !l.router && (!l.experts || l.experts.linear === true || quantizeExperts);
}

/** A copy of the model with frozen, quantised and adapted projections (see the file comment). */
export function applyPeft(model: ModelSpec, opts: PeftOptions): ModelSpec {
  const layers = rebuildLayers(model.layers, (layer, i) => {
    const adapt = opts.layersToTransform === undefined || opts.layersToTransform.includes(i);
    const linears = layer.linears.map((l): LinearSpec => {
      const out: LinearSpec = { ...l, frozen: true };
      if (opts.quantization && bitsandbytesQuantizes(l, opts.quantizeExperts ?? false)) out.quantized = opts.quantization;
      const byParameter = l.experts !== undefined && (opts.parameters ?? []).some((t) => linearPath(i, l, model).endsWith(`.${t}`) || l.name === t);
      // PEFT's ParamWrapper has no dropout slot (Axolotl patches it to nn.Identity for the experts).
      if (adapt && byParameter) out.lora = { r: opts.r, dropout: false, dora: false };
      else if (adapt && isTargeted(opts.targets, i, l, model)) out.lora = { r: opts.r, dropout: opts.dropout, dora: opts.dora };
      return out;
    });
    const kernels = opts.fusedKernels ? kernelGroups(layer, linears, opts.fusedKernels) : new Map();
    for (const l of linears) {
      if (!l.lora) continue;
      const kernel = kernels.get(l);
      if (kernel) l.lora = { ...l.lora, kernel };
      else if (opts.upcastAdapters && !l.quantized && !l.experts) l.lora = { ...l.lora, castsInput: true };
    }
    return { ...layer, linears };
  });
  return {
    ...model,
    layers,
    peft: {
      frozenBase: true,
      trainableCopies: {
        embedding: opts.modulesToSave.some((m) => EMBEDDING_NAMES.has(m)),
        lmHead: opts.modulesToSave.some((m) => LM_HEAD_NAMES.has(m)),
      },
    },
  };
}

/** Parameters of one LoRA adapter (A: r × in, B: out × r; DoRA adds a magnitude vector of `out`), all experts. */
export function loraParams(l: LinearSpec): number {
  if (!l.lora) return 0;
  return (l.experts?.count ?? 1) * (l.lora.r * (l.in + l.out) + (l.lora.dora ? l.out : 0));
}

/** Whether any projection of the model carries a LoRA adapter. */
export function hasAdapters(model: ModelSpec): boolean {
  return model.layers.some((layer) => layer.linears.some((l) => l.lora));
}
