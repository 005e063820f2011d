import type { Command } from 'commander';
import { registerSimulate } from './simulate.ts';
import { registerValidate } from './validate.ts';

/** Every subcommand registers itself here: one file per command under src/cli/commands/. */
export const COMMANDS: ((program: Command) => void)[] = [registerSimulate, registerValidate];
