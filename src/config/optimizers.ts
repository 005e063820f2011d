/**
 * Axolotl's `optimizer` names → the optimizer that runs (transformers `OptimizerNames` as Trainer builds them
 * in `get_optimizer_cls_and_kwargs`, and Axolotl's custom ones in `core/builders/base.py`) and what it keeps
 * per trainable parameter. State storage is a format fact of each library:
 *
 * - torch AdamW (`adamw_torch`, `adamw_torch_fused`, `adamw_hf`, `adamw_apex_fused`, `optimi_adamw`): m and v
 *   allocated `zeros_like(p)`, so in the parameter dtype.
 * - bitsandbytes 8-bit (`adamw_bnb_8bit`, `adamw_8bit`, `paged_adamw_8bit`; bitsandbytes/optim/optimizer.py
 *   `Optimizer2State.init_state`): two uint8 states plus an fp32 absmax per 256-element block each; tensors
 *   under `min_8bit_size` = 4096 elements keep fp32 states. 32-bit ones (`paged_adamw_32bit`) keep fp32 states
 *   whatever the parameter dtype. Paged variants allocate states in CUDA unified memory (`get_paged`).
 * - torchao (`adamw_torch_8bit` / `ao_adamw_8bit`, `adamw_torch_4bit` / `ao_adamw_4bit`, `ao_adamw_fp8`;
 *   torchao/optim/adam.py, subclass_8bit/4bit/fp8.py): 8-bit codes + fp32 scale per 256 (block_size 256),
 *   packed 4-bit codes + fp32 scale per 128, fp8 codes + fp32 scale per 256; tensors under 4096 elements (or not
 *   a multiple of the block) keep `zeros_like(p)`.
 * - Lion keeps one state; SGD without momentum (HF Trainer's default) none; HF Adafactor (beta1 None) keeps
 *   only the factored row and column second moments of each matrix (negligible) and a full one for vectors.
 * - Muon (Axolotl contribs/mit/muon): one momentum buffer for the hidden 2-D matrices, orthogonalised by
 *   Newton–Schulz iterations each step; embeddings, head, norms and biases step with AdamW.
 */
import { ShardsimError } from '../util/errors.ts';
import type { Dtype } from '../util/dtype.ts';
import { bytesOf } from '../util/dtype.ts';

export type StateStorage = 'param' | 'fp32' | 'int8-block256' | 'int4-block128' | 'fp8-block256';

export interface OptimizerSpec {
  /** The Axolotl / transformers name. */
  name: string;
  /** What runs: the class, for reports. */
  implementation: string;
  family: 'adamw' | 'lion' | 'sgd' | 'adafactor' | 'muon';
  /** Full-size state tensors per parameter (AdamW 2, Lion 1, SGD 0, Adafactor ~0, Muon 1). */
  states: number;
  storage: StateStorage;
  /** States live in CUDA unified memory (bitsandbytes paged optimizers). */
  paged: boolean;
  /**
   * How the step launches: one fused multi-tensor kernel ('fused'), one kernel per op over all tensors
   * (torch foreach, 'foreach'), or one (compiled or CUDA) kernel per parameter tensor ('per-tensor').
   */
  launches: 'fused' | 'foreach' | 'per-tensor';
}

const adamw = (name: string, implementation: string, storage: StateStorage, launches: OptimizerSpec['launches'], paged = false): OptimizerSpec => ({
  name, implementation, family: 'adamw', states: 2, storage, paged, launches,
});

