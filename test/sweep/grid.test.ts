import { describe, expect, it } from 'vitest';
import { buildAxes, expandGrid, gridSize, pointAt, HARDWARE_KEY, NODES_KEY } from '../../src/sweep/grid.ts';
import { parseScalar, parseVary, setKeyPath } from '../../src/sweep/keys.ts';
import { configObject } from '../../src/sweep/run-config.ts';
import { ShardsimError } from '../../src/util/errors.ts';

describe('--vary values are YAML scalars', () => {
  it('parses numbers, booleans and strings', () => {
    expect(parseVary('micro_batch_size=1,2,16')).toEqual({ key: 'micro_batch_size', values: [1, 2, 16] });
    expect(parseVary('gradient_checkpointing=true,false').values).toEqual([true, false]);
    expect(parseVary('optimizer=adamw_torch_fused,adamw_torch').values).toEqual(['adamw_torch_fused', 'adamw_torch']);
    expect(parseVary('simulation.inter_node_bandwidth=400 Gb/s,1e11').values).toEqual(['400 Gb/s', 1e11]);
    expect(parseScalar(' 0.5 ', 'k')).toBe(0.5);
  });

  it('refuses typos with a suggestion, ignored keys, repeated values and empty values', () => {
    expect(() => parseVary('micro_batch=1,2')).toThrow(/unknown key "micro_batch".*micro_batch_size/);
    expect(() => parseVary("learning_rate=1e-5,2e-5")).toThrow(/does not change a step/);
    expect(() => parseVary('fsdp_config.reshard_after_forwrd=true')).toThrow(/did you mean "fsdp_config.reshard_after_forward"/);
    expect(() => parseVary('simulation.nodes=1,2')).toThrow(/simulation.num_nodes/);
    expect(() => parseVary('micro_batch_size=1,1')).toThrow(/listed twice/);
    expect(() => parseVary('micro_batch_size=1,,2')).toThrow(/empty value/);
    expect(() => parseVary('micro_batch_size')).toThrow(ShardsimError);
    expect(() => parseVary('fsdp_config=1')).toThrow(/is a mapping/);
    expect(() => parseVary('micro_batch_size.x=1')).toThrow(/single value/);
  });
});

describe('key paths', () => {
  it('sets nested keys, creating mappings, without touching the base', () => {
    const base = { base_model: 'x', fsdp_config: { reshard_after_forward: true, fsdp_version: 2 } };
    const obj = configObject({ base, assignments: [['fsdp_config.reshard_after_forward', false], [NODES_KEY, 4], ['micro_batch_size', 8]] });
    expect(obj).toEqual({ base_model: 'x', fsdp_config: { reshard_after_forward: false, fsdp_version: 2 }, simulation: { num_nodes: 4 }, micro_batch_size: 8 });
    expect(base.fsdp_config.reshard_after_forward).toBe(true);
    expect(base).not.toHaveProperty('simulation');
  });

  it("replaces accelerate's fsdp_-prefixed spelling instead of leaving both", () => {
    const obj: Record<string, unknown> = { fsdp_config: { fsdp_reshard_after_forward: true } };
    setKeyPath(obj, 'fsdp_config.reshard_after_forward', false);
    expect(obj.fsdp_config).toEqual({ reshard_after_forward: false });
  });

  it('refuses to descend into a scalar', () => {
    expect(() => setKeyPath({ simulation: 3 }, 'simulation.num_nodes', 2)).toThrow(/simulation is not a mapping/);
  });
});

describe('grid expansion', () => {
  it('puts hardware and nodes first and the varied keys in the given order, the last changing fastest', () => {
    const axes = buildAxes({ vary: ['micro_batch_size=1,2', 'gradient_checkpointing=true,false'], hardware: 'dgx-h100,dgx-a100-80gb', nodes: '1,2,4' });
    expect(axes.map((a) => a.key)).toEqual([HARDWARE_KEY, NODES_KEY, 'micro_batch_size', 'gradient_checkpointing']);
    expect(gridSize(axes)).toBe(2 * 3 * 2 * 2);
    const grid = expandGrid(axes);
    expect(grid).toHaveLength(24);
    expect(grid[0]!.assignments).toEqual([[HARDWARE_KEY, 'dgx-h100'], [NODES_KEY, 1], ['micro_batch_size', 1], ['gradient_checkpointing', true]]);
    expect(grid[1]!.assignments.map(([, v]) => v)).toEqual(['dgx-h100', 1, 1, false]);
    expect(grid[2]!.assignments.map(([, v]) => v)).toEqual(['dgx-h100', 1, 2, true]);
    expect(grid[23]!.assignments.map(([, v]) => v)).toEqual(['dgx-a100-80gb', 4, 2, false]);
    // Every combination exactly once, and pointAt agrees with the expansion.
    expect(new Set(grid.map((p) => JSON.stringify(p.assignments))).size).toBe(24);
    expect(pointAt(axes, 17)).toEqual(grid[17]);
  });

  it('treats --vary simulation.hardware / num_nodes as the hardware / nodes axes', () => {
    const axes = buildAxes({ vary: ['micro_batch_size=1,2', 'simulation.num_nodes=1,2'] });
    expect(axes.map((a) => a.key)).toEqual([NODES_KEY, 'micro_batch_size']);
    expect(() => buildAxes({ vary: ['simulation.num_nodes=1,2'], nodes: '4' })).toThrow(/both --nodes and --vary/);
    expect(() => buildAxes({ vary: ['simulation.num_nodes=1,x'] })).toThrow(/whole number/);
  });

  it('refuses a key given twice and bad node counts', () => {
    expect(() => buildAxes({ vary: ['micro_batch_size=1', 'micro_batch_size=2'] })).toThrow(/given twice/);
    expect(() => buildAxes({ nodes: '1,0' })).toThrow(/positive whole numbers/);
    expect(() => buildAxes({ nodes: '2,2' })).toThrow(/twice/);
  });

  it('is a single config when nothing varies', () => {
    expect(expandGrid(buildAxes({}))).toEqual([{ index: 0, assignments: [] }]);
  });
});
