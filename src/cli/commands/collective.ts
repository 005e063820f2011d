import { COLLECTIVE_CLI_NAMES } from '../../network/types.ts';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { parseBandwidth, parseBytes } from '../../config/units.ts';
import { listHardwareIds, loadHardwareProfile } from '../../hardware/index.ts';
import type { HardwareProfile } from '../../hardware/types.ts';
import {
  calibrationCases,
  fmtBytes,
  LARGE_MESSAGE_BYTES,
  predictCases,
  readCalibrationRows,
  summarize,
  TARGET_LARGE,
  TARGET_SMALL,
  withinTarget,
  type CalibrationResult,
  type HardwareSummary,
} from '../../network/calibration.ts';
import { networkParams } from '../../network/params.ts';
import { collectivePoint, collectiveSweep, type CollectivePoint } from '../../network/sweep.ts';
import { collectiveCandidates } from '../../network/collective.ts';
import type { Algorithm, CollectiveKind, CollectiveOptions, GroupPlacement } from '../../network/types.ts';
import { ShardsimError } from '../../util/errors.ts';
import { positiveInt } from '../options.ts';

const KINDS = COLLECTIVE_CLI_NAMES;
const ALGORITHMS: readonly Algorithm[] = ['ring', 'tree', 'nvls', 'nvls_tree', 'p2p'];
const DEFAULT_DATA = '../shared/validation/collectives-calibration.jsonl';

interface Options {
  bytes?: string;
  gpus?: number;
  nodes?: number;
  hardware?: string;
  interNodeBandwidth?: string;
  algo?: string;
  nvls?: boolean;
  json?: boolean;
  sweep?: boolean;
  validate?: boolean;
  data?: string;
}

export function registerCollective(program: Command): void {
  program
    .command('collective')
    .description('predict one NCCL collective like nccl-tests would measure it (time, algbw, busbw, algorithm), sweep sizes, or check the model against measurements')
    .argument('[kind]', 'allreduce | allgather | reducescatter | broadcast | sendrecv | alltoall')
    .option('--bytes <size>', 'message size S (nccl-tests "size"): a number of bytes or "64MiB", "1 GB"')
    .option('--gpus <n>', 'ranks in the group', positiveInt('gpus'))
    .option('--nodes <n>', 'nodes the group spans (default: as few as the GPUs fit in)', positiveInt('nodes'))
    .option('--hardware <id>', 'hardware profile id (see `shardsim list hardware`)')
    .option('--inter-node-bandwidth <bw>', 'what-if scale-out bandwidth per node, e.g. "800 Gb/s"')
    .option('--algo <list>', 'restrict algorithms like NCCL_ALGO, e.g. "ring" or "ring,tree"')
    .option('--no-nvls', 'disable NVLink SHARP like NCCL_NVLS_ENABLE=0')
    .option('--json', 'print JSON: {time_s, algbw_GBps, busbw_GBps, algorithm, protocol} (an array with --sweep)')
    .option('--sweep', 'an nccl-tests style table from 8 B to 8 GiB (×2 steps)')
    .option('--validate', 'compare the model with nccl-tests measurements: table and per-hardware summary')
    .option('--data <file>', `measurements for --validate (default ${DEFAULT_DATA}, relative to the working directory)`)
    .action(async (kindArg: string | undefined, o: Options) => {
      if (o.validate) {
        process.stdout.write(validate(resolve(o.data ?? DEFAULT_DATA), o.json === true));
        return;
      }
      const kind = parseKind(kindArg);
      if (!o.hardware) throw new ShardsimError('--hardware is required', { fix: `one of ${listHardwareIds().join(', ')}` });
      if (o.gpus === undefined) throw new ShardsimError('--gpus is required', { fix: 'e.g. --gpus 8' });
      const profile = loadHardwareProfile(o.hardware);
      const group = placement(o.gpus, o.nodes, profile, kind);
      const bandwidth = o.interNodeBandwidth !== undefined ? await parseBandwidth(o.interNodeBandwidth, '--inter-node-bandwidth') : undefined;
      const net = networkParams(profile, bandwidth);
      const options = parseOptions(o);
      if (o.sweep) {
        checkAvailable(kind, 2 ** 20, group, net, options, profile);
        const points = collectiveSweep(kind, group, net, options);
        process.stdout.write(o.json ? JSON.stringify(points.map(pointJson), null, 2) + '\n' : sweepTable(kind, group, profile, points));
        return;
      }
      if (o.bytes === undefined) throw new ShardsimError('--bytes is required (or --sweep)', { fix: 'e.g. --bytes 64MiB' });
      const bytes = await readBytes(o.bytes);
      // nccl-tests holds the buffer on every GPU: a size beyond GPU memory cannot be measured, or run.
      if (bytes > profile.gpu.memory_bytes) {
        throw new ShardsimError(`--bytes ${fmtBytes(bytes)} does not fit in the ${fmtBytes(profile.gpu.memory_bytes)} of one ${profile.gpu.name}`, { fix: `use at most ${fmtBytes(profile.gpu.memory_bytes)}` });
      }
      checkAvailable(kind, bytes, group, net, options, profile);
      const point = collectivePoint(kind, bytes, group, net, options);
      if (o.json) process.stdout.write(JSON.stringify(pointJson(point)) + '\n');
      else process.stdout.write(pointLine(kind, group, profile, point));
    });
}

