import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listHardwareIds, loadHardwareProfile } from '../../src/hardware/index.ts';
import {
  calibrationCases,
  fmtBytes,
  LARGE_MESSAGE_BYTES,
  predictCases,
  readCalibrationRows,
  rowFabric,
  rowOptions,
  summarize,
  TARGET_LARGE,
  TARGET_SMALL,
} from '../../src/network/calibration.ts';

/**
 * The model against nccl-tests measurements (shared/validation/collectives-calibration.jsonl): every row
 * whose `hardware` names a profile, busbw within 15 % at ≥ 64 MiB and within 35 % below.
 * Held to the targets: all such rows except
 * - `expected` rows (vendor engineers' statements, not measurements) — shown, not held;
 * - rows on a NIC fabric other than the profile's (evaluated as an inter_node_bandwidth what-if) — shown,
 *   not held: they describe another machine (two of them, 2× A100 on 8× 100G, were called "a bit low" /
 *   "a little low" by NVIDIA in nccl#495 and nccl#812);
 * - measurement artefacts: a row that a larger message of the same series beat by more than 2× in time.
 * `shardsim collective --validate` prints the same table.
 */
const FILE = fileURLToPath(new URL('../../../shared/validation/collectives-calibration.jsonl', import.meta.url));
const present = existsSync(FILE);

describe.skipIf(!present)('collectives calibration', () => {
  const ids = new Set(listHardwareIds());
  const rows = present ? readCalibrationRows(FILE) : [];
  const cases = calibrationCases(rows, (id) => (ids.has(id) ? loadHardwareProfile(id) : undefined));
  const results = predictCases(cases, (id) => loadHardwareProfile(id));
  const held = results.filter((r) => !r.excluded);

  it('covers the rows that name a profile, and holds most of them', () => {
    const named = rows.filter((r) => r.hardware && ids.has(r.hardware) && (r.busbw_GBps !== null || r.algbw_GBps !== null));
    expect(results).toHaveLength(named.length);
    expect(held.length).toBeGreaterThanOrEqual(60);
    expect(results.length - held.length).toBeLessThanOrEqual(8);
    // Both size classes and both single- and multi-node rows are held.
    expect(held.filter((r) => r.bytes < LARGE_MESSAGE_BYTES).length).toBeGreaterThan(15);
    expect(held.filter((r) => r.group.nodes > 1).length).toBeGreaterThan(5);
  });

  it('every held row within its target', () => {
    const outside = held
      .filter((r) => Math.abs(r.error) > (r.bytes >= LARGE_MESSAGE_BYTES ? TARGET_LARGE : TARGET_SMALL))
      .map((r) => `line ${r.line} ${r.hardware} ${r.kind} n=${r.group.size} ${fmtBytes(r.bytes)}: ${(r.error * 100).toFixed(1)}%`);
    expect(outside).toEqual([]);
  });

  it('per-hardware summary passes (printed for the record)', () => {
    const summary = summarize(results);
    const lines = summary.map(
      (s) =>
        `${s.hardware.padEnd(16)} >=64MiB n=${s.large.n} median ${(s.large.medianAbsError * 100).toFixed(1)}% max ${(s.large.maxAbsError * 100).toFixed(1)}%` +
        ` | <64MiB n=${s.small.n} median ${(s.small.medianAbsError * 100).toFixed(1)}% max ${(s.small.maxAbsError * 100).toFixed(1)}% | excluded ${s.excluded}`,
    );
    console.log(lines.join('\n'));
    expect(summary.map((s) => s.hardware)).toEqual(expect.arrayContaining(['dgx-a100-80gb', 'dgx-b200', 'dgx-h100', 'hgx-h200']));
    for (const s of summary) expect(s.pass, s.hardware).toBe(true);
  });
});

describe('row reading', () => {
  it('honours what the experiment forced, not what NCCL chose', () => {
    expect(rowOptions('NVLink4/NVSwitch, NVLS disabled (ring)')).toEqual({ nvls: false, algorithms: ['ring'] });
    expect(rowOptions('NVLink4/NVSwitch, NCCL_NVLS_ENABLE=0 (ring)').nvls).toBe(false);
    expect(rowOptions('InfiniBand HDR 4x200G/node, NCCL_ALGO=Ring')).toEqual({ algorithms: ['ring'] });
    expect(rowOptions('NVLink4; algo NCCL picks: Ring')).toEqual({});
    expect(rowOptions('NVLink4/NVSwitch + NVLS')).toEqual({});
  });

  it('reads NIC fabrics', () => {
    expect(rowFabric('RoCE 8x100G/node')).toEqual({ nics: 8, bytesPerSecondPerNic: 12.5e9 });
    expect(rowFabric('NVLink5 intra + EFA v4 8x400 Gb/s per node')).toEqual({ nics: 8, bytesPerSecondPerNic: 50e9 });
    expect(rowFabric('NVLink3/NVSwitch')).toBeUndefined();
  });
});
