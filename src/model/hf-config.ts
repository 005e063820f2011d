/**
 * Normalise a Hugging Face `config.json` into a ModelSpec by its `model_type` (src/model/families/).
 * Defaults follow the transformers `*Config` classes, so a config.json that omits a key means what it
 * means to transformers (e.g. MptConfig.no_bias defaults to true, GPT2Config.n_inner=None means 4·n_embd).
 */
import { ShardsimError } from '../util/errors.ts';
import { ConfigReader, keyName } from './config-keys.ts';
import { FAMILIES } from './families/index.ts';
import { omittedTowers } from './towers.ts';
import type { ModelSpec } from './types.ts';

/**
 * Multimodal model types whose language model is a known family (used when `text_config` names no
 * model_type of its own, or when the config is flat): transformers' Qwen2-VL / Qwen2.5-VL wrap a Qwen2
 * decoder, Mllama a Llama decoder (its cross-attention layers see no image tokens here), LLaVA-style and
 * Mistral 3 / Pixtral models their text_config's family.
 */
const MULTIMODAL_TEXT_FAMILY: Readonly<Record<string, string>> = {
  qwen2_vl: 'qwen2',
  qwen2_5_vl: 'qwen2',
  mllama: 'llama',
  llava: 'llama',
  pixtral: 'mistral',
  mistral3: 'mistral',
  voxtral: 'llama',
  smolvlm: 'llama',
  idefics3: 'llama',
  internvl: 'qwen2',
  glm4v: 'glm4v_text',
  paddleocr_vl: 'ernie4_5',
  qwen3_5: 'qwen3_5_text',
  qwen3_5_moe: 'qwen3_5_moe_text',
  gemma4: 'gemma4_text',
  lfm2_vl: 'lfm2',
  gemma3n: 'gemma3n_text',
};

/**
 * transformers 5's vision-language models keep the decoder at `model.language_model` (e.g. Gemma3Model,
 * MllamaModel, LlavaModel, Mistral3Model, Qwen2VLModel), so Axolotl's LoRA regexes read
 * `model.language_model.layers.<i>.…`.
 */
const LANGUAGE_MODEL_PREFIX = 'model.language_model';

/**
 * Wrappers that keep the decoder elsewhere: SmolVLM / Idefics3 at `model.text_model` (SmolVLMModel.text_model);
 * Voxtral holds a whole causal LM as `language_model`, so its decoder layers are `language_model.model.layers`
 * (transformers modeling_voxtral.py; the key mapping of convert_voxtral_weights_to_hf.py).
 */
const LANGUAGE_MODEL_PREFIXES: Readonly<Record<string, string>> = {
  smolvlm: 'model.text_model',
  idefics3: 'model.text_model',
  voxtral: 'language_model.model',
};

function languageModelPrefix(modelType: unknown): string {
  return (typeof modelType === 'string' && LANGUAGE_MODEL_PREFIXES[modelType]) || LANGUAGE_MODEL_PREFIX;
}

/**
 * Families whose configs are recognised but not simulated: the mechanism that sets their time or memory is not
 * modelled yet, and approximating it with a neighbour family would give a silently wrong number.
 */
export const REFUSED_MODEL_TYPES: Readonly<Record<string, string>> = {
  deepseek_v4:
    'DeepSeek-V4 (hyper-connections: 4 residual streams mixed by Sinkhorn-normalised maps; compressed sparse attention with KV compressors and a top-k indexer; grouped low-rank output projection; hash-routed first layers) is not modelled yet',
};

export const SUPPORTED_MODEL_TYPES: readonly string[] = [...Object.keys(FAMILIES), ...Object.keys(MULTIMODAL_TEXT_FAMILY)];

/** Normalise one HF config.json object; `id` names the model in messages and in the spec. */
export function specFromHfConfig(config: Record<string, unknown>, id: string): ModelSpec {
  const modelType = config.model_type;
  if (modelType === undefined || modelType === null) {
    throw new ShardsimError(`missing "model_type" in the config of ${id}`, {
      key: keyName('model_type'),
      fix: `set it to one of: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    });
  }
  const refusedType = [modelType, (config.text_config as Record<string, unknown> | undefined)?.model_type].find((t): t is string => typeof t === 'string' && t in REFUSED_MODEL_TYPES);
  if (refusedType) {
    throw new ShardsimError(`model_type ${JSON.stringify(refusedType)} of ${id}: ${REFUSED_MODEL_TYPES[refusedType]}`, {
      key: keyName('model_type'),
      fix: 'choose a model of a simulated family (shardsim list models)',
    });
  }
  const family = typeof modelType === 'string' ? FAMILIES[modelType] : undefined;
  // Multimodal wrappers (Gemma 3, Llama 4, Mistral 3, InternVL …): the language model is `text_config` with a
  // family of its own; the towers beside it are left out and reported.
  const text = config.text_config;
  const wrapped = typeof modelType === 'string' ? MULTIMODAL_TEXT_FAMILY[modelType] : undefined;
  if (!family && wrapped && !(text && typeof text === 'object')) {
    // A flat multimodal config (Qwen2.5-VL): the language model's keys sit at the top level.
    const spec = FAMILIES[wrapped]!(new ConfigReader(config, id));
    return { ...spec, languageModelPrefix: languageModelPrefix(modelType), omitted: [...(spec.omitted ?? []), ...omittedTowers(config)] };
  }
  if (!family && text && typeof text === 'object' && !Array.isArray(text)) {
    const t = text as Record<string, unknown>;
    const textType = typeof t.model_type === 'string' && FAMILIES[t.model_type] ? t.model_type : wrapped;
    const inner = textType ? FAMILIES[textType] : undefined;
    if (inner) {
      const merged: Record<string, unknown> = { ...t };
      for (const k of ['vocab_size', 'tie_word_embeddings']) if (merged[k] === undefined && config[k] !== undefined) merged[k] = config[k];
      const spec = inner(new ConfigReader(merged, id));
      return { ...spec, languageModelPrefix: languageModelPrefix(modelType), omitted: [...(spec.omitted ?? []), ...omittedTowers(config)] };
    }
  }
  if (!family) {
    throw new ShardsimError(`unsupported model_type ${JSON.stringify(modelType)} (model ${id})`, {
      key: keyName('model_type'),
      fix: `supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    });
  }
  const spec = family(new ConfigReader(config, id));
  const towers = omittedTowers(config);
  return towers.length > 0 ? { ...spec, omitted: [...(spec.omitted ?? []), ...towers] } : spec;
}