export const OPTIMIZERS: Readonly<Record<string, OptimizerSpec>> = {
  adamw_torch_fused: adamw('adamw_torch_fused', 'torch.optim.AdamW(fused=True)', 'param', 'fused'),
  adamw_torch: adamw('adamw_torch', 'torch.optim.AdamW (foreach)', 'param', 'foreach'),
  adamw_hf: adamw('adamw_hf', 'torch.optim.AdamW (foreach)', 'param', 'foreach'),
  adamw: adamw('adamw', 'torch.optim.AdamW (foreach)', 'param', 'foreach'),
  adamw_apex_fused: adamw('adamw_apex_fused', 'apex FusedAdam', 'param', 'fused'),
  optimi_adamw: adamw('optimi_adamw', 'optimi.AdamW (foreach)', 'param', 'foreach'),
  adamw_bnb_8bit: adamw('adamw_bnb_8bit', 'bitsandbytes AdamW8bit', 'int8-block256', 'per-tensor'),
  adamw_8bit: adamw('adamw_8bit', 'bitsandbytes AdamW8bit', 'int8-block256', 'per-tensor'),
  paged_adamw_8bit: adamw('paged_adamw_8bit', 'bitsandbytes PagedAdamW8bit', 'int8-block256', 'per-tensor', true),
  paged_adamw_32bit: adamw('paged_adamw_32bit', 'bitsandbytes PagedAdamW32bit', 'fp32', 'per-tensor', true),
  paged_adamw: adamw('paged_adamw', 'bitsandbytes PagedAdamW', 'fp32', 'per-tensor', true),
  adamw_torch_8bit: adamw('adamw_torch_8bit', 'torchao AdamW8bit', 'int8-block256', 'per-tensor'),
  ao_adamw_8bit: adamw('ao_adamw_8bit', 'torchao AdamW8bit', 'int8-block256', 'per-tensor'),
  adamw_torch_4bit: adamw('adamw_torch_4bit', 'torchao AdamW4bit', 'int4-block128', 'per-tensor'),
  ao_adamw_4bit: adamw('ao_adamw_4bit', 'torchao AdamW4bit', 'int4-block128', 'per-tensor'),
  ao_adamw_fp8: adamw('ao_adamw_fp8', 'torchao AdamWFp8', 'fp8-block256', 'per-tensor'),
  lion_8bit: { name: 'lion_8bit', implementation: 'bitsandbytes Lion8bit', family: 'lion', states: 1, storage: 'int8-block256', paged: false, launches: 'per-tensor' },
  lion_32bit: { name: 'lion_32bit', implementation: 'bitsandbytes Lion', family: 'lion', states: 1, storage: 'fp32', paged: false, launches: 'per-tensor' },
  paged_lion_8bit: { name: 'paged_lion_8bit', implementation: 'bitsandbytes PagedLion8bit', family: 'lion', states: 1, storage: 'int8-block256', paged: true, launches: 'per-tensor' },
  paged_lion_32bit: { name: 'paged_lion_32bit', implementation: 'bitsandbytes PagedLion', family: 'lion', states: 1, storage: 'fp32', paged: true, launches: 'per-tensor' },
  sgd: { name: 'sgd', implementation: 'torch.optim.SGD (no momentum)', family: 'sgd', states: 0, storage: 'param', paged: false, launches: 'foreach' },
  adafactor: { name: 'adafactor', implementation: 'transformers Adafactor (factored, no first moment)', family: 'adafactor', states: 0, storage: 'fp32', paged: false, launches: 'per-tensor' },
  muon: { name: 'muon', implementation: 'Muon (Newton–Schulz) for hidden matrices, AdamW for the rest', family: 'muon', states: 1, storage: 'param', paged: false, launches: 'per-tensor' },
};

/** Bytes of one full-size optimizer state per parameter element. */
export function stateBytesPerElement(storage: StateStorage, paramDtype: Dtype): number {
  switch (storage) {
    case 'param':
      return bytesOf(paramDtype);
    case 'fp32':
      return 4;
    case 'int8-block256':
    case 'fp8-block256':
      return 1 + 4 / 256;
    case 'int4-block128':
      return 0.5 + 4 / 128;
  }
}

/** Optimizer state bytes per trainable parameter (the full-size states; small fp32 fallbacks are negligible). */
export function optimizerStateBytes(spec: OptimizerSpec, paramDtype: Dtype): number {
  return spec.states * stateBytesPerElement(spec.storage, paramDtype);
}

export function resolveOptimizer(name: string | undefined): OptimizerSpec {
  const key = name ?? 'adamw_torch_fused';
  const spec = OPTIMIZERS[key];
  if (!spec) {
    throw new ShardsimError(`optimizer "${key}" is not modelled`, { key: 'optimizer', fix: `use one of ${Object.keys(OPTIMIZERS).join(', ')}` });
  }
  return spec;
}