function parseKind(arg: string | undefined): CollectiveKind {
  const kind = arg ? KINDS[arg.toLowerCase().replace(/[_-]/g, '')] : undefined;
  if (!kind) {
    throw new ShardsimError(arg ? `unknown collective "${arg}"` : 'which collective?', { fix: `one of ${Object.keys(KINDS).join(', ')} (or --validate)` });
  }
  return kind;
}

async function readBytes(text: string): Promise<number> {
  const value = /^\s*(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : text;
  const bytes = Math.round(await parseBytes(value, '--bytes'));
  // Less than a byte rounds to nothing moved: "0.00 us, algbw Infinity" is not a prediction.
  if (bytes < 1) throw new ShardsimError(`--bytes must be at least 1 byte, got "${text}"`, { fix: 'e.g. --bytes 8 or --bytes 64MiB' });
  return bytes;
}

/**
 * Refuses a restriction (--algo, --no-nvls) that leaves no algorithm for this group, as NCCL does ("no
 * algorithm/protocol available"), naming the ones that can run: NVLS needs NVSwitch SHARP inside a node,
 * tree spans nodes.
 */
function checkAvailable(kind: CollectiveKind, bytes: number, group: GroupPlacement, net: ReturnType<typeof networkParams>, options: CollectiveOptions, profile: HardwareProfile): void {
  if (collectiveCandidates(kind, bytes, group, net, options).length > 0) return;
  const possible = [...new Set(collectiveCandidates(kind, bytes, group, net, options.nvls === false ? { nvls: false } : {}).map((c) => c.algorithm))];
  const asked = options.algorithms ? `--algo ${options.algorithms.join(',')}` : 'these options';
  const why = options.algorithms?.includes('nvls') && !net.nvls ? `; ${profile.id} has no NVLink SHARP (NVLS)` : options.algorithms?.includes('tree') && group.nodes === 1 ? '; tree runs across nodes' : '';
  throw new ShardsimError(`${asked} leaves no algorithm for ${kind} over ${group.size} GPUs on ${group.nodes} node(s) of ${profile.id}${why}`, {
    fix: possible.length > 0 ? `choose from ${possible.join(', ')}` : 'drop --algo',
  });
}

function placement(gpus: number, nodesArg: number | undefined, profile: HardwareProfile, kind: CollectiveKind): GroupPlacement {
  const perNode = profile.node.gpus_per_node;
  const nodes = nodesArg ?? Math.ceil(gpus / perNode);
  if (gpus < 2) throw new ShardsimError(`--gpus must be at least 2 for a collective, got ${gpus}`, { fix: 'e.g. --gpus 8' });
  if (kind === 'send_recv' && gpus !== 2) throw new ShardsimError('sendrecv is between two GPUs', { fix: '--gpus 2 (add --nodes 2 for two nodes)' });
  if (nodes > gpus) throw new ShardsimError(`${gpus} GPUs cannot span ${nodes} nodes`, { fix: `use --nodes ${gpus} or fewer` });
  if (gpus % nodes !== 0) throw new ShardsimError(`${gpus} GPUs cannot be spread evenly over ${nodes} nodes`, { fix: `use a multiple of ${nodes} GPUs` });
  if (gpus / nodes > perNode) {
    throw new ShardsimError(`${gpus / nodes} GPUs per node, but a ${profile.id} node has ${perNode}`, { fix: `use --nodes ${Math.ceil(gpus / perNode)} or more` });
  }
  return { size: gpus, nodes, gpusPerNode: gpus / nodes };
}

function parseOptions(o: Options): CollectiveOptions {
  const options: CollectiveOptions = {};
  if (o.nvls === false) options.nvls = false;
  if (o.algo !== undefined) {
    const list = o.algo.split(',').map((a) => a.trim().toLowerCase());
    for (const a of list) {
      if (!ALGORITHMS.includes(a as Algorithm)) throw new ShardsimError(`unknown algorithm "${a}" in --algo`, { fix: `choose from ${ALGORITHMS.join(', ')}` });
    }
    options.algorithms = list as Algorithm[];
  }
  return options;
}

function pointJson(p: CollectivePoint) {
  return {
    size_bytes: p.bytes,
    time_s: p.seconds,
    algbw_GBps: p.algBytesPerSecond / 1e9,
    busbw_GBps: p.busBytesPerSecond / 1e9,
    algorithm: p.algorithm,
    protocol: p.protocol ?? null,
  };
}

function describe(kind: CollectiveKind, group: GroupPlacement, profile: HardwareProfile): string {
  return `${kind} over ${group.size} GPUs on ${group.nodes} node(s) of ${profile.id} (${profile.name})`;
}

function algorithmLabel(p: CollectivePoint): string {
  return p.protocol ? `${p.algorithm}/${p.protocol}` : p.algorithm;
}

function pointLine(kind: CollectiveKind, group: GroupPlacement, profile: HardwareProfile, p: CollectivePoint): string {
  return (
    `${describe(kind, group, profile)}, ${fmtBytes(p.bytes)}:\n` +
    `  time ${(p.seconds * 1e6).toFixed(2)} us   algbw ${(p.algBytesPerSecond / 1e9).toFixed(2)} GB/s   busbw ${(p.busBytesPerSecond / 1e9).toFixed(2)} GB/s   ${algorithmLabel(p)}\n`
  );
}

function sweepTable(kind: CollectiveKind, group: GroupPlacement, profile: HardwareProfile, points: CollectivePoint[]): string {
  const lines = [
    `# shardsim collective: ${describe(kind, group, profile)} — model predictions, not measurements`,
    '# algbw = size / time; busbw = algbw × bus factor (nccl-tests doc/PERFORMANCE.md)',
    '#',
    `# ${'size'.padStart(12)} ${'count'.padStart(13)} ${'type'.padStart(6)} ${'time'.padStart(11)} ${'algbw'.padStart(8)} ${'busbw'.padStart(8)}  algorithm`,
    `# ${'(B)'.padStart(12)} ${'(elements)'.padStart(13)} ${''.padStart(6)} ${'(us)'.padStart(11)} ${'(GB/s)'.padStart(8)} ${'(GB/s)'.padStart(8)}`,
  ];
  for (const p of points) {
    lines.push(
      `  ${String(p.bytes).padStart(12)} ${String(Math.floor(p.bytes / 4)).padStart(13)} ${'float'.padStart(6)} ${(p.seconds * 1e6).toFixed(2).padStart(11)} ${(p.algBytesPerSecond / 1e9).toFixed(2).padStart(8)} ${(p.busBytesPerSecond / 1e9).toFixed(2).padStart(8)}  ${algorithmLabel(p)}`,
    );
  }
  return lines.join('\n') + '\n';
}

function validate(file: string, json: boolean): string {
  const ids = new Set(listHardwareIds());
  const profileOf = (id: string) => (ids.has(id) ? loadHardwareProfile(id) : undefined);
  const rows = readCalibrationRows(file);
  const cases = calibrationCases(rows, profileOf);
  const results = predictCases(cases, (id) => loadHardwareProfile(id));
  const summary = summarize(results);
  if (json) return JSON.stringify({ file, rows: rows.length, results: results.map(resultJson), summary }, null, 2) + '\n';
  return validationTable(file, rows.length, results, summary);
}

function resultJson(r: CalibrationResult) {
  return {
    line: r.line,
    hardware: r.hardware,
    collective: r.kind,
    gpus: r.group.size,
    nodes: r.group.nodes,
    size_bytes: r.bytes,
    size_assumed: r.sizeAssumed,
    measured_busbw_GBps: r.measuredBusBytesPerSecond / 1e9,
    predicted_busbw_GBps: r.predictedBusBytesPerSecond / 1e9,
    error: r.error,
    algorithm: r.cost.algorithm,
    protocol: r.cost.protocol ?? null,
    excluded: r.excluded ?? null,
    source: r.row.source,
  };
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

function validationTable(file: string, rowCount: number, results: CalibrationResult[], summary: HardwareSummary[]): string {
  const out: string[] = [
    `# collectives calibration: ${file}`,
    `# ${results.length} of ${rowCount} rows name a hardware profile; targets: busbw within ${TARGET_LARGE * 100}% at >= ${fmtBytes(LARGE_MESSAGE_BYTES)}, within ${TARGET_SMALL * 100}% below.`,
    '# size* = the row gives a peak without its size, compared at 8 GiB. Excluded rows are shown but not held to the targets.',
    '#',
    `# ${'line'.padStart(4)}  ${'hardware'.padEnd(14)} ${'collective'.padEnd(14)} ${'gpus'.padStart(4)} ${'nodes'.padStart(5)} ${'size'.padStart(8)} ${'measured'.padStart(9)} ${'predicted'.padStart(9)} ${'error'.padStart(7)}  ${'algorithm'.padEnd(16)} status`,
  ];
  for (const r of results) {
    const status = r.excluded ? `excluded: ${r.excluded}` : withinTarget(r) ? 'ok' : 'OUTSIDE TARGET';
    out.push(
      `  ${String(r.line).padStart(4)}  ${r.hardware.padEnd(14)} ${r.kind.padEnd(14)} ${String(r.group.size).padStart(4)} ${String(r.group.nodes).padStart(5)} ${(fmtBytes(r.bytes) + (r.sizeAssumed ? '*' : '')).padStart(8)} ${(r.measuredBusBytesPerSecond / 1e9).toFixed(2).padStart(9)} ${(r.predictedBusBytesPerSecond / 1e9).toFixed(2).padStart(9)} ${pct(r.error).padStart(7)}  ${(r.cost.algorithm + (r.cost.protocol ? '/' + r.cost.protocol : '')).padEnd(16)} ${status}`,
    );
  }
  out.push('', `# summary (busbw error |predicted / measured − 1| over the rows held to the targets)`);
  out.push(`# ${'hardware'.padEnd(16)} ${'n>=64MiB'.padStart(8)} ${'median'.padStart(7)} ${'max'.padStart(7)}   ${'n<64MiB'.padStart(7)} ${'median'.padStart(7)} ${'max'.padStart(7)}   ${'excluded'.padStart(8)}  verdict`);
  for (const s of summary) {
    const f = (n: number, x: number) => (n > 0 ? `${(x * 100).toFixed(1)}%` : '—');
    out.push(
      `  ${s.hardware.padEnd(16)} ${String(s.large.n).padStart(8)} ${f(s.large.n, s.large.medianAbsError).padStart(7)} ${f(s.large.n, s.large.maxAbsError).padStart(7)}   ${String(s.small.n).padStart(7)} ${f(s.small.n, s.small.medianAbsError).padStart(7)} ${f(s.small.n, s.small.maxAbsError).padStart(7)}   ${String(s.excluded).padStart(8)}  ${s.pass ? 'pass' : 'FAIL'}`,
    );
  }
  const held = results.filter((r) => !r.excluded);
  const inside = held.filter(withinTarget).length;
  out.push(`# ${inside} of ${held.length} held rows within target; ${results.length - held.length} excluded. ${summary.every((s) => s.pass) ? 'PASS' : 'FAIL'}`);
  return out.join('\n') + '\n';
}
