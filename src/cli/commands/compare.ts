import type { Command } from 'commander';
import { basename, extname, join } from 'node:path';
import { prepareOutputDir, writeFileAtomic } from '../../util/output.ts';
import { positiveInt } from '../options.ts';
import { ShardsimError } from '../../util/errors.ts';
import { compareFolderName, compareTable, memorySpec, runCompare, stepBreakdownSpec } from '../../sweep/compare.ts';
import { writeCharts } from '../../sweep/report.ts';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('simulate several scenarios (or one scenario on several hardware profiles) and show them side by side')
    .argument('<scenarios...>', 'Axolotl config YAMLs')
    .option('--hardware <ids>', 'run every scenario on each of these profiles, comma-separated')
    .option('--nodes <n>', 'number of nodes for every run', positiveInt('nodes'))
    .option('--json', 'print the runs as JSON instead of the table')
    .option('--out <dir>', 'report folder (default reports/compare-<names>/)')
    .option('--no-report', 'do not write the report folder')
    .action(async (scenarios: string[], o: Record<string, unknown>) => {
      const hardware = o.hardware !== undefined ? String(o.hardware).split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
      // The report folder is known from the names alone: claim it before any run (util/output.ts).
      const planned = scenarios.flatMap((p) => (hardware && hardware.length > 0 ? hardware : [undefined]).map((hw) => ({ label: '', scenario: basename(p, extname(p)), ...(hw ? { hardware: hw } : {}) })));
      const dir = o.report !== false ? ((o.out as string | undefined) ?? join('reports', compareFolderName(planned))) : undefined;
      if (dir !== undefined) prepareOutputDir(dir, '--out');
      const runs = await runCompare({ scenarios, ...(hardware ? { hardware } : {}), ...(o.nodes ? { nodes: o.nodes as number } : {}) });
      for (const r of runs) for (const w of r.result?.warnings ?? []) process.stderr.write(`warning: ${r.label}: ${w.message}\n`);
      if (o.json) process.stdout.write(JSON.stringify({ runs }, null, 2) + '\n');
      else process.stdout.write(compareTable(runs) + '\n');
      const ok = runs.filter((r) => r.result);
      if (dir !== undefined && ok.length > 0) {
        writeFileAtomic(join(dir, 'compare.json'), JSON.stringify({ runs }, null, 2) + '\n', '--out');
        await writeCharts(dir, [['step-breakdown', stepBreakdownSpec(runs)], ['memory', memorySpec(runs)]]);
        process.stderr.write(`report: ${dir}/ (compare.json, step-breakdown.png, memory.png, with .svg and .vl.json)\n`);
      }
      if (ok.length === 0) throw new ShardsimError('no run could be simulated', { fix: 'see the skipped lines above' });
    });
}
