/**
 * ernie4_5 (Baidu ERNIE-4.5 dense, transformers modeling_ernie4_5.py; the decoder of PaddleOCR-VL): a Llama
 * layer — q/k/v/o, SwiGLU gate/up/down, two RMSNorms — whose biases on every projection follow one key,
 * `use_bias` (Ernie4_5Config default false). RoPE (3-D mRoPE in PaddleOCR-VL) adds no parameters.
 */
import { ConfigReader } from '../config-keys.ts';
import type { ModelSpec } from '../types.ts';
import { llamaLike } from './llama.ts';

export function ernie45(r: ConfigReader): ModelSpec {
  const bias = r.optBool('use_bias', false);
  const spec = llamaLike(new ConfigReader({ ...r.cfg, attention_bias: bias, mlp_bias: bias }, r.id), 'llama');
  return { ...spec, modelType: 'ernie4_5' };
}
