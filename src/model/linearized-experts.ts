/**
 * Axolotl's `llama4_linearized_experts` (axolotl `monkeypatch/models/llama4/modeling.py`, applied by
 * `loaders/patch_manager.py`): Llama 4's fused 3-D expert parameters become one nn.Linear per expert for
 * gate, up and down (`gate_projs`, `up_projs`, `down_projs`), run in a Python loop over the experts — so
 * bitsandbytes quantises them like any nn.Linear and LoRA can target them by module name. Other model types
 * are not patched.
 */
import { rebuildLayers } from './layer.ts';
import type { LinearSpec, ModelSpec } from './types.ts';

export function linearizeExperts(model: ModelSpec): ModelSpec {
  if (model.modelType !== 'llama4_text') return model;
  const layers = rebuildLayers(model.layers, (layer) => {
    if (layer.ffn?.kind !== 'moe') return layer;
    const linears = layer.linears.flatMap((l): LinearSpec[] => {
      if (!l.experts) return [l];
      const experts = { ...l.experts, linear: true };
      if (l.tp === 'rowwise') return [{ ...l, name: 'experts.down_projs', experts }];
      const width = l.out / 2;
      return [
        { ...l, name: 'experts.gate_projs', out: width, experts },
        { ...l, name: 'experts.up_projs', out: width, experts },
      ];
    });
    return { ...layer, linears };
  });
  return { ...model, layers };
}
