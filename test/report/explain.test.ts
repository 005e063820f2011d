import { describe, expect, it } from 'vitest';
import { explain, explainText } from '../../src/report/explain.ts';
import { collectiveTallies } from '../../src/metrics/activity.ts';
import { runForReport, fsdp2Small, ddpSmall } from './fixtures.ts';

describe('explain', () => {
  it('FSDP2 with reshard_after_forward: the exposed first AllGathers and root ReduceScatter, the backward gathers, the formulas', async () => {
    const run = await runForReport(fsdp2Small);
    const text = explain(run).join('\n');
    expect(text).toMatch(/Exposed at the start of each of the 2 micro-batches .*the AllGathers of root \(embedding, norm, lm_head\) and layer 0 must arrive before the first decoder layer/);
    expect(text).toMatch(/Exposed at the end of backward .*ReduceScatters? of .*root \(embedding, norm, lm_head\).* cannot overlap — nothing is left to compute/);
    const bwd = collectiveTallies(run.timeline, 0).find((t) => t.kind === 'all_gather' && t.phase === 'backward')!;
    expect(text).toContain(`reshard_after_forward: true`);
    expect(text).toContain(`${bwd.count} AllGathers in backward`);
    expect(text).toContain('Effective batch = micro_batch_size × gradient_accumulation_steps × dp_shard × dp_replicate = 2 × 2 × 8 × 1 = 32 sequences; tokens per step = 32 × 2048 = 65,536.');
    expect(text).toMatch(/AllGather of .*: S = [\d.]+ MiB \([\d,]+ bf16 elements\), n = 8 → [\d.]+ MiB × 7\/8 = [\d.]+ MiB sent per GPU \(ring\)/);
    expect(text).toMatch(/MFU = model FLOPs per step ÷ \(step time × GPUs × peak bf16 FLOP\/s\) = .* = \d+\.\d%/);
    expect(text).toMatch(/Memory: the peak allocation is .* it fits/);
    // The reserved estimate is stated as the code computes it: pools' high-water marks × factor + context.
    const m = run.result.memory;
    const factor = run.cluster.profile.runtime.allocator_reserved_over_allocated;
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    expect(text).toContain(`Reserved ≈ ${gib(m.reserved_bytes / factor)} (the allocator pools' high-water marks summed`);
    expect(text).toContain(`× ${factor} (fragmentation inside the pools) + ${gib(m.non_allocator_bytes)} CUDA context and NCCL = ${gib(m.required_bytes)}`);
    expect(m.reserved_bytes / factor).toBeGreaterThanOrEqual(m.peak_bytes);
  });

  it('reshard_after_forward false: no backward AllGathers, and the memory they cost', async () => {
    const run = await runForReport({ ...fsdp2Small, fsdp_config: { reshard_after_forward: false } });
    const text = explain(run).join('\n');
    expect(text).toContain('reshard_after_forward: false');
    expect(text).toContain('no AllGathers in backward (0 here)');
  });

  it('DDP: no AllGather, bucketed AllReduces, the last bucket exposed, no_sync on the first micro-batch', async () => {
    const run = await runForReport(ddpSmall);
    const text = explain(run).join('\n');
    expect(text).toContain('DDP keeps a full replica of the model on every GPU: there is no AllGather');
    expect(text).toContain('the first micro-batch runs under no_sync and communicates nothing');
    expect(text).toMatch(/Exposed at the end of backward .*the AllReduce of bucket \d+/);
    expect(text).not.toMatch(/Exposed at the start/);
    expect(text).toMatch(/× 2×7\/8 = /);
  });

  it('stragglers: names the late rank; one GPU: no collectives', async () => {
    const slow = await runForReport({ ...fsdp2Small, simulation: { hardware: 'dgx-h100', stragglers: [{ rank: 4, compute_slowdown: 1.3 }] } });
    expect(explain(slow).join('\n')).toMatch(/rank 4 arrived last/);
    const one = await runForReport({ ...ddpSmall, simulation: { hardware: 'dgx-h100', gpus: 1 } });
    const text = explain(one).join('\n');
    expect(text).toContain('No collective runs');
    expect(text).toContain('One GPU: no data parallelism');
  });

  it('explainText wraps at the width', async () => {
    const run = await runForReport(ddpSmall);
    const lines = explainText(run, 80).split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.length <= 80 || !l.includes(' '))).toBe(true);
  });
});
