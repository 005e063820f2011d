import { describe, expect, it, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/shardsim.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const ok = 'base_model: meta-llama/Llama-3.1-8B\nsequence_len: 2048\nmicro_batch_size: 1\n';
let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// [case, file text or null for a missing file, extra args, what the one-line error must mention]
const battery: [string, string | null, string[], RegExp][] = [
  ['malformed YAML', 'base_model: x\nsequence_len: [1\n', [], /malformed YAML/],
  ['unknown model', ok.replace('Llama-3.1-8B', 'Llama-3.1-13B'), [], /base_model: unknown model "meta-llama\/Llama-3.1-13B".*Llama-2-13b-hf/],
  ['unknown hardware', ok + 'simulation: {hardware: dgx-h10}\n', [], /simulation.hardware: unknown hardware profile "dgx-h10".*dgx-h100/],
  ['negative size', ok.replace('2048', '-5'), [], /sequence_len: must be positive/],
  ['non-integer size', ok.replace('micro_batch_size: 1', 'micro_batch_size: 1.5'), [], /micro_batch_size: must be a whole number/],
  ['zero size', ok.replace('micro_batch_size: 1', 'micro_batch_size: 0'), [], /micro_batch_size: must be positive/],
  ['string size', ok.replace('2048', '"long"'), [], /sequence_len: .*expected number/],
  ['mesh product', ok + 'fsdp_version: 2\ndp_shard_size: 3\nsimulation: {gpus: 8}\n', [], /dp_shard_size: .*= 3, but the world has 8 GPUs/],
  ['tp does not divide world', ok + 'tensor_parallel_size: 3\n', [], /tensor_parallel_size: 3 does not divide the world size 8/],
  ['tp does not divide heads', ok.replace('meta-llama/Llama-3.1-8B', 'Qwen/Qwen2.5-7B') + 'tensor_parallel_size: 8\nfsdp_version: 2\n', [], /tensor_parallel_size: 8 does not divide the 28 attention heads/],
  ['missing file', null, [], /cannot read scenario file/],
  ['not a mapping', 'just words\n', [], /must be a YAML mapping/],
  ['bad fsdp_version', ok + 'fsdp_version: 3\n', [], /fsdp_version/],
  ['unknown simulation key', ok + 'simulation: {hardwre: dgx-h100}\n', [], /unknown key "simulation.hardwre".*hardware/],
  ['bad bandwidth unit', ok + 'simulation: {inter_node_bandwidth: "fast"}\n', [], /simulation.inter_node_bandwidth: cannot read "fast"/],
  ['straggler outside the world', ok + 'simulation: {stragglers: [{rank: 99, compute_slowdown: 1.2}]}\n', [], /simulation.stragglers.0.rank: rank 99 does not exist/],
  ['gpus beyond the nodes', ok + 'simulation: {gpus: 9}\n', [], /simulation.gpus: 9 GPUs do not fit/],
  ['bad --nodes flag', ok, ['--nodes', '0'], /--nodes must be a positive whole number/],
  ['unmodelled optimizer', ok + 'optimizer: lion\n', [], /optimizer: optimizer "lion" is not modelled/],
];

describe('bad input: one clear line naming the key, exit code 2, no stack trace', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shardsim-bad-'));
  });

  it.each(battery)('%s', async (name, text, extra, pattern) => {
    const path = text === null ? join(dir ?? tmpdir(), 'does-not-exist.yaml') : file(`${name.replace(/\W+/g, '-')}.yaml`, text);
    const r = await cli(['simulate', path, '--no-report', ...extra]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('accepts Axolotl keys it does not model, and warns about a typo with the closest key', async () => {
    const r = await cli(['simulate', file('extra.yaml', ok + 'datasets: [{path: x, type: alpaca}]\nlearning_rate: 0.0002\ngradient_acumulation_steps: 2\n'), '--no-report']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('warning: unknown key "gradient_acumulation_steps" ignored (not an Axolotl key) — did you mean "gradient_accumulation_steps"?');
  });

  it('a missing key that was misspelled points at the typo', async () => {
    const r = await cli(['simulate', file('typo.yaml', ok.replace('micro_batch_size', 'micro_bach_size')), '--no-report']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/micro_batch_size: is required \(the scenario has "micro_bach_size": a typo\?\)/);
  });
});
