import type { Command } from 'commander';
import { join } from 'node:path';
import { ShardsimError } from '../../util/errors.ts';
import { mergeLines, readJsonl, toJsonl } from '../../sweep/jsonl.ts';
import { emitSweep, failOnInternalErrors, prepareSweepOutputs } from './sweep.ts';
import { prepareOutputDir } from '../../util/output.ts';

/** The JSON output lists missing indices up to this many; beyond, their count and the first few. */
const MAX_LISTED_MISSING = 100_000;

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('join the --jsonl files of a sharded sweep and print the same table, CSV and charts as the unsharded run')
    .argument('<files...>', 'part-*.jsonl files written by `shardsim sweep … --shard i/n --jsonl FILE`')
    .option('--csv <file>', 'write one CSV row per config ("-" for stdout instead of the table)')
    .option('--json', 'print the rows as JSON instead of the table')
    .option('--jsonl <file>', 'write the merged lines as one JSONL file')
    .option('--top <n>', 'table rows per section (fit / out of memory); 0 for all', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new ShardsimError(`--top must be a whole number ≥ 0, got "${v}"`, { fix: 'e.g. --top 10' });
      return n;
    })
    .option('--heatmap <x,y>', 'the two keys of the heatmap (default: the first two varied)')
    .option('--out <dir>', 'report folder (default reports/sweep-<base>/)')
    .option('--no-report', 'do not write the report folder')
    .action(async (files: string[], o: Record<string, unknown>) => {
      if (o.csv === '-' && o.json) throw new ShardsimError('--csv - and --json both write to stdout', { fix: 'choose one, or write the CSV to a file (--csv sweep.csv)' });
      const merged = mergeLines(files.map((path) => ({ path, lines: readJsonl(path) })));
      const { meta, rows, missingCount, missingSample } = merged;
      // Outputs are claimed before anything is written (util/output.ts); the inputs are never overwritten.
      const { csvFile, jsonl } = prepareSweepOutputs(o, files);
      const out = o.report === false ? false : ((o.out as string | undefined) ?? join('reports', `sweep-${meta.base}`));
      if (out !== false) prepareOutputDir(out, '--out');
      if (missingCount > 0) {
        const sample = missingSample.join(', ') + (missingCount > missingSample.length ? ', …' : '');
        process.stderr.write(`warning: ${rows.length} of ${meta.total} configs merged; missing ${missingCount} (indices ${sample}): a shard file is missing or was interrupted\n`);
      }
      jsonl?.write(toJsonl(meta, rows));
      await emitSweep(meta, rows, {
        csvStdout: o.csv === '-',
        ...(csvFile ? { csvFile } : {}),
        json: Boolean(o.json),
        ...(o.top !== undefined ? { top: o.top as number } : {}),
        out,
        ...(o.heatmap !== undefined ? { heatmap: String(o.heatmap) } : {}),
        extra: { configs_run: rows.length, ...(missingCount > 0 ? { missing: missingCount <= MAX_LISTED_MISSING ? merged.missing() : { count: missingCount, first: missingSample } } : {}) },
      });
      failOnInternalErrors(rows);
    });
}
