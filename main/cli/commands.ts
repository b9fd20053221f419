import type { CliCommand } from './command.ts';
import { versionCommand } from './version.command.ts';
import { simulateCommand } from '../emulator/simulate.command.ts';
import { serveCommand } from '../api/serve.command.ts';
import { projectCommands } from '../store/project.command.ts';
import { reportCommand } from '../report/report.command.ts';
import { bridgeCommands } from '../bridge/bridge.command.ts';
import { sbiCommands } from '../sbi/sbi.command.ts';
import { demoCommand } from '../pipeline/demo.command.ts';

/**
 * Every `adexwb` subcommand, in the order `--help` lists them. Each lives in its own
 * `*.command.ts` module next to the code it drives; add one line here per command.
 */
// prettier-ignore
export const commands: CliCommand[] = [
  versionCommand,
  simulateCommand,
  serveCommand,
  ...projectCommands,
  reportCommand,
  ...bridgeCommands,
  ...sbiCommands,
  demoCommand,
];
