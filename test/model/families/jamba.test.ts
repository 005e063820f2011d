import { describe, expect, it } from 'vitest';
import { activeParameters, loadModel, parameterCounts } from '../../../src/model/index.ts';
import { applyPeft } from '../../../src/model/peft.ts';

describe('jamba', () => {
  it('AI21-Jamba-1.5-Large: 398.6 B total, 94.1 B active (paper: 398B / 94B); 9 attention layers of 72', () => {
    const m = loadModel({ baseModel: 'ai21labs/AI21-Jamba-1.5-Large' });
    expect(Math.round(parameterCounts(m).total / 1e9)).toBe(399);
    expect(Math.round(activeParameters(m) / 1e9)).toBe(94);
    expect(m.layers.filter((l) => l.mixer?.kind === 'attention')).toHaveLength(9);
  });

  it('target_modules names modules: the 3-D experts (experts.down_proj) are parameters and stay unadapted', () => {
    const m = applyPeft(loadModel({ baseModel: 'ai21labs/AI21-Jamba-1.5-Large' }), {
      r: 16, dropout: false, dora: false, modulesToSave: [],
      targets: { kind: 'names', names: ['down_proj', 'gate_proj', 'in_proj', 'k_proj', 'o_proj', 'out_proj', 'q_proj', 'up_proj', 'v_proj', 'x_proj'] },
    });
    const moe = m.layers.find((l) => l.ffn?.kind === 'moe')!;
    expect(moe.linears.filter((l) => l.experts).some((l) => l.lora)).toBe(false);
    const dense = m.layers.find((l) => l.ffn?.kind === 'dense')!;
    expect(dense.linears.filter((l) => l.part === 'mlp' && l.lora)).toHaveLength(3);
  });
});
