import type { Command } from 'commander';
import { registerSimulate } from './simulate.ts';
import { registerValidate } from './validate.ts';
import { registerSweep } from './sweep.ts';
import { registerMerge } from './merge.ts';
import { registerCompare } from './compare.ts';
import { registerCollective } from './collective.ts';
import { registerPlayground } from './playground.ts';

/** Every subcommand registers itself here: one file per command under src/cli/commands/. */
export const COMMANDS: ((program: Command) => void)[] = [registerSimulate, registerValidate, registerSweep, registerMerge, registerCompare, registerCollective, registerPlayground];
