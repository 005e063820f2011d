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
  bf16: boolean;
  tf32: boolean;
  masterWeights?: 'fp32' | 'bf16';
  mixedPrecisionPolicy?: { param_dtype?: Dtype; reduce_dtype?: Dtype };
}): Precision {
  const { strategy, bf16 } = opts;
  if (!bf16) {
    const all: Dtype = 'fp32';
    return {
      computeDtype: 'fp32', paramDtype: all, gradDtype: all, frozenDtype: all, optimizerBytesPerParam: 8,
      gatherDtype: all, reduceDtype: all,
      rationale: 'bf16: false trains in fp32: 4 (param) + 4 (grad) + 8 (AdamW m, v) bytes/param',
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
  } else if (strategy === 'fsdp1') {
    persistent = 'fp32';
    rationale = 'FSDP1 under accelerate upcasts the sharded flat params to fp32; gathers and reduces in bf16';
  } else {
    persistent = 'bf16';
    rationale =
      strategy === 'fsdp2'
        ? "Axolotl's fsdp2_prepare_model does not upcast: bf16 sharded params, grads and AdamW states"
        : 'Axolotl loads bf16 weights and nothing upcasts them under DDP: AdamW states are bf16 too';
  }
  const gather = opts.mixedPrecisionPolicy?.param_dtype ?? 'bf16';
  // reduce_dtype=None means param_dtype (torch MixedPrecisionPolicy); accelerate builds bf16/bf16.
  const defaultReduce: Dtype = strategy === 'ddp' || strategy === 'single' ? persistent : 'bf16';
  const reduce = opts.mixedPrecisionPolicy?.reduce_dtype ?? defaultReduce;
  return {
    computeDtype: 'bf16',
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
export function adapterPrecision(base: Precision, peft: { adapterDtype: Dtype; kind: string }): Precision {
  const a = peft.adapterDtype;
  return {
    ...base,
    paramDtype: a,
    gradDtype: a,
    frozenDtype: base.paramDtype,
    optimizerBytesPerParam: 2 * bytesOf(a),
    rationale: `${base.rationale}; ${peft.kind}: frozen base in ${base.paramDtype}, ${a} adapters with ${a} gradients and AdamW states (PEFT autocast_adapter_dtype)`,
  };
}
