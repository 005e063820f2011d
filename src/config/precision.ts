import type { Dtype } from '../util/dtype.ts';
import { bytesOf } from '../util/dtype.ts';
import type { Precision, StrategyName } from './types.ts';

/**
 * Which dtype each tensor lives in, per strategy, as Axolotl + accelerate + PyTorch really run it:
 *
 * - `bf16: true` makes Axolotl load the weights in bf16 (axolotl `utils/config/__init__.py`
 *   normalize_config: `cfg.torch_dtype = torch.bfloat16`; `loaders/model.py` passes it as `torch_dtype`).
 * - DDP / one GPU: nothing upcasts them; accelerate only wraps forward in bf16 autocast. torch AdamW
 *   allocates `exp_avg`/`exp_avg_sq` with `zeros_like(p)` (torch/optim/adamw.py), so its states are bf16:
 *   2 (param) + 2 (grad) + 4 (m, v) = 8 bytes/param. DDP buckets are per dtype, so the AllReduce is bf16.
 * - FSDP2: upstream accelerate's `fsdp2_prepare_model` upcasts the model to fp32 under mixed precision,
 *   but Axolotl replaces that function (axolotl `monkeypatch/accelerate/fsdp2.py`, `patch_accelerate_fsdp2`)
 *   with one that has no upcast: sharded params, grads and AdamW states stay bf16. The policy is accelerate's
 *   `MixedPrecisionPolicy(param_dtype=bf16, reduce_dtype=bf16)`, so gathers and reduce-scatters are bf16.
 * - FSDP1: accelerate upcasts the flat params to fp32 and builds
 *   `MixedPrecision(param_dtype=bf16, reduce_dtype=bf16, buffer_dtype=bf16)` (accelerate `utils/dataclasses.py`
 *   FullyShardedDataParallelPlugin.set_mixed_precision): fp32 master params/grads/states, bf16 traffic.
 * - `bf16: false`: everything fp32, AdamW states 8 bytes/param (4 + 4 + 8 = 16 bytes/param).
 * - `simulation.master_weights: fp32` (mixed precision with fp32 master weights, as torchtitan or
 *   DeepSpeed's bf16 optimizer keep) or `bf16` (pure bf16) overrides the persistent dtypes.
 * - `fsdp_config.mixed_precision_policy: {param_dtype, reduce_dtype}` overrides the traffic dtypes.
 */
export function resolvePrecision(opts: {
  strategy: StrategyName;
  /** The 16-bit dtype of mixed precision (src/config/precision.ts `resolveDtypeFlags`); undefined: fp32. */
  half: 'bf16' | 'fp16' | undefined;
  tf32: boolean;
  masterWeights?: 'fp32' | 'bf16';
  mixedPrecisionPolicy?: { param_dtype?: Dtype; reduce_dtype?: Dtype };
}): Precision {
  const { strategy, half } = opts;
  if (!half) {
    const all: Dtype = 'fp32';
    return {
      computeDtype: 'fp32', paramDtype: all, gradDtype: all, frozenDtype: all, optimizerBytesPerParam: 8,
      gatherDtype: all, reduceDtype: all,
      ...(opts.tf32 ? { tf32Matmul: true } : {}),
      rationale: `no bf16/fp16: trains in fp32 (${opts.tf32 ? 'matmuls in TF32 on the tensor cores, ' : ''}4 (param) + 4 (grad) + 8 (AdamW m, v) bytes/param)`,
    };
  }
  let persistent: Dtype;
  let rationale: string;
  if (opts.masterWeights === 'fp32') {
    persistent = 'fp32';
    rationale = 'simulation.master_weights: fp32 keeps fp32 params/grads/AdamW states, bf16 compute';
  } else if (opts.masterWeights === 'bf16') {
    persistent = 'bf16';
    rationale = 'simulation.master_weights: bf16 trains pure bf16 (AdamW states in bf16)';
  } else if (half === 'fp16' && strategy !== 'fsdp1') {
    persistent = 'fp16';
    rationale = 'fp16: Axolotl loads fp16 weights (torch_dtype float16) under fp16 autocast with a GradScaler: fp16 params, grads and AdamW states';
  } else if (strategy === 'fsdp1') {
    persistent = 'fp32';
    rationale = `FSDP1 under accelerate upcasts the sharded flat params to fp32; gathers and reduces in ${half}`;
  } else {
    persistent = 'bf16';
    rationale =
      strategy === 'fsdp2'
        ? "Axolotl's fsdp2_prepare_model does not upcast: bf16 sharded params, grads and AdamW states"
        : 'Axolotl loads bf16 weights and nothing upcasts them under DDP: AdamW states are bf16 too';
  }
  const gather = opts.mixedPrecisionPolicy?.param_dtype ?? half;
  // reduce_dtype=None means param_dtype (torch MixedPrecisionPolicy); accelerate builds bf16/bf16 (fp16/fp16).
  const defaultReduce: Dtype = strategy === 'ddp' || strategy === 'single' ? persistent : half;
  const reduce = opts.mixedPrecisionPolicy?.reduce_dtype ?? defaultReduce;
  return {
    computeDtype: half,
    paramDtype: persistent,
    gradDtype: persistent,
    frozenDtype: persistent,
    optimizerBytesPerParam: 2 * bytesOf(persistent),
    gatherDtype: gather,
    reduceDtype: reduce,
    rationale,
  };
}

