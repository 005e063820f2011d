/**
 * The families the loader understands: Hugging Face `model_type` → a normaliser that turns that family's
 * config.json into a ModelSpec (src/model/types.ts), with the transformers config class's defaults.
 */
import type { ConfigReader } from '../config-keys.ts';
import type { ModelSpec } from '../types.ts';
import { gpt2 } from './gpt2.ts';
import { gptNeox } from './gpt-neox.ts';
import { llamaLike } from './llama.ts';
import { mpt } from './mpt.ts';
import { dbrx } from './dbrx.ts';
import { glm4 } from './glm.ts';
import { ernie45 } from './ernie.ts';
import { llamaMoe } from './moe.ts';
import { nemotronH } from './nemotron-h.ts';
import { qwen3_5 } from './qwen3-5.ts';
import { gemma4Text } from './gemma4.ts';
import { lfm2 } from './lfm2.ts';
import { kimiLinear } from './kimi-linear.ts';
import { gemma3nText } from './gemma3n.ts';
import { gemma } from './gemma.ts';
import { falconH1, jamba } from './hybrid.ts';
import { deepseek, glm4Moe, gptOss, llama4Text, mimo, minimaxM2 } from './moe-families.ts';
import { falcon, gptj, llamaUpDown, nemotron, olmo, phi, phi3, qwen1, seedOss, stablelm, starcoder2 } from './dense.ts';

export type FamilyNormaliser = (r: ConfigReader) => ModelSpec;

export const FAMILIES: Readonly<Record<string, FamilyNormaliser>> = {
  llama: (r) => llamaLike(r, 'llama'),
  mistral: (r) => llamaLike(r, 'mistral'),
  qwen2: (r) => llamaLike(r, 'qwen2'),
  qwen3: (r) => llamaLike(r, 'qwen3'),
  mixtral: (r) => llamaMoe(r, 'mixtral'),
  qwen2_moe: (r) => llamaMoe(r, 'qwen2_moe'),
  qwen3_moe: (r) => llamaMoe(r, 'qwen3_moe'),
  gemma: (r) => gemma(r, 'gemma'),
  gemma2: (r) => gemma(r, 'gemma2'),
  gemma3_text: (r) => gemma(r, 'gemma3_text'),
  phi,
  phi3,
  gptj,
  falcon,
  stablelm,
  starcoder2,
  olmo2: (r) => olmo(r, 'olmo2'),
  olmo3: (r) => olmo(r, 'olmo3'),
  seed_oss: seedOss,
  qwen: qwen1,
  nemotron,
  arcee: (r) => llamaUpDown(r, 'arcee'),
  apertus: (r) => llamaUpDown(r, 'apertus'),
  gpt_oss: gptOss,
  deepseek_v2: (r) => deepseek(r, 'deepseek_v2'),
  deepseek_v3: (r) => deepseek(r, 'deepseek_v3'),
  glm4_moe_lite: (r) => deepseek(r, 'glm4_moe_lite'),
  glm4_moe: glm4Moe,
  minimax_m2: minimaxM2,
  llama4_text: llama4Text,
  mimo,
  falcon_h1: falconH1,
  jamba,
  mpt,
  nemotron_h: nemotronH,
  gpt2,
  gpt_neox: gptNeox,
  dbrx,
  glm4: (r) => glm4(r, 'glm4'),
  glm4v_text: (r) => glm4(r, 'glm4v_text'),
  ernie4_5: ernie45,
  qwen3_next: (r) => qwen3_5(r, 'qwen3_next'),
  qwen3_5_text: (r) => qwen3_5(r, 'qwen3_5_text'),
  qwen3_5_moe_text: (r) => qwen3_5(r, 'qwen3_5_moe_text'),
  gemma4_text: gemma4Text,
  lfm2,
  kimi_linear: kimiLinear,
  gemma3n_text: gemma3nText,
};
