import { describe, expect, it } from 'vitest';
import { exposedIntervals, exposedCollectives, exposedSecondsByKind } from '../../src/metrics/exposure.ts';
import { subtract } from '../../src/metrics/intervals.ts';
import { rankBreakdown } from '../../src/metrics/step.ts';
import { breakdownRank, collectiveTallies, slowestRank } from '../../src/metrics/activity.ts';
import { memorySeries } from '../../src/metrics/memory-series.ts';
import { runForReport, fsdp2Small, ddpSmall } from '../report/fixtures.ts';

const length = (iv: readonly (readonly [number, number])[]) => iv.reduce((a, [s, e]) => a + e - s, 0);

describe('subtract', () => {
  it('removes covered parts and merges overlapping inputs', () => {
    expect(subtract([[0, 10]], [[2, 3], [5, 7]])).toEqual([[0, 2], [3, 5], [7, 10]]);
    expect(subtract([[0, 4], [3, 6]], [[0, 1]])).toEqual([[1, 6]]);
    expect(subtract([[0, 4]], [[-1, 5]])).toEqual([]);
    expect(subtract([[0, 4]], [])).toEqual([[0, 4]]);
  });
});

describe('exposed communication on a timeline', () => {
  it('the exposed intervals add up to the result and to rankBreakdown; per-kind and per-collective views agree', async () => {
    const run = await runForReport(fsdp2Small);
    const iv = exposedIntervals(run.timeline, 0);
    expect(iv.length).toBeGreaterThan(0);
    expect(length(iv)).toBeCloseTo(rankBreakdown(run.timeline, 0).commExposedSeconds, 12);
    expect(length(iv)).toBeCloseTo(run.result.communication.exposed_s, 12);
    const byKind = exposedSecondsByKind(run.timeline, 0);
    expect(byKind.all_gather).toBeGreaterThan(0);
    expect(byKind.reduce_scatter).toBeGreaterThan(0);
    const perCollective = exposedCollectives(run.timeline, 0);
    // No two collectives here run at once while compute idles, so the per-collective shares add up.
    expect(perCollective.reduce((a, e) => a + e.exposedSeconds, 0)).toBeCloseTo(length(iv), 9);
  });

  it('FSDP2: the first AllGathers of every micro-batch are exposed before compute, the root ReduceScatter after it', async () => {
    const run = await runForReport(fsdp2Small);
    const ex = exposedCollectives(run.timeline, 0);
    const before = ex.filter((e) => e.reason === 'before-compute');
    expect(new Set(before.map((e) => e.span.tag.microBatch))).toEqual(new Set([0, 1]));
    expect(before.every((e) => e.span.tag.kind === 'all_gather' && e.span.tag.phase === 'forward')).toBe(true);
    expect(before.map((e) => e.span.tag.label)).toContain('root (embedding, norm, lm_head)');
    const after = ex.filter((e) => e.reason === 'after-compute');
    expect(after.some((e) => e.span.tag.kind === 'reduce_scatter' && e.span.tag.label.startsWith('root'))).toBe(true);
    // What waited on the root ReduceScatter is the optimizer.
    expect(after.find((e) => e.span.tag.label.startsWith('root'))!.blocked!.tag.kind).toBe('optimizer');
  });

  it('DDP: only the last bucket is exposed, after backward', async () => {
    const run = await runForReport(ddpSmall);
    const ex = exposedCollectives(run.timeline, 0);
    expect(ex.length).toBeGreaterThan(0);
    expect(ex.every((e) => e.span.tag.kind === 'all_reduce' && e.reason === 'after-compute')).toBe(true);
  });
});

describe('tallies, ranks and memory series', () => {
  it('tallies count FSDP2 gathers in forward and (resharded) backward, with wire bytes = S × (n−1)/n', async () => {
    const run = await runForReport(fsdp2Small);
    const t = collectiveTallies(run.timeline, 0);
    const fwd = t.find((x) => x.kind === 'all_gather' && x.phase === 'forward')!;
    const bwd = t.find((x) => x.kind === 'all_gather' && x.phase === 'backward')!;
    expect(fwd.count).toBe(2 * (run.model.numLayers + 1));
    expect(bwd.count).toBe(2 * run.model.numLayers);
    expect(fwd.wireBytes).toBeCloseTo((fwd.bytes * 7) / 8, 0);
    const noReshard = collectiveTallies((await runForReport({ ...fsdp2Small, fsdp_config: { reshard_after_forward: false } })).timeline, 0);
    expect(noReshard.find((x) => x.kind === 'all_gather' && x.phase === 'backward')).toBeUndefined();
  });

  it('slowestRank names the straggler', async () => {
    const run = await runForReport({ ...fsdp2Small, simulation: { hardware: 'dgx-h100', stragglers: [{ rank: 3, compute_slowdown: 1.3 }] } });
    // FSDP over 8 ranks, one slow: two classes (the straggler, the 7 who wait for it).
    expect(run.plan.ranks).toEqual([0, 3]);
    expect(slowestRank(run.timeline, run.plan.ranks)).toBe(3);
    // The result describes the rank that waited most, which is not the straggler.
    const b = breakdownRank(run.timeline, run.plan.ranks);
    expect(b).not.toBe(3);
    expect(rankBreakdown(run.timeline, b).idleSeconds).toBeCloseTo(run.result.time_breakdown_s.idle, 12);
    expect(rankBreakdown(run.timeline, b).commExposedSeconds).toBeCloseTo(run.result.time_breakdown_s.exposed_communication, 12);
  });

  it('the memory series reaches the recorded peak and ends where the ledger ends', async () => {
    const run = await runForReport(fsdp2Small);
    const s = memorySeries(run.timeline, 0);
    const rec = run.timeline.memory.get(0)!;
    expect(Math.max(...s.map((p) => p.totalBytes))).toBe(rec.peakBytes);
    expect(s[s.length - 1]!.totalBytes).toBe(rec.finalBytes);
    for (let i = 1; i < s.length; i++) expect(s[i]!.time).toBeGreaterThan(s[i - 1]!.time);
  });
});
