import { describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';

describe('tensor-parallel collectives rendezvous across the TP group', () => {
  it('a slow rank holds back its TP partner, and the report names the slow rank', async () => {
    const r = await run({
      base_model: 'meta-llama/Llama-3.2-1B', fsdp_version: 2, tensor_parallel_size: 2, sequence_len: 2048, micro_batch_size: 1,
      bf16: true, flash_attention: true,
      simulation: { hardware: 'dgx-h100', gpus: 4, stragglers: [{ rank: 1, compute_slowdown: 2 }] },
    });
    // Ranks 0 and 1 form a TP group (tp innermost): every TP AllReduce has both as members.
    const tp = r.plan.tasks.filter((t) => t.stream === 'tensor_parallel' && t.group !== undefined);
    const members = new Map<string, number>();
    for (const t of tp) members.set(t.group!, (members.get(t.group!) ?? 0) + 1);
    expect([...members.values()].every((n) => n === 2)).toBe(true);
    const end = (rank: number) => Math.max(...r.timeline.spans.filter((s) => s.process === rank && s.tag.kind === 'compute').map((s) => s.end));
    expect(end(0)).toBeGreaterThan(0.9 * end(1));
    expect(r.result.straggler!.lateRank).toBe(1);
  });
});
