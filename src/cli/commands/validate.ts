import type { Command } from 'commander';
import { ShardsimError } from '../../util/errors.ts';
import { leaveOneSourceOut, readValidationRows, validateRows } from '../../validate/index.ts';
import { crossValidationTable, validationTable } from '../../report/validation-table.ts';
import { prepareOutputDir } from '../../util/output.ts';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('simulate published runs and compare: predicted vs measured, with median / p90 absolute error per metric')
    .requiredOption('--data <files...>', 'validation .jsonl files (shared/DESIGN.md format)')
    .option('--filter <regex>', 'only rows whose id, source or model matches')
    .option('--cv <scheme>', 'out-of-sample: "source" refits every constant fitted on validation rows without each source and scores the held-out one')
    .option('--json', 'print {rows, skipped, summary} as JSON (with --cv: the cross-validation)')
    .option('--out <dir>', 'also write the validation report (charts, validation.html) to this folder')
    .action(async (o: { data: string[]; filter?: string; cv?: string; json?: boolean; out?: string }) => {
      if (o.cv !== undefined && o.cv !== 'source') throw new ShardsimError(`--cv: unknown scheme "${o.cv}"`, { fix: 'use --cv source (leave one source out)' });
      let rows = o.data.flatMap((f) => readValidationRows(f));
      if (o.filter) {
        let re: RegExp;
        try {
          re = new RegExp(o.filter, 'i');
        } catch {
          throw new ShardsimError(`--filter is not a valid regular expression: ${o.filter}`, { fix: 'e.g. --filter "llm-foundry|torchtitan"' });
        }
        rows = rows.filter((r) => re.test(r.id) || re.test(r.source) || re.test(JSON.stringify(r.scenario)));
      }
      if (o.out) prepareOutputDir(o.out, '--out');
      const validated = await validateRows(rows);
      // With --cv the report (table, JSON, charts) shows every row as scored by the fold that held its source out.
      const cv = o.cv ? leaveOneSourceOut(validated) : undefined;
      const report = cv ? { rows: cv.rows, skipped: validated.skipped, summary: cv.summary } : validated;
      if (cv) process.stdout.write((o.json ? JSON.stringify({ ...cv, skipped: validated.skipped }, null, 2) : crossValidationTable(cv, validated.skipped)) + '\n');
      else if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(validationTable(report) + '\n');
      if (o.out) {
        const { writeValidationReport } = await import('../../report/validation-report.ts');
        const files = await writeValidationReport(report, o.out);
        if (!o.json) process.stdout.write(`\nreport: ${files[0]}\n`);
      }
    });

}
