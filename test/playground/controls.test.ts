import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { CONTROLS, controlApplies, getKey, readControl, readStrategy, setKey, writeControl, type Control, type StrategyChoice } from '../../src/playground/controls.ts';
import { simulateRequest } from '../../src/playground/session.ts';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const card = (name: string) => readFileSync(join(SCENARIOS, `${name}.yaml`), 'utf8');
const control = (key: string): Control => CONTROLS.find((c) => c.key === key)!;

/** The YAML after writing one control, as the page does it. */
function edit(yaml: string, key: string, value: Parameters<typeof writeControl>[2]): string {
  const doc = parseDocument(yaml);
  writeControl(control(key), doc, value);
  return doc.toString({ lineWidth: 0 });
}

async function simulated(yaml: string) {
  const res = await simulateRequest({ type: 'simulate', id: 1, name: 't', yaml, summaryOnly: true });
  if (!res.ok) throw new Error(res.message);
  return res.result;
}

describe('the control table', () => {
  it('covers the knobs the playground promises, each key once', () => {
    const keys = CONTROLS.map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of ['micro_batch_size', 'gradient_accumulation_steps', 'sequence_len', 'strategy', 'dp_shard_size', 'dp_replicate_size', 'tensor_parallel_size', 'context_parallel_size', 'simulation.num_nodes', 'simulation.hardware', 'simulation.inter_node_bandwidth', 'fsdp_config.reshard_after_forward', 'fsdp_config.backward_prefetch', 'ddp_bucket_cap_mb', 'gradient_checkpointing']) {
      expect(keys).toContain(k);
    }
  });

  it('a plain key is written where it belongs, read back, and the comments stay', () => {
    const yaml = card('llama-3.1-8b-ddp-8xh100');
    const out = edit(yaml, 'micro_batch_size', 3);
    expect(out).toContain('micro_batch_size: 3');
    expect(out).toContain('# Card scenario 4');
    expect(readControl(control('micro_batch_size'), parseDocument(out))).toBe(3);
    const nested = edit(yaml, 'simulation.inter_node_bandwidth', '200 Gb/s');
    expect(getKey(parseDocument(nested), 'simulation.inter_node_bandwidth')).toBe('200 Gb/s');
    expect(getKey(parseDocument(nested), 'simulation.hardware')).toBe('dgx-h100');
  });

  it('an absent key shows the simulator’s default; clearing a field removes the key and empty parents', () => {
    const doc = parseDocument('base_model: meta-llama/Llama-3.1-8B\nfsdp_version: 2\n');
    expect(readControl(control('fsdp_config.reshard_after_forward'), doc)).toBe(true);
    expect(readControl(control('simulation.num_nodes'), doc)).toBe(1);
    setKey(doc, 'simulation.num_nodes', 2);
    expect(doc.toString()).toContain('num_nodes: 2');
    setKey(doc, 'simulation.num_nodes', undefined);
    expect(doc.has('simulation')).toBe(false);
  });

  it('reads each card scenario’s strategy as Axolotl resolves it', async () => {
    const expected: Record<string, StrategyChoice> = { 'llama-3.1-8b-ddp-8xh100': 'ddp', 'llama-2-13b-fsdp2-8xh100': 'fsdp2' };
    for (const [name, strategy] of Object.entries(expected)) {
      const yaml = card(name);
      expect(readStrategy(parseDocument(yaml))).toBe(strategy);
      expect((await simulated(yaml)).strategy).toBe(strategy);
    }
  });

  it('every strategy choice writes YAML the simulator runs with that strategy, and switching back undoes it', async () => {
    const yaml = card('llama-3.1-8b-ddp-8xh100');
    for (const s of ['fsdp1', 'fsdp2', 'zero1', 'zero2', 'zero3', 'ddp'] as const) {
      const out = edit(yaml, 'strategy', s);
      expect(readStrategy(parseDocument(out))).toBe(s);
      expect((await simulated(out)).strategy).toBe(s);
    }
    expect(edit(edit(yaml, 'strategy', 'zero3'), 'strategy', 'ddp')).toBe(parseDocument(yaml).toString({ lineWidth: 0 }));
  }, 30_000);

  it('switching ZeRO stages keeps the rest of an inline DeepSpeed config', () => {
    const yaml = 'base_model: meta-llama/Llama-3.1-8B\ndeepspeed:\n  zero_optimization:\n    stage: 1\n    reduce_bucket_size: 12345\n';
    const out = parseDocument(edit(yaml, 'strategy', 'zero3'));
    expect(out.getIn(['deepspeed', 'zero_optimization', 'stage'])).toBe(3);
    expect(out.getIn(['deepspeed', 'zero_optimization', 'reduce_bucket_size'])).toBe(12345);
  });

  it('a key that does not apply to the chosen strategy disables its field', () => {
    const ddp = parseDocument(card('llama-3.1-8b-ddp-8xh100'));
    const fsdp = parseDocument(card('llama-2-13b-fsdp2-8xh100'));
    expect(controlApplies(control('ddp_bucket_cap_mb'), ddp)).toBe(true);
    expect(controlApplies(control('ddp_bucket_cap_mb'), fsdp)).toBe(false);
    expect(controlApplies(control('fsdp_config.reshard_after_forward'), ddp)).toBe(false);
    expect(controlApplies(control('fsdp_config.reshard_after_forward'), fsdp)).toBe(true);
    expect(controlApplies(control('fsdp_config.backward_prefetch'), fsdp)).toBe(false); // FSDP2 has no knob
  });

  it('a control moves the simulation: reshard_after_forward: false drops the backward AllGathers', async () => {
    const yaml = card('llama-2-13b-fsdp2-8xh100');
    const on = await simulated(yaml);
    const off = await simulated(edit(yaml, 'fsdp_config.reshard_after_forward', false));
    expect(off.communication.by_kind.all_gather!.bytes_per_gpu).toBeLessThan(on.communication.by_kind.all_gather!.bytes_per_gpu);
    expect(off.memory.peak_bytes).toBeGreaterThan(on.memory.peak_bytes);
  });
});
