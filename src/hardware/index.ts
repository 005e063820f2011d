export type { HardwareProfile } from './types.ts';
export { hardwareProfileSchema, numericLeafPaths, leafPaths } from './profile-schema.ts';
export { listHardwareIds, loadHardwareProfile, hardwareProfilesDir, clearHardwareProfileCache } from './load.ts';
export { buildCluster } from './cluster.ts';
export type { Cluster } from './cluster.ts';
