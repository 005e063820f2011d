import { Command, CommanderError, Option } from 'commander';
import { ShardsimError } from '../util/errors.ts';
import { listHardwareIds, loadHardwareProfile } from '../hardware/index.ts';
import { activeParameters, catalogAliasOf, catalogIds, catalogIdsWithAliases, loadModel, parameterCounts } from '../model/index.ts';
import { runBench, runScaleCase } from './bench.ts';
import { COMMANDS } from './commands/index.ts';

/** Exit codes: 0 ok, 1 internal error, 2 bad input (config, usage). */
const EXIT_BAD_INPUT = 2;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('shardsim')
    .description('Discrete-event simulator of distributed LLM training steps (DDP, FSDP2) from Axolotl configs')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  for (const register of COMMANDS) register(program);

  const list = program.command('list').description('list what the simulator knows');
  list
    .command('models')
    .description('catalog model ids with their total and active (per-token) parameter counts')
    .action(() => {
      process.stdout.write(`${'id'.padEnd(56)} ${'type'.padEnd(16)} ${'total'.padStart(9)} ${'active'.padStart(9)}\n`);
      for (const id of catalogIds()) {
        let spec;
        try {
          spec = loadModel({ baseModel: id });
        } catch (e) {
          // A recognised but unmodelled family (REFUSED_MODEL_TYPES): listed with the reason.
          if (!(e instanceof ShardsimError)) throw e;
          process.stdout.write(`${id.padEnd(56)} not simulated: ${e.message.split(' — ')[0]}\n`);
          continue;
        }
        const total = parameterCounts(spec).total;
        const active = activeParameters(spec);
        const aliases = catalogIdsWithAliases().filter((a) => catalogAliasOf(a) === id);
        const b = (n: number) => `${(n / 1e9).toFixed(2)} B`.padStart(9);
        process.stdout.write(`${id.padEnd(56)} ${spec.modelType.padEnd(16)} ${b(total)} ${b(active)}${aliases.length ? `  (also: ${aliases.join(', ')})` : ''}\n`);
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
    .command('bench')
    .description('benchmark the simulator: events per second and the wall time of a large step')
    .addOption(new Option('--scale-case <i>', 'run one case of the scale table in this process and print its numbers as JSON').hideHelp())
    .action(async (o: { scaleCase?: string }) => {
      if (o.scaleCase !== undefined) await runScaleCase(Number(o.scaleCase));
      else await runBench();
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
    // One line, as for bad input: the first line of the message (a native error can span several).
    const first = String(e?.message ?? err).split('\n')[0]!.trim();
    if (process.env.SHARDSIM_DEBUG) process.stderr.write(`internal error: ${first}\n${e?.stack ?? ''}\n`);
    else process.stderr.write(`internal error: ${first} (a bug: please report it; SHARDSIM_DEBUG=1 shows the stack trace)\n`);
    return 1;
  }
}

// A closed pipe (`shardsim … | head`) is not an error: stop quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
// No top-level await: the bundle (dist/main.cjs) is CommonJS, so that it can run from V8's code cache.
void main(process.argv).then((code) => {
  process.exitCode = code;
});
