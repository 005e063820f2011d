import { COLLECTIVE_CLI_NAMES } from './types.ts';
import { existsSync, readFileSync } from 'node:fs';
import { ShardsimError } from '../util/errors.ts';
import type { HardwareProfile } from '../hardware/types.ts';
import { busFactor } from './bus.ts';
import { collectiveCost } from './collective.ts';
import { networkParams } from './params.ts';
import type { CollectiveCost, CollectiveKind, CollectiveOptions, GroupPlacement, NetworkParams } from './types.ts';

/** One line of shared/validation/collectives-calibration.jsonl (fields as the file names them). */
export interface CalibrationRow {
  system: string;
  collective: string;
  n_gpus: number | null;
  nodes: number | null;
  interconnect: string;
  msg_bytes: number | null;
  busbw_GBps: number | null;
  algbw_GBps: number | null;
  latency_us: number | null;
  source: string;
  notes: string | null;
  hardware: string | null;
  kind?: string;
}

/** A row turned into a question for the model, or the reason it cannot be one. */
export interface CalibrationCase {
  line: number;
  row: CalibrationRow;
  hardware: string;
  kind: CollectiveKind;
  /** S in bytes; `sizeAssumed` when the row states a peak without its size. */
  bytes: number;
  sizeAssumed: boolean;
  group: GroupPlacement;
  options: CollectiveOptions;
  /** Line rate per node the row's fabric states, when it differs from the profile's (a what-if). */
  interNodeBandwidthBytesPerSecond?: number;
  measuredBusBytesPerSecond: number;
  /** A vendor engineer's statement, not a measurement. */
  expected: boolean;
  /** Why the row is shown but not held to the targets. */
  excluded?: string;
}

export interface CalibrationResult extends CalibrationCase {
  cost: CollectiveCost;
  predictedBusBytesPerSecond: number;
  /** predicted / measured − 1. */
  error: number;
}

/** The size boundary of the two accuracy targets (within 15 % at ≥ 64 MiB, within 35 % below). */
export const LARGE_MESSAGE_BYTES = 64 * 2 ** 20;
export const TARGET_LARGE = 0.15;
export const TARGET_SMALL = 0.35;
/** Rows that state only a peak busbw are compared at this size (nccl-tests sweeps usually end at 8–16 GiB). */
export const PEAK_SIZE_BYTES = 8 * 2 ** 30;

const KINDS = COLLECTIVE_CLI_NAMES;

export function readCalibrationRows(file: string): CalibrationRow[] {
  if (!existsSync(file)) {
    throw new ShardsimError(`calibration file not found: ${file}`, { key: '--data', fix: 'pass the path of collectives-calibration.jsonl' });
  }
  const rows: CalibrationRow[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!text.trim()) return;
      try {
        rows.push(JSON.parse(text) as CalibrationRow);
      } catch {
        throw new ShardsimError(`line ${i + 1} of ${file} is not valid JSON`, { key: '--data' });
      }
    });
  return rows;
}

/**
 * What the row's experiment forced, read from its `interconnect` text: `NCCL_NVLS_ENABLE=0` / "NVLS off"
 * turns NVLS off; `NCCL_ALGO=Ring` or a trailing ", Ring" / "(ring)" forces the ring. "algo NCCL picks:
 * Ring" describes NCCL's own choice, which the model must make itself, so it forces nothing.
 */
