export { loadScenarioFile, loadScenarioText, loadScenarioObject } from './load.ts';
export type { LoadedScenario, SimulationOverrides } from './load.ts';
export { resolveConfig, checkAgainstModel, DEFAULT_HARDWARE } from './resolve.ts';
export type { ClusterShape } from './resolve.ts';
export { parseBandwidth, parseBytes } from './units.ts';
export type { ResolvedConfig, Mesh, Precision, StrategyName, Straggler } from './types.ts';
