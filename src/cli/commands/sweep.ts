import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { prepareOutputDir, prepareOutputFile, prepareStreamingFile, type OutputFile, type StreamingFile } from '../../util/output.ts';
import { positiveInt } from '../options.ts';
import { ShardsimError } from '../../util/errors.ts';
import { prepareSweep, runSweep } from '../../sweep/sweep.ts';
import { parseShard } from '../../sweep/shard.ts';
import { progressBar } from '../../sweep/progress.ts';
import { sweepCsv } from '../../sweep/csv.ts';
import { toJsonl } from '../../sweep/jsonl.ts';
import { sweepTable } from '../../sweep/table.ts';
import { heatmapKeys, writeSweepReport } from '../../sweep/report.ts';
import { rankByIndex, reasonCounts } from '../../sweep/rank.ts';
import type { SweepMeta, SweepRow } from '../../sweep/types.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Worker threads when --jobs is not given: one fewer than the cores. Every worker is a V8 isolate with its
 * own GC and JIT helper threads, and the main thread merges results: a worker per core oversubscribes the
 * machine. Measured on the 2-core VM (`npm run bench:sweep`, 1,600 configs): 2 workers 13.1 s CPU and 7.05 s
 * wall, 1 thread 9.6 s CPU and 6.8 s wall — as fast, for a quarter less CPU (README "Speed").
 */
export function defaultJobs(cores: number): number {
  return Math.max(1, cores - 1);
}

export interface SweepOutputOptions {
  /** CSV on stdout instead of the table. */
  csvStdout?: boolean;
  /** CSV file, claimed before the sweep ran. */
  csvFile?: OutputFile;
  json?: boolean;
  top?: number;
  /** Report folder (claimed before the sweep ran), or false for none. */
  out?: string | false;
  heatmap?: string;
  /** Extra fields for the JSON output. */
  extra?: Record<string, unknown>;
}

/**
 * The outputs of `sweep` and `merge`, checked before any work: `--csv -` and `--json` both want stdout;
 * `--jsonl` needs a file (merge reads files); then each path is claimed (util/output.ts). Returns the
 * claimed outputs.
 */
export function prepareSweepOutputs(o: Record<string, unknown>, inputs: readonly string[]): { csvFile?: OutputFile; jsonl?: StreamingFile } {
  if (o.csv === '-' && o.json) throw new ShardsimError('--csv - and --json both write to stdout', { fix: 'choose one, or write the CSV to a file (--csv sweep.csv)' });
  if (o.jsonl === '-') throw new ShardsimError('--jsonl needs a file (`shardsim merge` reads files)', { fix: 'e.g. --jsonl part-1.jsonl, or --json for JSON on stdout' });
  const targets = [['--csv', o.csv], ['--jsonl', o.jsonl]].filter((t): t is [string, string] => typeof t[1] === 'string' && t[1] !== '-');
  const abs = (p: string) => resolvePath(p);
  for (const [flag, path] of targets) {
    if (inputs.some((i) => abs(i) === abs(path))) throw new ShardsimError(`${flag} "${path}" is also an input of this command`, { fix: 'write to another file' });
  }
  if (targets.length === 2 && abs(targets[0]![1]) === abs(targets[1]![1])) throw new ShardsimError(`--csv and --jsonl both name "${targets[0]![1]}"`, { fix: 'give them different files' });
  const csvFile = typeof o.csv === 'string' && o.csv !== '-' ? prepareOutputFile(o.csv, '--csv') : undefined;
  const jsonl = typeof o.jsonl === 'string' ? prepareStreamingFile(o.jsonl, '--jsonl') : undefined;
  return { ...(csvFile ? { csvFile } : {}), ...(jsonl ? { jsonl } : {}) };
}

