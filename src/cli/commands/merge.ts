import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShardsimError } from '../../util/errors.ts';
import { mergeLines, readJsonl, toJsonl } from '../../sweep/jsonl.ts';
import { emitSweep, failOnInternalErrors } from './sweep.ts';

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
      const merged = mergeLines(files.map((path) => ({ path, lines: readJsonl(path) })));
      const { meta, rows, missing } = merged;
      if (missing.length > 0) {
        const sample = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ', …' : '');
        process.stderr.write(`warning: ${rows.length} of ${meta.total} configs merged; missing ${missing.length} (indices ${sample}): a shard file is missing or was interrupted\n`);
      }
      if (o.jsonl) writeFileSync(String(o.jsonl), toJsonl(meta, rows));
      await emitSweep(meta, rows, {
        ...(o.csv !== undefined ? { csv: String(o.csv) } : {}),
        json: Boolean(o.json),
        ...(o.top !== undefined ? { top: o.top as number } : {}),
        out: o.report === false ? false : ((o.out as string | undefined) ?? join('reports', `sweep-${meta.base}`)),
        ...(o.heatmap !== undefined ? { heatmap: String(o.heatmap) } : {}),
        extra: { configs_run: rows.length, ...(missing.length > 0 ? { missing } : {}) },
      });
      failOnInternalErrors(rows);
    });
}
