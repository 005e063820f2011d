/**
 * Fits per-profile NCCL constants (`nccl.*` in hardware-profiles/) on
 * shared/validation/collectives-calibration.jsonl and prints every held row with the fitted values.
 * It only prints: copy the values you accept into the profile with a `sources` entry naming the rows.
 *
 *   npm run fit:nccl -- [FILE]
 *   FIT_PROFILES=dgx-a100-80gb FIT_KEYS=intra_latency_seconds,intra_half_bandwidth_bytes FIT_K=0.6 npm run fit:nccl --
 *
 * How the shipped values were obtained (k = size_efficiency_exponent, shared by every profile):
 *   1. for k in 0.5 … 0.9: fit dgx-a100-80gb on intra_latency_seconds, intra_half_bandwidth_bytes, and
 *      hgx-h200 + dgx-b200 on intra_latency_seconds, nvls_half_bandwidth_bytes, nvls_latency_seconds,
 *      inter_latency_seconds, inter_half_bandwidth_bytes; the summed score is lowest (flat) at 0.55–0.65.
 *   2. k = 0.6; the ring half-bandwidth size of NVSwitch profiles without mid-size ring rows is the
 *      A100 one scaled by their ring busbw (derived, see the profiles' sources).
 * Objective: sum over held rows of log(pred/meas)², plus 10 × (|err|/target − 1)² beyond the target
 * (15 % at ≥ 64 MiB, 35 % below); coordinate search in log space. NVLS latency is kept at or above a
 * full-node Ring/LL latency (NCCL picks Ring/LL for small messages). Rows excluded from the targets are
 * ignored.
 */
import { loadHardwareProfile, listHardwareIds } from '../hardware/index.ts';
import type { HardwareProfile } from '../hardware/types.ts';
import { calibrationCases, predictCase, readCalibrationRows, LARGE_MESSAGE_BYTES, TARGET_LARGE, TARGET_SMALL, fmtBytes } from './calibration.ts';
import { networkParams } from './params.ts';

const file = process.argv.find((a) => a.endsWith('.jsonl')) ?? '../shared/validation/collectives-calibration.jsonl';
const ids = new Set(listHardwareIds());
const profileOf = (id: string) => (ids.has(id) ? loadHardwareProfile(id) : undefined);
const cases = calibrationCases(readCalibrationRows(file), profileOf).filter((c) => !c.excluded);

type Nccl = HardwareProfile['nccl'];
const KEYS = (process.env.FIT_KEYS ?? 'intra_latency_seconds,intra_half_bandwidth_bytes,nvls_half_bandwidth_bytes,nvls_latency_seconds,inter_latency_seconds,inter_half_bandwidth_bytes')
  .split(',')
  .filter((k) => k !== '') as (keyof Nccl)[];

function withNccl(p: HardwareProfile, nccl: Nccl): HardwareProfile {
  return { ...p, nccl };
}

/**
 * NCCL predicts NVLS's fixed cost above a full-node Ring/LL (tuning.cc: 23 µs vs 6.6 + 14 × 0.6 µs) and
 * picks Ring/LL up to 1 MB on HGX H100 (nccl-tests#309): keep NVLS latency ≥ 2(G−1) × α.
 */
function feasible(n: Nccl, gpus: number): boolean {
  return n.size_efficiency_exponent <= 4 && (n.nvls_latency_seconds === 0 || n.nvls_latency_seconds >= 2 * (gpus - 1) * n.intra_latency_seconds);
}

/** Sum of squared log errors, plus a steep penalty for every row outside its target. */
function score(p: HardwareProfile, nccl: Nccl, mine: typeof cases): [number, number] {
  let worst = 0;
  let sq = 0;
  for (const c of mine) {
    const r = predictCase(c, networkParams(withNccl(p, nccl), c.interNodeBandwidthBytesPerSecond));
    const target = c.bytes >= LARGE_MESSAGE_BYTES ? TARGET_LARGE : TARGET_SMALL;
    const over = Math.abs(r.error) / target;
    worst = Math.max(worst, over);
    sq += Math.log(1 + r.error) ** 2 + (over > 1 ? 10 * (over - 1) ** 2 : 0);
  }
  return [sq, worst];
}

const better = (a: [number, number], b: [number, number]) => a[0] < b[0] - 1e-9;

let total = 0;
const only = process.env.FIT_PROFILES?.split(',');
for (const id of [...new Set(cases.map((c) => c.hardware))].sort().filter((x) => !only || only.includes(x))) {
  const p = loadHardwareProfile(id);
  const mine = cases.filter((c) => c.hardware === id);
  let nccl: Nccl = { ...p.nccl, ...(process.env.FIT_K ? { size_efficiency_exponent: Number(process.env.FIT_K) } : {}) };
  if (!feasible(nccl, p.node.gpus_per_node)) nccl = { ...nccl, nvls_latency_seconds: 2 * (p.node.gpus_per_node - 1) * nccl.intra_latency_seconds * 1.01 };
  let best = score(p, nccl, mine);
  for (let scale = 2; scale > 1.005; scale = Math.sqrt(scale)) {
    for (let iter = 0; iter < 20; iter++) {
      let moved = false;
      for (const k of KEYS) {
        const v = nccl[k] as number;
        if (!(v > 0)) continue;
        for (const f of [scale, 1 / scale]) {
          const trial = { ...nccl, [k]: v * f } as Nccl;
          if (!feasible(trial, p.node.gpus_per_node)) continue;
          const s = score(p, trial, mine);
          if (better(s, best)) {
            best = s;
            nccl = trial;
            moved = true;
          }
        }
      }
      if (!moved) break;
    }
  }
  console.log(`\n== ${id}: score ${best[0].toFixed(4)}  worst/target ${best[1].toFixed(3)}`);
  total += best[0];
  for (const k of KEYS) if (typeof nccl[k] === 'number') console.log(`  ${k}: ${(nccl[k] as number).toPrecision(3)}`);
  for (const c of mine) {
    const r = predictCase(c, networkParams(withNccl(p, nccl), c.interNodeBandwidthBytesPerSecond));
    console.log(`  line ${String(c.line).padStart(3)} ${c.kind.padEnd(14)} n=${String(c.group.size).padStart(2)} N=${c.group.nodes} ${fmtBytes(c.bytes).padStart(7)}${c.sizeAssumed ? '*' : ' '} meas ${(c.measuredBusBytesPerSecond / 1e9).toFixed(1).padStart(6)} pred ${(r.predictedBusBytesPerSecond / 1e9).toFixed(1).padStart(6)} ${(r.error * 100).toFixed(1).padStart(6)}%  ${r.cost.algorithm}/${r.cost.protocol}`);
  }
}
console.log(`\ntotal score ${total.toFixed(4)}`);
