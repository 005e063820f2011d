export { collectiveCost, collectiveCandidates } from './collective.ts';
export { busFactor, ringSteps } from './bus.ts';
export { networkParams, nicsForGroup } from './params.ts';
export { meshGroups, placementOf, MESH_ORDER, type MeshShape, type MeshDimension, type DimensionGroups } from './placement.ts';
export { COLLECTIVE_KINDS } from './types.ts';
export type {
  Algorithm,
  CollectiveCost,
  CollectiveKind,
  CollectiveOptions,
  GroupPlacement,
  LinkClass,
  NetworkParams,
  Protocol,
} from './types.ts';
