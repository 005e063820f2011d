import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/index.ts';
import { linearPath } from '../../src/model/peft.ts';

// Where each multimodal wrapper keeps its decoder (transformers 5 module names), as Axolotl's LoRA regexes spell it.
describe('language-model prefixes of multimodal wrappers', () => {
  const cases: [string, string, RegExp][] = [
    ['mistral-community/pixtral-12b', 'model.language_model.layers.0.self_attn.q_proj', /^model\.language_model\.layers\.[\d]+\.(mlp|cross_attn|self_attn)\.(up|down|gate|q|k|v|o)_proj$/],
    ['OpenGVLab/InternVL3_5-8B-HF', 'model.language_model.layers.0.self_attn.q_proj', /^model\.language_model\.layers\.[\d]+\.(mlp|cross_attn|self_attn)\.(up|down|gate|q|k|v|o)_proj$/],
    ['HuggingFaceTB/SmolVLM2-2.2B-Instruct', 'model.text_model.layers.0.self_attn.q_proj', /^model\.text_model\.layers\.[\d]+\.(mlp|cross_attn|self_attn)\.(up|down|gate|q|k|v|o)_proj$/],
    ['mistralai/Voxtral-Mini-3B-2507', 'language_model.model.layers.0.self_attn.q_proj', /^language_model\.model\.layers\.[\d]+\.(mlp|self_attn)\.(up|down|gate|q|k|v|o)_proj$/],
  ];
  for (const [id, path, axolotlRegex] of cases) {
    it(`${id}: ${path}, and the example config's regex reaches all seven projections`, () => {
      const m = loadModel({ baseModel: id });
      const q = m.layers[0]!.linears.find((l) => l.name === 'q_proj')!;
      expect(linearPath(0, q, m)).toBe(path);
      expect(m.layers[0]!.linears.filter((l) => axolotlRegex.test(linearPath(0, l, m)))).toHaveLength(7);
      expect(m.omitted?.length).toBe(1);
    });
  }
});
