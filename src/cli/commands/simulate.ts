import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateFile } from '../../pipeline/simulate.ts';
import { terminalSummary } from '../../report/summary.ts';
import { markdownSummary } from '../../report/markdown.ts';
import { positiveInt, simulationOverrides } from '../options.ts';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate one training step of a scenario (an Axolotl YAML) and report time, throughput, communication and memory')
    .argument('<scenario>', 'Axolotl config YAML, optionally with a simulation: block')
    .option('--hardware <id>', 'hardware profile id (see `shardsim list hardware`)')
    .option('--nodes <n>', 'number of nodes', positiveInt('nodes'))
    .option('--gpus <n>', 'total GPUs when fewer than nodes × GPUs per node', positiveInt('gpus'))
    .option('--seed <seed>', 'seed for jitter')
    .option('--steps <n>', 'steps to simulate (mean / p50 / p95 with jitter)', positiveInt('steps'))
    .option('--jitter <x>', 'relative standard deviation of kernel times, e.g. 0.02')
    .option('--inter-node-bandwidth <bw>', 'what-if scale-out bandwidth per node, e.g. "400 Gb/s"')
    .option('--json', 'print the JSON result instead of the summary')
    .option('--out <dir>', 'report folder (default reports/<scenario-name>/)')
    .option('--no-report', 'do not write the report folder')
    .action(async (scenario: string, o: Record<string, unknown>) => {
      const run = await simulateFile(scenario, simulationOverrides(o));
      const r = run.result;
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else process.stdout.write(terminalSummary(r) + '\n');
      if (o.report !== false) {
        const dir = (o.out as string | undefined) ?? join('reports', r.scenario);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'summary.json'), JSON.stringify(r, null, 2) + '\n');
        writeFileSync(join(dir, 'summary.md'), markdownSummary(r));
        if (!o.json) process.stdout.write(`\nreport: ${dir}/\n`);
      }
    });

}
