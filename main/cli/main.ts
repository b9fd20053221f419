import { UsageError, type CliCommand, type CliIO } from './command.ts';
import { commandHelp, parseCommandArgs } from './parse.ts';
import { commands } from './commands.ts';
import { WORKBENCH_VERSION } from '../version.ts';

/** Find the command named by the leading words of argv (longest match, so `project new` wins). */
function findCommand(argv: string[]): { cmd: CliCommand; rest: string[] } | undefined {
  let best: { cmd: CliCommand; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `adexwb ${WORKBENCH_VERSION}: the adex-workbench command line`,
    '',
    'Usage: adexwb <command> [options]      adexwb <command> --help for its options',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Every command takes --json (machine-readable output) and --help.',
  ].join('\n');
}

function makeIO(json: boolean, signal: AbortSignal): CliIO {
  return {
    json,
    signal,
    result(value, human) {
      if (json) {
        process.stdout.write(JSON.stringify(value, null, 2) + '\n');
      } else if (human) {
        process.stdout.write(human(value as never) + '\n');
      } else if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
        }
      } else {
        process.stdout.write(String(value) + '\n');
      }
    },
    info(line) {
      if (!json || process.stderr.isTTY) process.stderr.write(line + '\n');
    },
    warn(line) {
      process.stderr.write(`warning: ${line}\n`);
    },
  };
}

/**
 * Run the CLI with the given arguments (without `node` and the script) and return the exit code:
 * 0 success, 1 failure while working, 2 bad input (unknown command or option, invalid value).
 */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    process.stdout.write(topHelp() + '\n');
    return 0;
  }
  if (args[0] === '--version') args[0] = 'version';
  const found = findCommand(args);
  if (!found) {
    process.stderr.write(
      `adexwb: unknown command '${args.filter((a) => !a.startsWith('-')).join(' ')}' (see 'adexwb --help')\n`,
    );
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd) + '\n');
    return 0;
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('cancelled by the user'));
  };
  process.on('SIGINT', onSigint);
  try {
    const parsed = parseCommandArgs(cmd, rest);
    return await cmd.run(parsed, makeIO(json, controller.signal));
  } catch (err) {
    const e = err as Error;
    const msg = (e?.message ?? String(err)).split('\n')[0];
    if (json) process.stdout.write(JSON.stringify({ error: msg }) + '\n');
    process.stderr.write(`adexwb ${cmd.name}: ${msg}\n`);
    if (process.env.ADEXWB_DEBUG && e?.stack) process.stderr.write(e.stack + '\n');
    // Bad input (usage, out-of-range values, unreadable input files) exits 2; failures while working exit 1.
    return err instanceof UsageError || err instanceof RangeError || e?.name === 'NpyFormatError' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
