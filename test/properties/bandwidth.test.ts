import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

// Property: more network bandwidth never slows a step (across strategies, model sizes, node counts).
const cases = [
  { name: '8B FSDP2 on 2 nodes', base_model: 'meta-llama/Llama-3.1-8B', fsdp_version: 2, micro_batch_size: 1, sequence_len: 2048, nodes: 2 },
  { name: '8B DDP on 4 nodes', base_model: 'meta-llama/Llama-3.1-8B', micro_batch_size: 2, sequence_len: 2048, nodes: 4 },
  { name: '1B FSDP2 on 4 nodes, accumulation 2', base_model: 'meta-llama/Llama-3.2-1B', fsdp_version: 2, micro_batch_size: 4, sequence_len: 1024, nodes: 4, gradient_accumulation_steps: 2 },
];

describe('more bandwidth never slows a step', () => {
  it.each(cases)('$name', async ({ name: _n, nodes, ...scenario }) => {
    const times: number[] = [];
    for (const bw of ['25 Gb/s', '100 Gb/s', '400 Gb/s', '1600 Gb/s', '3200 Gb/s']) {
      const r = (await run({ bf16: true, flash_attention: true, ...scenario, simulation: { hardware: 'dgx-h100', num_nodes: nodes, inter_node_bandwidth: bw } })).result;
      times.push(r.step_time_s);
    }
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]! * (1 + 1e-9));
    // …and the slowest link really does cost time when communication crosses nodes.
    expect(times[0]!).toBeGreaterThan(times[times.length - 1]!);
  });
});