export function rowOptions(interconnect: string): CollectiveOptions {
  const o: CollectiveOptions = {};
  if (/NVLS[_ ]?(disabled|off)|NVLS_ENABLE=0/i.test(interconnect)) o.nvls = false;
  if (!/picks/i.test(interconnect) && /NCCL_ALGO=Ri|,\s*Ring\b|\(ring\b|ring algorithm/i.test(interconnect)) o.algorithms = ['ring'];
  return o;
}

/** "8x100G", "4x200G", "8x400 Gb/s" in the interconnect text: NICs × Gb/s per node. */
export function rowFabric(interconnect: string): { nics: number; bytesPerSecondPerNic: number } | undefined {
  const m = /(\d+)\s*x\s*(\d+)\s*G/i.exec(interconnect);
  if (!m) return undefined;
  return { nics: Number(m[1]), bytesPerSecondPerNic: (Number(m[2]) * 1e9) / 8 };
}

/**
 * Turns rows into cases. Rows kept: `hardware` names a loaded profile and a busbw (or algbw) is given.
 * - No size: a peak, compared at PEAK_SIZE_BYTES.
 * - No GPU count (the two `expected` rows): two full nodes, which is what the statements describe.
 * - A stated NIC fabric different from the profile's is applied as an inter-node bandwidth what-if; such
 *   a row describes another machine, so it is shown but not held to the targets.
 * - Excluded from the targets (still shown): rows a larger message of the same series beat by more than 2×
 *   in time (time falling with size is a measurement artefact no cost model can follow), and `expected`
 *   rows.
 */
export function calibrationCases(rows: CalibrationRow[], profileOf: (id: string) => HardwareProfile | undefined): CalibrationCase[] {
  const cases: CalibrationCase[] = [];
  rows.forEach((row, i) => {
    const profile = row.hardware ? profileOf(row.hardware) : undefined;
    const kind = KINDS[row.collective.toLowerCase()];
    if (!profile || !kind) return;
    const perNode = profile.node.gpus_per_node;
    const expected = /expected/i.test(row.kind ?? '');
    const nodes = row.nodes ?? (row.n_gpus === null ? 2 : Math.ceil(row.n_gpus / perNode));
    const size = row.n_gpus ?? nodes * perNode;
    const factor = busFactor(kind, size);
    const measured = row.busbw_GBps ?? (row.algbw_GBps !== null ? row.algbw_GBps * factor : null);
    if (measured === null || !(measured > 0)) return;
    const options = rowOptions(row.interconnect);
    if (expected && nodes > 1 && !options.algorithms) options.algorithms = ['ring'];
    const c: CalibrationCase = {
      line: i + 1,
      row,
      hardware: profile.id,
      kind,
      bytes: row.msg_bytes ?? PEAK_SIZE_BYTES,
      sizeAssumed: row.msg_bytes === null,
      group: { size, nodes, gpusPerNode: Math.ceil(size / nodes) },
      options,
      measuredBusBytesPerSecond: measured * 1e9,
      expected,
    };
    const fabric = nodes > 1 ? rowFabric(row.interconnect) : undefined;
    if (fabric) {
      const perNodeRow = fabric.nics * fabric.bytesPerSecondPerNic;
      const perNodeProfile = profile.scale_out.nics_per_node * profile.scale_out.bytes_per_second_per_nic;
      if (Math.abs(perNodeRow / perNodeProfile - 1) > 0.01) c.interNodeBandwidthBytesPerSecond = perNodeRow;
    }
    if (c.interNodeBandwidthBytesPerSecond !== undefined) {
      c.excluded = `fabric ${fabric!.nics}×${(fabric!.bytesPerSecondPerNic * 8) / 1e9}G differs from the profile's: a what-if, not the profiled system`;
    }
    if (expected) c.excluded = 'expected (vendor statement, not a measurement)';
    cases.push(c);
  });
  markArtefacts(cases);
  return cases;
}

function seriesKey(c: CalibrationCase): string {
  const r = c.row;
  return [r.source, r.system, r.collective, r.n_gpus, r.nodes, r.interconnect].join('|');
}

function markArtefacts(cases: CalibrationCase[]): void {
  const time = (c: CalibrationCase) => (c.bytes * busFactor(c.kind, c.group.size)) / c.measuredBusBytesPerSecond;
  for (const c of cases) {
    if (c.sizeAssumed || c.excluded) continue;
    const key = seriesKey(c);
    const beaten = cases.find((o) => o !== c && !o.sizeAssumed && seriesKey(o) === key && o.bytes > c.bytes && time(o) < time(c) / 2);
    if (beaten) {
      c.excluded = `artefact: ${fmtBytes(beaten.bytes)} took ${(time(beaten) * 1e6).toFixed(0)} us, under half of this row's ${(time(c) * 1e6).toFixed(0)} us`;
    }
  }
}

export function predictCase(c: CalibrationCase, net: NetworkParams): CalibrationResult {
  const cost = collectiveCost(c.kind, c.bytes, c.group, net, c.options);
  const busBytes = c.bytes * busFactor(c.kind, c.group.size);
  const predicted = busBytes / cost.seconds;
  return { ...c, cost, predictedBusBytesPerSecond: predicted, error: predicted / c.measuredBusBytesPerSecond - 1 };
}

/** Predicts every case with its profile's parameters (plus the row's fabric what-if). */
export function predictCases(cases: CalibrationCase[], profileOf: (id: string) => HardwareProfile): CalibrationResult[] {
  return cases.map((c) => predictCase(c, networkParams(profileOf(c.hardware), c.interNodeBandwidthBytesPerSecond)));
}

export interface ErrorStats {
  n: number;
  medianAbsError: number;
  maxAbsError: number;
}

export interface HardwareSummary {
  hardware: string;
  large: ErrorStats;
  small: ErrorStats;
  excluded: number;
  pass: boolean;
}

function stats(errors: number[]): ErrorStats {
  const a = errors.map(Math.abs).sort((x, y) => x - y);
  if (a.length === 0) return { n: 0, medianAbsError: 0, maxAbsError: 0 };
  const mid = a.length / 2;
  const median = a.length % 2 ? a[Math.floor(mid)]! : (a[mid - 1]! + a[mid]!) / 2;
  return { n: a.length, medianAbsError: median, maxAbsError: a[a.length - 1]! };
}

/** Per-hardware error statistics over the rows held to the targets, large (≥ 64 MiB) and small. */
export function summarize(results: CalibrationResult[]): HardwareSummary[] {
  const ids = [...new Set(results.map((r) => r.hardware))].sort();
  return ids.map((hardware) => {
    const mine = results.filter((r) => r.hardware === hardware);
    const held = mine.filter((r) => !r.excluded);
    const large = stats(held.filter((r) => r.bytes >= LARGE_MESSAGE_BYTES).map((r) => r.error));
    const small = stats(held.filter((r) => r.bytes < LARGE_MESSAGE_BYTES).map((r) => r.error));
    return { hardware, large, small, excluded: mine.length - held.length, pass: large.maxAbsError <= TARGET_LARGE && small.maxAbsError <= TARGET_SMALL };
  });
}

/** Whether a result meets its size class's target. */
export function withinTarget(r: CalibrationResult): boolean {
  return Math.abs(r.error) <= (r.bytes >= LARGE_MESSAGE_BYTES ? TARGET_LARGE : TARGET_SMALL);
}

/** "64MiB" for binary multiples, "1.00 GB" otherwise. */
export function fmtBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = b;
  while (v >= 1024 && i < units.length - 1 && Number.isInteger(v / 1024)) {
    v /= 1024;
    i++;
  }
  if (v < 1024 || i === units.length - 1) return `${v}${units[i]}`;
  const si = ['B', 'kB', 'MB', 'GB', 'TB'];
  const k = Math.min(si.length - 1, Math.floor(Math.log10(b) / 3));
  return `${(b / 1000 ** k).toFixed(2)} ${si[k]}`;
}
