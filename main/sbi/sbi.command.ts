import type { CliCommand } from '../cli/command.ts';
import { trainCommand } from './train.command.ts';
import { sampleCommand } from './sample.command.ts';
import { logprobCommand } from './logprob.command.ts';
import { validateCommand } from './validate.command.ts';

/** The SBI commands: `train`, `sample`, `logprob`, `validate`. */
export const sbiCommands: CliCommand[] = [trainCommand, sampleCommand, logprobCommand, validateCommand];
