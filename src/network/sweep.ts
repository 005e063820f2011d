import { busFactor } from './bus.ts';
import { collectiveCost } from './collective.ts';
import type { Algorithm, CollectiveKind, CollectiveOptions, GroupPlacement, NetworkParams, Protocol } from './types.ts';

/** One nccl-tests style measurement, predicted. */
export interface CollectivePoint {
  bytes: number;
  seconds: number;
  /** S / t, bytes/s. */
  algBytesPerSecond: number;
  /** algbw × bus factor, bytes/s (nccl-tests `doc/PERFORMANCE.md`). */
  busBytesPerSecond: number;
  algorithm: Algorithm;
  protocol?: Protocol;
}

export function collectivePoint(kind: CollectiveKind, bytes: number, group: GroupPlacement, net: NetworkParams, options: CollectiveOptions = {}): CollectivePoint {
  const cost = collectiveCost(kind, bytes, group, net, options);
  const alg = cost.seconds > 0 ? bytes / cost.seconds : Infinity;
  const point: CollectivePoint = {
    bytes,
    seconds: cost.seconds,
    algBytesPerSecond: alg,
    busBytesPerSecond: alg * busFactor(kind, group.size),
    algorithm: cost.algorithm,
  };
  if (cost.protocol) point.protocol = cost.protocol;
  return point;
}

/** nccl-tests' default sweep shape: `-b 8 -e 8G -f 2`, sizes 8 B … 8 GiB doubling. */
export function sweepSizes(minBytes = 8, maxBytes = 8 * 2 ** 30): number[] {
  const out: number[] = [];
  for (let s = minBytes; s <= maxBytes; s *= 2) out.push(s);
  return out;
}

export function collectiveSweep(kind: CollectiveKind, group: GroupPlacement, net: NetworkParams, options: CollectiveOptions = {}, sizes = sweepSizes()): CollectivePoint[] {
  return sizes.map((b) => collectivePoint(kind, b, group, net, options));
}