/**
 * Under PEFT the trainable parameters are the adapters: their weights, gradients and AdamW states are in the
 * adapter dtype (PEFT upcasts adapters to fp32 by default, `autocast_adapter_dtype`); the frozen base stays in
 * the dtype the strategy keeps parameters in (loaded bf16, or fp32 where FSDP1 upcasts the flat params).
 */
export function adapterPrecision(base: Precision, peft: { adapterDtype: Dtype; kind: string; modulesToSave?: readonly string[] }): Precision {
  const a = peft.adapterDtype;
  // modules_to_save: ModulesToSaveWrapper deep-copies the module as loaded (peft/utils/other.py), and
  // cast_adapter_dtype (peft/tuners/tuners_utils.py) upcasts only BaseTunerLayer adapters, so the trainable
  // copies keep the base dtype (Axolotl has already cast embed_tokens / lm_head back to torch_dtype for an
  // adapter: loaders/model.py _configure_embedding_dtypes).
  const copies = (peft.modulesToSave?.length ?? 0) > 0 && base.paramDtype !== a;
  return {
    ...base,
    paramDtype: a,
    gradDtype: a,
    frozenDtype: base.paramDtype,
    optimizerBytesPerParam: 2 * bytesOf(a),
    ...(copies ? { copyDtype: base.paramDtype } : {}),
    rationale: `${base.rationale}; ${peft.kind}: frozen base in ${base.paramDtype}, ${a} adapters with ${a} gradients and AdamW states (PEFT autocast_adapter_dtype)${copies ? `; modules_to_save copies, their gradients and states in ${base.paramDtype}` : ''}`,
  };
}

/** Axolotl's precision keys as written in a config. */
export interface DtypeKeys {
  bf16?: boolean | 'auto' | null;
  fp16?: boolean | null;
  bfloat16?: boolean | null;
  float16?: boolean | null;
  tf32?: boolean | 'auto' | null;
  load_in_8bit?: boolean | null;
}

/**
 * Axolotl's `resolve_dtype` (axolotl `utils/config/__init__.py`): `bf16: auto` becomes true on a GPU with bf16
 * (every bundled profile) unless fp16 is set; `bf16` clears fp16. The weights load in `torch_dtype`: bf16 when
 * bf16 or bfloat16, fp16 when fp16, float16 or load_in_8bit, else fp32. The trainer autocasts to bf16 / fp16
 * when `bf16` / `fp16` (core/builders/base.py `training_args_kwargs["fp16"] = fp16 and not bf16`); without
 * autocast the matmuls run in the loaded dtype. `tf32: true` sets `torch.backends.cuda.matmul` to TF32, so fp32
 * matmuls run on the tensor cores; `auto` is true on Ampere and later (every bundled profile).
 */
export function resolveDtypeFlags(k: DtypeKeys): { half: 'bf16' | 'fp16' | undefined; tf32: boolean; gradScaler: boolean } {
  const fp16Set = k.fp16 === true;
  const bf16 = k.bf16 === true || (k.bf16 === 'auto' && !fp16Set);
  const fp16 = fp16Set && !bf16;
  const torchDtype: Dtype = bf16 || k.bfloat16 === true ? 'bf16' : k.load_in_8bit === true || fp16 || k.float16 === true ? 'fp16' : 'fp32';
  const autocast: Dtype | undefined = bf16 ? 'bf16' : fp16 ? 'fp16' : undefined;
  const compute = autocast ?? torchDtype;
  return { half: compute === 'fp32' ? undefined : compute, tf32: k.tf32 === true || k.tf32 === 'auto', gradScaler: fp16 };
}