/** Table (or JSON) on stdout, CSV file, report folder: shared by `sweep` and `merge`. */
export async function emitSweep(meta: SweepMeta, rows: SweepRow[], o: SweepOutputOptions): Promise<void> {
  if (o.csvStdout) process.stdout.write(sweepCsv(rows, meta.keys));
  if (o.json) {
    const rank = rankByIndex(rows);
    const json = {
      sweep: meta,
      ...o.extra,
      rows: rows.map((r) => ({ rank: rank.get(r.index) ?? null, ...r })),
      skipped: reasonCounts(rows, 'skipped'),
      failed: reasonCounts(rows, 'error'),
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } else if (!o.csvStdout) {
    process.stdout.write(sweepTable(meta, rows, { top: o.top ?? 25 }) + '\n');
  }
  // Files after stdout: a failing disk still leaves the table on the screen.
  o.csvFile?.write(sweepCsv(rows, meta.keys));
  const dir = o.out;
  if (dir !== false && dir !== undefined) {
    const files = await writeSweepReport(dir, meta, rows, o.heatmap !== undefined ? { heatmap: o.heatmap } : {});
    process.stderr.write(`report: ${dir}/ (${files.map((f) => f.slice(dir.length + 1)).filter((f) => !f.endsWith('.svg') && !f.endsWith('.vl.json')).join(', ')}, with .svg and .vl.json)\n`);
  }
}

/** Internal errors are bugs: the sweep still prints everything, then fails (exit 1). */
export function failOnInternalErrors(rows: readonly SweepRow[]): void {
  const failed = reasonCounts(rows, 'error');
  if (failed.length > 0) {
    const n = failed.reduce((a, b) => a + b.count, 0);
    throw new Error(`${n} config(s) failed with an internal error, e.g. ${failed[0]!.reason}`);
  }
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('simulate every combination of the varied keys (a cartesian grid) in parallel and rank them: best tokens/s per GPU that fits first')
    .argument('<base>', 'base scenario (an Axolotl YAML) the varied keys are set on')
    .option('--vary <KEY=v1,v2,…>', 'a scenario key path and its values (YAML scalars); repeat for more keys, e.g. --vary micro_batch_size=1,2,4 --vary fsdp_config.reshard_after_forward=true,false', collect, [] as string[])
    .option('--hardware <ids>', 'hardware profiles to sweep, comma-separated (see `shardsim list hardware`)')
    .option('--nodes <list>', 'node counts to sweep, comma-separated, e.g. 1,2,4')
    .option('--jobs <n>', 'worker threads (default: one fewer than the cores; 1 runs in the main thread)', positiveInt('jobs'))
    .option('--shard <i/n>', 'run only configs with index mod n = i-1 (for job arrays; merge the --jsonl files with `shardsim merge`)')
    .option('--jsonl <file>', 'write one JSON line per config (skipped ones included), for `shardsim merge`')
    .option('--csv <file>', 'write one CSV row per config ("-" for stdout instead of the table)')
    .option('--json', 'print the rows as JSON instead of the table')
    .option('--top <n>', 'table rows per section (fit / out of memory); 0 for all', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new ShardsimError(`--top must be a whole number ≥ 0, got "${v}"`, { fix: 'e.g. --top 10' });
      return n;
    })
    .option('--heatmap <x,y>', 'the two keys of the heatmap (default: the first two varied)')
    .option('--out <dir>', 'report folder: sweep.csv, heatmap and Pareto charts (default reports/sweep-<base>/; none for a shard unless given)')
    .option('--no-report', 'do not write the report folder')
    .action(async (base: string, o: Record<string, unknown>) => {
      const shard = o.shard !== undefined ? parseShard(String(o.shard)) : undefined;
      if (o.csv === '-' && o.json) throw new ShardsimError('--csv - and --json both write to stdout', { fix: 'choose one, or write the CSV to a file (--csv sweep.csv)' });
      const prepared = prepareSweep(base, {
        vary: o.vary as string[],
        ...(o.hardware !== undefined ? { hardware: String(o.hardware) } : {}),
        ...(o.nodes !== undefined ? { nodes: String(o.nodes) } : {}),
      }, shard);
      for (const w of prepared.loaded.warnings) process.stderr.write(`warning: ${w}\n`);
      // Check --heatmap before simulating, not after.
      if (o.heatmap !== undefined) heatmapKeys(prepared.meta, [], String(o.heatmap));
      // Every output is checked and claimed before the first config runs (util/output.ts).
      const { csvFile, jsonl } = prepareSweepOutputs(o, [base]);
      const defaultOut = shard ? false : join('reports', `sweep-${prepared.meta.base}`);
      const outDir = o.report === false ? false : ((o.out as string | undefined) ?? defaultOut);
      if (outDir !== false) prepareOutputDir(outDir, '--out');
      const jobs = Math.min((o.jobs as number | undefined) ?? defaultJobs(availableParallelism()), Math.max(1, prepared.tasks.length));

      // Ctrl-C (SIGINT) and a scheduler's time limit (SIGTERM: Slurm, Kubernetes) stop the workers and keep
      // what finished: the JSONL, the table and the CSV. A second signal exits at once, keeping the lines
      // streamed so far.
      const controller = new AbortController();
      let signalled: NodeJS.Signals | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        if (signalled) {
          jsonl?.salvage();
          process.exit(sig === 'SIGINT' ? 130 : 143);
        }
        signalled = sig;
        process.stderr.write(`\ninterrupted (${sig}): stopping the workers…\n`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const bar = progressBar(prepared.tasks.length);
      const t0 = performance.now();
      let outcome;
      try {
        outcome = await runSweep(prepared, {
          jobs,
          signal: controller.signal,
          onProgress: (done) => bar.update(done),
          ...(jsonl ? { onRow: (row: SweepRow) => jsonl.append(JSON.stringify({ sweep: prepared.meta, ...row })) } : {}),
        });
      } finally {
        bar.stop();
      }
      const seconds = (performance.now() - t0) / 1e3;
      const { rows, interrupted } = outcome;
      const simulated = rows.filter((r) => r.status === 'ok').length;
      process.stderr.write(
        `swept ${rows.length} config${rows.length === 1 ? '' : 's'}${shard ? ` (shard ${shard.i}/${shard.n} of ${prepared.meta.total})` : ''} in ${seconds.toFixed(2)} s: ` +
          `${(rows.length / seconds).toFixed(1)} configs/s, ${simulated} simulated, ${rows.length - simulated} skipped or failed, ${jobs} worker${jobs > 1 ? 's' : ''}\n`,
      );

      // The JSONL first (grid order, atomically replacing the streamed part file): it is what merge needs.
      jsonl?.write(toJsonl(prepared.meta, rows));
      const out = interrupted ? false : outDir;
      await emitSweep(prepared.meta, rows, {
        csvStdout: o.csv === '-',
        ...(csvFile ? { csvFile } : {}),
        json: Boolean(o.json),
        ...(o.top !== undefined ? { top: o.top as number } : {}),
        out,
        ...(o.heatmap !== undefined ? { heatmap: String(o.heatmap) } : {}),
        extra: { configs_run: rows.length, ...(shard ? { shard } : {}), ...(interrupted ? { interrupted: true } : {}) },
      });
      process.stderr.write(`wall time ${process.uptime().toFixed(2)} s (start-up, sweep, output${out === false ? '' : ', charts'})\n`);
      if (interrupted) {
        process.stderr.write(`interrupted: ${rows.length} of ${prepared.tasks.length} configs finished${jsonl ? `, kept in ${jsonl.path}` : ''}\n`);
        process.exit(signalled === 'SIGTERM' ? 143 : 130);
      }
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      failOnInternalErrors(rows);
    });
}
