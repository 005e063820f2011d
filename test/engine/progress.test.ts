import { afterEach, describe, expect, it, vi } from 'vitest';
import { simulate, EngineStallError, type Task } from '../../src/engine/index.ts';
import { FluidNetwork, timeResolution } from '../../src/engine/fluid.ts';

/**
 * Issue 16: once simulated time passed ~1.6·10⁴ s, `now + remaining / rate` could round back to `now`
 * and the flow check rescheduled itself at the same instant forever. These plans hung the old engine
 * (the first at a 3·10⁴ s prefix); now every one ends, and shifting a plan in time shifts its result.
 */
function twoFlowsAfter(prefixSeconds: number, bytes: number): Task<string>[] {
  return [
    { process: 0, stream: 'c', work: { kind: 'delay', seconds: prefixSeconds }, tag: 'prefix' },
    { process: 0, stream: 'a', deps: [0], work: { kind: 'flow', latencySeconds: 1e-5, bytes, maxBytesPerSecond: 4.5e10, resources: ['l'] }, tag: 'f1' },
    { process: 0, stream: 'b', deps: [0], work: { kind: 'flow', latencySeconds: 2e-5, bytes: bytes * 1.7, maxBytesPerSecond: 4.5e10, resources: ['l'] }, tag: 'f2' },
  ];
}
const link = new Map([['l', 5e10]]);

describe('the engine progresses at any magnitude of simulated time', () => {
  it('flows after a long prefix finish, and a shift in time shifts the end', () => {
    for (const prefix of [1.6e4, 3e4, 1e5, 1e6, 1e9, 1e12]) {
      for (let k = 1; k <= 40; k++) {
        const bytes = 1e6 * k + 0.37 * k;
        const shifted = simulate(twoFlowsAfter(prefix, bytes), { resources: link });
        const reference = simulate(twoFlowsAfter(0, bytes), { resources: link });
        expect(shifted.makespan - prefix).toBeCloseTo(reference.makespan, 0);
        expect(Math.abs(shifted.makespan - prefix - reference.makespan)).toBeLessThanOrEqual(64 * timeResolution(prefix));
        expect(shifted.eventsProcessed).toBeLessThanOrEqual(reference.eventsProcessed + 4);
      }
    }
  });

  it('the time resolution is a few ulps of now, never below a picosecond', () => {
    expect(timeResolution(0)).toBe(1e-12);
    expect(timeResolution(3e4) / 3e4).toBeCloseTo(8 * Number.EPSILON, 20);
    expect(3e4 + timeResolution(3e4)).toBeGreaterThan(3e4);
  });

  it('refuses work it cannot schedule (non-finite or negative times, sizes, rates)', () => {
    const one = (work: Task<string>['work']) => () => simulate([{ process: 0, stream: 's', work, tag: 'x' }], { resources: link });
    expect(one({ kind: 'delay', seconds: Infinity })).toThrow(/seconds must be a finite number/);
    expect(one({ kind: 'delay', seconds: NaN })).toThrow(/seconds must be a finite number/);
    expect(one({ kind: 'delay', seconds: -1 })).toThrow(/seconds must be a finite number/);
    expect(one({ kind: 'flow', latencySeconds: 0, bytes: Infinity, maxBytesPerSecond: 1, resources: ['l'] })).toThrow(/bytes must be/);
    expect(one({ kind: 'flow', latencySeconds: 0, bytes: 1, maxBytesPerSecond: 0, resources: ['l'] })).toThrow(/maxBytesPerSecond must be positive/);
  });
});

describe('the progress guard stops a loop with one line instead of hanging', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a check that keeps rescheduling itself at the same instant', () => {
    // Re-create the old fixed point: the next completion is always "now" and nothing ever finishes.
    vi.spyOn(FluidNetwork.prototype, 'nextCompletion').mockImplementation((now: number) => now);
    vi.spyOn(FluidNetwork.prototype, 'collectFinished').mockImplementation(() => 0);
    const started = performance.now();
    let err: unknown;
    try {
      simulate(twoFlowsAfter(3e4, 1e6), { resources: link });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineStallError);
    expect((err as Error).message).toMatch(/^engine made no progress at t = 30000\.0 s after \d+ events: .*flow-check/);
    expect((err as Error).message).not.toContain('\n');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a check that creeps forward without finishing anything hits the event budget', () => {
    vi.spyOn(FluidNetwork.prototype, 'nextCompletion').mockImplementation((now: number) => now + 1e-9);
    vi.spyOn(FluidNetwork.prototype, 'collectFinished').mockImplementation(() => 0);
    expect(() => simulate(twoFlowsAfter(1, 1e6), { resources: link })).toThrow(/more events than 3 tasks can need/);
  });
});
