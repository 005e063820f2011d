export type { ModelSpec, ModelType, ParameterCounts, Gemm } from './types.ts';
export { catalogIds, catalogConfig, canonicalCatalogId, suggestCatalogIds } from './catalog.ts';
export { specFromHfConfig, SUPPORTED_MODEL_TYPES } from './hf-config.ts';
export { loadModel, type LoadModelOptions } from './load.ts';
export { parameterCounts, matmulParams, matmulParamsPerLayer, biasParamsPerLayer, normParams } from './params.ts';
export { layerGemms, lmHeadGemm, gemmFlops, attentionCoreFlops, modelFlopsPerToken } from './flops.ts';
export {
  activationBytesPerLayer,
  activationTensorsPerLayer,
  checkpointedLayerInputBytes,
  logitsBytes,
  type ActivationOptions,
  type ActivationTensor,
} from './activations.ts';
