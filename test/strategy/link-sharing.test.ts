import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/engine/index.ts';
import { loadHardwareProfile } from '../../src/hardware/index.ts';
import { collectiveCost, networkParams, type CollectiveKind, type GroupPlacement } from '../../src/network/index.ts';
import { PlanBuilder, type StreamName } from '../../src/strategy/plan.ts';

/**
 * Collectives that run at the same time on one rank share its link (max-min fair fluid model): two of
 * them on the same link each take longer than alone; on different links (NVLink vs NICs) they do not.
 */
const net = networkParams(loadHardwareProfile('dgx-h100'));
const node: GroupPlacement = { size: 8, nodes: 1 };
const twoNodes: GroupPlacement = { size: 16, nodes: 2 };
const GiB = 2 ** 30;

type Op = { stream: StreamName; kind: CollectiveKind; bytes: number; group: GroupPlacement };

function run(ops: Op[]): number[] {
  const b = new PlanBuilder([0], net, []);
  const ids = ops.map((o, i) => b.collective(0, o.stream, o.kind, o.bytes, o.group, `c${i}`, { phase: 'backward', label: `c${i}`, microBatch: 0 }));
  const tl = simulate(b.tasks, { resources: b.resources });
  return ids.map((id) => tl.spans.find((s) => s.task === id)!.end);
}

describe('link sharing between concurrent collectives', () => {
  const gather: Op = { stream: 'all_gather', kind: 'all_gather', bytes: GiB, group: node };
  const scatter: Op = { stream: 'reduce_scatter', kind: 'reduce_scatter', bytes: GiB, group: node };

  it('alone, a collective takes exactly its cost-model time', () => {
    const [t] = run([gather]);
    expect(t).toBeCloseTo(collectiveCost('all_gather', GiB, node, net).seconds, 9);
  });

  it('two on the same NVLink slow each other: each ends near latency + twice its bandwidth time', () => {
    const alone = collectiveCost('all_gather', GiB, node, net);
    const [a, b] = run([gather, scatter]);
    expect(a!).toBeGreaterThan(1.8 * alone.seconds);
    expect(b!).toBeGreaterThan(1.8 * alone.seconds);
    const bandwidthTime = alone.busBytes / alone.busBytesPerSecond;
    expect(Math.max(a!, b!)).toBeCloseTo(alone.latencySeconds + 2 * bandwidthTime, 4);
  });

  it('a small collective next to a large one finishes later than alone but long before the large one', () => {
    const small: Op = { stream: 'all_reduce', kind: 'all_reduce', bytes: 64 * 2 ** 20, group: node };
    const [aloneSmall] = run([small]);
    const [big, shared] = run([gather, small]);
    expect(shared!).toBeGreaterThan(aloneSmall!);
    expect(shared!).toBeLessThan(big!);
  });

  it('traffic on different links (NVLink inside the node, NICs across nodes) does not interfere', () => {
    const inter: Op = { stream: 'reduce_scatter', kind: 'reduce_scatter', bytes: GiB, group: twoNodes };
    const [aloneIntra] = run([gather]);
    const [aloneInter] = run([inter]);
    const [a, b] = run([gather, inter]);
    expect(a).toBeCloseTo(aloneIntra!, 9);
    expect(b).toBeCloseTo(aloneInter!, 9);
  });
});
