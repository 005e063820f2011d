/**
 * Axolotl's adapter keys → what PEFT and bitsandbytes will build (axolotl `loaders/adapter.py`
 * `_build_peft_lora_config`, `loaders/model.py` `_set_quantization_config`, `utils/schemas/peft.py`):
 *
 * - `adapter: lora | qlora`; qlora requires `load_in_4bit` (schemas/peft.py `validate_qlora`); lora with
 *   `load_in_8bit` quantises the base to LLM.int8.
 * - `lora_r` / `lora_alpha` go to LoraConfig as they are (PEFT's defaults r = 8, alpha = 8 when absent);
 *   `lora_dropout` defaults to 0.0 (`validate_lora_dropout`).
 * - Targets: `lora_target_modules` (a list matched by name suffix, or a string PEFT treats as a regex) plus,
 *   with `lora_target_linear`, every linear module name but the output layer (`find_all_linear_names`).
 * - `load_in_4bit` (qlora): BitsAndBytesConfig(nf4, double quantisation, compute dtype = torch_dtype,
 *   quant storage bf16); `bnb_config_kwargs` may override quant type and double quantisation.
 * - PEFT upcasts adapter weights to fp32 (`autocast_adapter_dtype=True`) unless
 *   `peft_autocast_adapter_dtype: false`.
 */
import { ShardsimError } from '../util/errors.ts';
import type { Dtype } from '../util/dtype.ts';
import type { LoraTargets, WeightQuantization } from '../model/index.ts';
import { quantizationOf } from '../model/quantization.ts';
import type { ScenarioInput } from './schema.ts';

export interface PeftConfig {
  kind: 'lora' | 'qlora';
  r: number;
  alpha: number;
  dropout: number;
  dora: boolean;
  rslora: boolean;
  targets: LoraTargets;
  /** lora_target_parameters: routed experts' 3-D parameters by name. */
  parameters: string[];
  modulesToSave: string[];
  layersToTransform?: number[];
  /** Quantised base storage from load_in_4bit / load_in_8bit (a pre-quantised checkpoint is read with the model). */
  quantization?: WeightQuantization;
  /**
   * Axolotl `quantize_moe_experts` (monkeypatch/moe_quant.py patch_moe_quantization_on_load): the routed
   * experts' 3-D parameters, which bitsandbytes leaves alone (they are not nn.Linear), are quantised on load too.
   */
  quantizeExperts: boolean;
  /** Dtype of the adapter weights, their gradients and optimizer states. */
  adapterDtype: Dtype;
  /** Axolotl's fused LoRA kernels switched on (explicitly or by Axolotl's auto-enabling). */
  fusedKernels: { qkv: boolean; o: boolean; mlp: boolean; auto: boolean };
}

/** What decides whether Axolotl turns its fused LoRA kernels on by itself. */
export interface KernelContext {
  /** More than one GPU (Axolotl reads WORLD_SIZE). */
  multiGpu: boolean;
  /** `fsdp_config` present, and `fsdp_version` 2. */
  fsdpConfig: boolean;
  fsdp2: boolean;
  /** The run is Axolotl's (simulation.framework); another framework runs PEFT's own modules. */
  axolotl: boolean;
}

/**
 * Axolotl's `check_auto_enable_lora_kernels` (utils/schemas/config.py at 067b021c): for `adapter: lora|qlora`
 * with none of lora_{mlp,qkv,o,embedding}_kernel set, not 8-bit LoRA, not `trust_remote_code`, not an RL
 * trainer (`if data.get("rl"): return data`, "RL trainers not tested so don't enable kernels by default"), on one GPU, multi-GPU without `fsdp_config`, or FSDP2, all four are switched on.
 */
export function resolveLoraKernels(s: ScenarioInput, adapter: 'lora' | 'qlora', ctx: KernelContext): PeftConfig['fusedKernels'] {
  const keys = [s.lora_mlp_kernel, s.lora_qkv_kernel, s.lora_o_kernel, s.lora_embedding_kernel];
  const anySet = keys.some((v) => v !== undefined && v !== null);
  const auto =
    ctx.axolotl && !anySet && !s.rl && !(adapter === 'lora' && s.load_in_8bit === true) && s.trust_remote_code !== true && (!ctx.multiGpu || !ctx.fsdpConfig || ctx.fsdp2);
  return { qkv: auto || s.lora_qkv_kernel === true, o: auto || s.lora_o_kernel === true, mlp: auto || s.lora_mlp_kernel === true, auto };
}

