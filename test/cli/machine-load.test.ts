import { describe, expect, it } from 'vitest';
import { othersLoad, parseProcStat } from '../../src/cli/machine-load.ts';

describe("the machine's other load during a benchmark run", () => {
  it('reads the whole-machine line of /proc/stat in seconds (USER_HZ 100), idle and iowait not busy, steal apart', () => {
    const text = 'cpu  5750778 13557 533245 5871893 4893 0 41355 17704 0 0\ncpu0 2890758 6393 267352 2920166 2812 0 20112 8850 0 0\nintr 1\n';
    const t = parseProcStat(text)!;
    expect(t.busySeconds).toBeCloseTo((5750778 + 13557 + 533245 + 0 + 41355) / 100, 6);
    expect(t.stealSeconds).toBeCloseTo(177.04, 6);
    expect(parseProcStat('intr 1\n')).toBeUndefined();
    expect(parseProcStat('cpu  1 2 x 4 5 6 7 8\n')).toBeUndefined();
  });

  it("subtracts the run's own CPU and divides by its wall time", () => {
    const before = { busySeconds: 100, stealSeconds: 10 };
    // 2 s of wall: the run used 1.6 s of CPU, the machine 3.6 s in all, 0.1 s stolen.
    expect(othersLoad(before, { busySeconds: 103.6, stealSeconds: 10.1 }, 1.6, 2)).toEqual({ cores: expect.closeTo(1, 9), stealCores: expect.closeTo(0.05, 9) });
    // Tick rounding can put the machine's count below the run's own: never negative.
    expect(othersLoad(before, { busySeconds: 101.5, stealSeconds: 10 }, 1.6, 2).cores).toBe(0);
    expect(othersLoad(before, before, 0, 0)).toEqual({ cores: 0, stealCores: 0 });
  });
});
