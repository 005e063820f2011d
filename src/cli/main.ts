import { Command, CommanderError, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShardsimError } from '../util/errors.ts';
import { simulateFile } from '../pipeline/simulate.ts';
import { terminalSummary } from '../report/summary.ts';
import { markdownSummary } from '../report/markdown.ts';
import { listHardwareIds, loadHardwareProfile } from '../hardware/index.ts';
import { catalogIds, loadModel, parameterCounts } from '../model/index.ts';
import type { SimulationOverrides } from '../config/index.ts';
import { runBench } from './bench.ts';
import { readValidationRows, validateRows } from '../validate/index.ts';
import { validationTable } from '../report/validation-table.ts';

/** Exit codes: 0 ok, 1 internal error, 2 bad input (config, usage). */
const EXIT_BAD_INPUT = 2;

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ShardsimError(`--${name} must be a positive whole number, got "${v}"`, { fix: `e.g. --${name} 2` });
    return n;
  };
}

function simulationOverrides(o: Record<string, unknown>): SimulationOverrides {
  const out: SimulationOverrides = {};
  if (o.hardware !== undefined) out.hardware = String(o.hardware);
  if (o.nodes !== undefined) out.num_nodes = o.nodes as number;
  if (o.gpus !== undefined) out.gpus = o.gpus as number;
  if (o.seed !== undefined) out.seed = String(o.seed);
  if (o.steps !== undefined) out.steps = o.steps as number;
  if (o.jitter !== undefined) {
    const j = Number(o.jitter);
    if (!Number.isFinite(j)) throw new ShardsimError(`--jitter must be a number, got "${String(o.jitter)}"`, { fix: 'e.g. --jitter 0.02' });
    out.jitter = j;
  }
  if (o.interNodeBandwidth !== undefined) out.inter_node_bandwidth = String(o.interNodeBandwidth);
  return out;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('shardsim')
    .description('Discrete-event simulator of distributed LLM training steps (DDP, FSDP2) from Axolotl configs')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

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

  const list = program.command('list').description('list what the simulator knows');
  list
    .command('models')
    .description('catalog model ids with their parameter counts')
    .action(() => {
      for (const id of catalogIds()) {
        const n = parameterCounts(loadModel({ baseModel: id })).total;
        process.stdout.write(`${id.padEnd(52)} ${(n / 1e9).toFixed(2).padStart(7)} B\n`);
      }
    });
  list
    .command('hardware')
    .description('hardware profile ids')
    .action(() => {
      for (const id of listHardwareIds()) {
        const p = loadHardwareProfile(id);
        process.stdout.write(`${id.padEnd(24)} ${p.name}\n`);
      }
    });

  program
    .command('validate')
    .description('simulate published runs and compare: predicted vs measured, with median / p90 absolute error per metric')
    .requiredOption('--data <files...>', 'validation .jsonl files (shared/DESIGN.md format)')
    .option('--filter <regex>', 'only rows whose id, source or model matches')
    .option('--json', 'print {rows, skipped, summary} as JSON')
    .action(async (o: { data: string[]; filter?: string; json?: boolean }) => {
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
      const report = await validateRows(rows);
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(validationTable(report) + '\n');
    });

  program
    .command('bench')
    .description('benchmark the simulator: events per second and the wall time of a large step')
    .action(async () => {
      await runBench();
    });

  program.addOption(new Option('--debug', 'show stack traces for internal errors').hideHelp());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message; help and version are not errors.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_BAD_INPUT;
    }
    if (err instanceof ShardsimError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_BAD_INPUT;
    }
    const e = err as Error;
    process.stderr.write(`internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.SHARDSIM_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write('(set SHARDSIM_DEBUG=1 for the stack trace, and please report it)\n');
    return 1;
  }
}

process.exitCode = await main(process.argv);