/** PEFT LoraConfig defaults (peft/tuners/lora/config.py): r = 8, lora_alpha = 8. */
const PEFT_DEFAULT_R = 8;
const PEFT_DEFAULT_ALPHA = 8;

export function resolvePeft(s: ScenarioInput, half: 'bf16' | 'fp16' | undefined, kernels: KernelContext): PeftConfig | undefined {
  const adapter = s.adapter;
  if (adapter === undefined || adapter === null || adapter === '') {
    if (s.load_in_4bit || s.load_in_8bit) {
      throw new ShardsimError('a quantised base cannot be fully fine-tuned (its weights have no gradients)', { key: s.load_in_4bit ? 'load_in_4bit' : 'load_in_8bit', fix: 'add adapter: qlora (4-bit) or adapter: lora (8-bit), or remove the key' });
    }
    return undefined;
  }
  if (adapter !== 'lora' && adapter !== 'qlora') {
    throw new ShardsimError(`adapter "${adapter}" is not modelled`, { key: 'adapter', fix: 'use lora or qlora, or remove adapter for a full fine-tune' });
  }
  if (adapter === 'qlora' && !s.load_in_4bit) {
    throw new ShardsimError('qlora needs a 4-bit base (Axolotl refuses it otherwise)', { key: 'load_in_4bit', fix: 'set load_in_4bit: true, or use adapter: lora' });
  }
  if (adapter === 'qlora' && s.load_in_8bit) {
    throw new ShardsimError("qlora can't load the base in 8 bits (Axolotl refuses it)", { key: 'load_in_8bit', fix: 'use load_in_4bit: true with qlora, or adapter: lora with load_in_8bit' });
  }
  const targets: string[] = s.lora_target_modules === undefined || s.lora_target_modules === null ? [] : Array.isArray(s.lora_target_modules) ? s.lora_target_modules : [s.lora_target_modules];
  let lora: LoraTargets;
  if (s.lora_target_linear) lora = { kind: 'all-linear' };
  else if (typeof s.lora_target_modules === 'string') lora = { kind: 'regex', pattern: s.lora_target_modules };
  else if (targets.length > 0) lora = { kind: 'names', names: targets };
  else if ((s.lora_target_parameters ?? []).length > 0) lora = { kind: 'none' };
  else {
    throw new ShardsimError('no LoRA target modules', { key: 'lora_target_modules', fix: 'list the modules (e.g. [q_proj, v_proj]) or set lora_target_linear: true' });
  }
  const bnb = (s.bnb_config_kwargs ?? {}) as Record<string, unknown>;
  const quantType = typeof bnb.bnb_4bit_quant_type === 'string' ? bnb.bnb_4bit_quant_type : 'nf4';
  const doubleQuant = typeof bnb.bnb_4bit_use_double_quant === 'boolean' ? bnb.bnb_4bit_use_double_quant : true;
  let quantization: WeightQuantization | undefined;
  if (s.load_in_4bit) quantization = quantizationOf({ kind: quantType === 'fp4' ? 'fp4' : 'nf4', doubleQuant });
  else if (s.load_in_8bit) quantization = quantizationOf({ kind: 'int8' });
  const adapterDtype: Dtype = !half || s.peft_autocast_adapter_dtype !== false ? 'fp32' : half;
  return {
    kind: adapter,
    r: s.lora_r ?? PEFT_DEFAULT_R,
    alpha: s.lora_alpha ?? PEFT_DEFAULT_ALPHA,
    dropout: s.lora_dropout ?? 0,
    dora: s.peft_use_dora === true,
    rslora: s.peft_use_rslora === true,
    targets: lora,
    parameters: s.lora_target_parameters === undefined || s.lora_target_parameters === null ? [] : Array.isArray(s.lora_target_parameters) ? s.lora_target_parameters : [s.lora_target_parameters],
    modulesToSave: s.lora_modules_to_save ?? [],
    ...(s.peft_layers_to_transform ? { layersToTransform: s.peft_layers_to_transform } : {}),
    ...(quantization ? { quantization } : {}),
    quantizeExperts: quantization !== undefined && s.quantize_moe_experts === true,
    adapterDtype,
    fusedKernels: resolveLoraKernels(s, adapter, kernels),
  };
}
