export type { ModelSpec, ModelType, ParameterCounts, Gemm, LayerSpec, LinearSpec, NormSpec, AttentionMixer, DenseFfn, Mixer, Ffn, WeightQuantization, LoraAdapter, PeftState } from './types.ts';
export { catalogIds, catalogIdsWithAliases, catalogAliasOf, catalogConfig, canonicalCatalogId, suggestCatalogIds } from './catalog.ts';
export { specFromHfConfig, SUPPORTED_MODEL_TYPES } from './hf-config.ts';
export { loadModel, type LoadModelOptions } from './load.ts';
export { parameterCounts, activeParameters, trainableParameters, trainableTensorCount, hiddenMatrices, matmulParams, matmulParamsOfLayer, layerParams, linearParams, normParams } from './params.ts';
export { layerGemms, lmHeadGemm, gemmFlops, attentionCoreFlops, modelFlopsPerToken, forwardFlopsPerToken, shardedLinear } from './flops.ts';
export { attentionOf } from './layer.ts';
export {
  activationBytesPerLayer,
  activationTensorsPerLayer,
  checkpointedLayerInputBytes,
  logitsBytes,
  type ActivationOptions,
  type ActivationTensor,
} from './activations.ts';
export { applyPeft, loraParams, hasAdapters, isTargeted, linearPath, type PeftOptions, type LoraTargets } from './peft.ts';
export { quantizationOf, type QuantizationRequest } from './quantization.ts';
