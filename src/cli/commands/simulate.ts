import type { Command } from 'commander';
import { join } from 'node:path';
import { simulateLoaded } from '../../pipeline/simulate.ts';
import { loadScenarioFile } from '../../config/index.ts';
import { prepareOutputDir } from '../../util/output.ts';
import { terminalSummary } from '../../report/summary.ts';
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
    .option('--out <dir>', 'report folder: summary, charts (SVG/PNG), trace.json, report.html (default reports/<scenario-name>/)')
    .option('--no-report', 'do not write the report folder')
    .option('--every-rank', 'with stragglers or jitter, simulate every rank instead of one per class of identical ranks (stragglers: the same numbers, slower; jitter: every rank\'s own draws instead of order statistics)')
    .option('--no-advice', 'skip the OOM advisor (what to change when it does not fit, or to go faster when it fits with room)')
    .option('--explain', 'explain the step: where the time goes, which collectives are exposed and why, the formulas')
    .action(async (scenario: string, o: Record<string, unknown>) => {
      const report = o.report !== false;
      // Bad input first, then the report folder, before any simulation: a run never computes and then
      // fails to save (util/output.ts).
      const loaded = loadScenarioFile(scenario, simulationOverrides(o));
      const dir = (o.out as string | undefined) ?? join('reports', loaded.name);
      if (report) prepareOutputDir(dir, '--out');
      // The memory chart needs every allocation over time; without a report only the peaks are kept.
      const run = await simulateLoaded(loaded, { recordMemory: report, advice: o.advice !== false, ...(o.everyRank === true ? { everyRank: true } : {}) });
      const r = run.result;
      for (const w of r.warnings) process.stderr.write(`warning: ${w.message}\n`);
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else process.stdout.write(terminalSummary(r) + '\n');
      // With --json stdout stays pure JSON; the explanation goes to stderr.
      // Report modules load only when used, so `--no-report` stays as fast as before.
      if (o.explain) {
        const { explainText } = await import('../../report/explain.ts');
        (o.json ? process.stderr : process.stdout).write(`\n${explainText(run)}\n`);
      }
      if (report) {
        const started = performance.now();
        const { writeReport } = await import('../../report/write.ts');
        const written = await writeReport(run, dir);
        const charts = written.files.filter((f) => f.endsWith('.png')).length;
        const line = `report: ${dir}/ (report.html, trace.json, ${charts} charts as SVG + PNG; ${((performance.now() - started) / 1e3).toFixed(1)} s)\n`;
        (o.json ? process.stderr : process.stdout).write(`\n${line}`);
      }
    });

}
