import { linearPath, moduleNames } from './peft.ts';
import { rebuildLayers } from './layer.ts';
import type { LinearSpec, ModelSpec } from './types.ts';

/**
 * Axolotl's `unfrozen_parameters` on a full fine-tune (utils/freeze.py `freeze_layers_except`, called from
 * train.py after the model loads): every parameter is frozen, then those whose name matches one of the
 * patterns train again. A pattern is a Python regex applied with `re.match` (anchored at the start only)
 * after each `.` not followed by `+` is escaped (`LayerNamePattern`); an optional `[start:end]` suffix unfreezes
 * only those rows — the whole tensor still gets a gradient and optimizer state (a hook zeroes the other rows),
 * so it counts whole here.
 *
 * Names are transformers': `model.layers.<i>.self_attn.q_proj.weight`, `model.embed_tokens.weight`,
 * `lm_head.weight`, … (src/model/peft.ts linearPath / moduleNames). Norm weights follow one rule for the model:
 * they train when a pattern matches the final norm or the first layer's input norm.
 */
export function compileUnfrozenPattern(pattern: string): RegExp {
  const range = /^(.+)\[([0-9]*)(?::([0-9]*))?\]$/.exec(pattern);
  const base = range ? range[1]! : pattern;
  // Python's re.sub(r"\.(?!\+)", "\\.", pattern)
  const escaped = base.replace(/\.(?!\+)/g, '\\.');
  try {
    return new RegExp(`^(?:${escaped})`);
  } catch {
    return new RegExp(`^${escaped.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  }
}

/** A copy of the model in which only the parameters matching `patterns` train. */
export function applyUnfrozen(model: ModelSpec, patterns: readonly string[]): ModelSpec {
  const regexes = patterns.map(compileUnfrozenPattern);
  const matches = (name: string) => regexes.some((r) => r.test(name));
  const names = moduleNames(model);
  const layers = rebuildLayers(model.layers, (layer, i) => ({
    ...layer,
    linears: layer.linears.map((l): LinearSpec => {
      const path = linearPath(i, l, model);
      return { ...l, frozen: !(matches(`${path}.weight`) || (l.bias === true && matches(`${path}.bias`))) };
    }),
  }));
  return {
    ...model,
    layers,
    peft: {
      frozenBase: true,
      trainableCopies: { embedding: false, lmHead: false },
      trainsInPlace: {
        embedding: matches(`${names.embedding}.weight`),
        lmHead: !model.tiedEmbeddings && matches(`${names.lmHead}.weight`),
        norms: matches(`${names.finalNorm}.weight`) || matches(`${names.layers}.0.input_layernorm.weight`),
      },
    },
  };
}
