import { describe, expect, it } from 'vitest';
import { buildCluster, loadHardwareProfile } from '../../src/hardware/index.ts';
import { errorOf } from '../helpers/errors.ts';

const h100 = loadHardwareProfile('dgx-h100');


describe('buildCluster', () => {
  it('uses every GPU of every node by default', () => {
    expect(buildCluster(h100, 2)).toEqual({ profile: h100, numNodes: 2, gpusPerNode: 8, worldSize: 16 });
  });

  it('supports a single GPU', () => {
    const c = buildCluster(h100, 1, 1);
    expect(c.worldSize).toBe(1);
    expect(c.gpusPerNode).toBe(1);
  });

  it('supports a partial node and an even partial spread over nodes', () => {
    expect(buildCluster(h100, 1, 4)).toMatchObject({ numNodes: 1, gpusPerNode: 4, worldSize: 4 });
    expect(buildCluster(h100, 2, 8)).toMatchObject({ numNodes: 2, gpusPerNode: 4, worldSize: 8 });
    expect(buildCluster(h100, 2, 16)).toMatchObject({ gpusPerNode: 8, worldSize: 16 });
  });

  it('rejects more GPUs than the nodes have', () => {
    const err = errorOf(() => buildCluster(h100, 1, 9));
    expect(err.key).toBe('simulation.gpus');
    expect(err.message).toContain('9');
  });

  it('rejects GPU counts that do not spread evenly, and non-positive or fractional counts', () => {
    expect(errorOf(() => buildCluster(h100, 2, 9)).key).toBe('simulation.gpus');
    expect(errorOf(() => buildCluster(h100, 1, 0)).key).toBe('simulation.gpus');
    expect(errorOf(() => buildCluster(h100, 1, 2.5)).key).toBe('simulation.gpus');
  });

  it('rejects a bad node count', () => {
    expect(errorOf(() => buildCluster(h100, 0)).key).toBe('simulation.num_nodes');
    expect(errorOf(() => buildCluster(h100, 1.5)).key).toBe('simulation.num_nodes');
  });
});
