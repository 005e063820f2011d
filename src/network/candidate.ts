import type { Algorithm, CollectiveCost, LinkClass, Protocol } from './types.ts';

/** One algorithm/protocol choice costed as latency + busBytes / busbw (NCCL's own form, tuning.cc ncclTopoGetAlgoTime). */
export function candidate(
  algorithm: Algorithm,
  protocol: Protocol,
  link: LinkClass,
  latencySeconds: number,
  busBytes: number,
  busBytesPerSecond: number,
): CollectiveCost {
  return { algorithm, protocol, link, latencySeconds, busBytes, busBytesPerSecond, seconds: latencySeconds + busBytes / busBytesPerSecond };
}
