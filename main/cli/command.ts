/**
 * The frame every `adexwb` subcommand plugs into: a declarative option list (used for parsing,
 * validation and `--help`) and a `run` function. A command module exports one `CliCommand` and is
 * listed in `commands.ts`.
 *
 * @example
 * export const versionCommand: CliCommand = {
 *   name: 'version', summary: 'Print the workbench version', options: {},
 *   run: async (_args, io) => { io.result({ version: '0.1.0' }, (v) => v.version); return 0; },
 * };
 */

/** One command-line option. `type: 'boolean'` options take no value. */
export interface CliOption {
  type: 'string' | 'boolean' | 'number' | 'integer';
  description: string;
  /** Default value (shown in --help); absent means the option is optional without a default. */
  default?: string | number | boolean;
  /** One-letter alias, e.g. `n` for `-n`. */
  short?: string;
  /** Restrict a string option to these values. */
  choices?: readonly string[];
  /** The option must be given. */
  required?: boolean;
  /** The option may repeat; its value is then an array. */
  multiple?: boolean;
}

export type CliArgs = Record<string, string | number | boolean | string[] | undefined>;

/** Output channel of a command: human text or, with --json, one JSON document on stdout. */
export interface CliIO {
  readonly json: boolean;
  /** Print a result: as JSON when --json was given, otherwise through `human` (or key: value lines). */
  result(value: unknown, human?: (value: never) => string): void;
  /** Progress and informational lines; go to stderr so stdout stays machine-readable. */
  info(line: string): void;
  warn(line: string): void;
  /** Aborted when the user presses Ctrl-C. */
  readonly signal: AbortSignal;
}

export interface CliCommand {
  /** Subcommand name; nested groups use a space, e.g. `project new`. */
  name: string;
  summary: string;
  /** Extra help text printed under the usage line. */
  details?: string;
  /** Names of positional arguments, e.g. `['FILE']`; collected into args._ as string[]. */
  positionals?: string[];
  options: Record<string, CliOption>;
  run(args: CliArgs, io: CliIO): Promise<number>;
}

/** An error whose message is shown to the user as-is, as one line, with exit code 2 (bad input). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
