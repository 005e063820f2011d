export { busFactor, collectiveCost, networkParams } from './collective.ts';
export type { CollectiveKind, CollectiveCost, GroupPlacement, LinkClass, NetworkParams } from './collective.ts';
