import { parseArgs } from 'node:util';
import { UsageError, type CliArgs, type CliCommand } from './command.ts';

/** Parse argv for one command, apply defaults and check types, choices and required options. */
export function parseCommandArgs(cmd: CliCommand, argv: string[]): CliArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, opt] of Object.entries(cmd.options)) {
    options[name] = { type: opt.type === 'boolean' ? 'boolean' : 'string' };
    if (opt.short) options[name].short = opt.short;
    if (opt.multiple) options[name].multiple = true;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see 'adexwb ${cmd.name} --help')`);
  }
  const out: CliArgs = {};
  const max = cmd.positionals?.length ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(
      `unexpected argument '${parsed.positionals[max]}' (see 'adexwb ${cmd.name} --help')`,
    );
  }
  out._ = parsed.positionals;
  for (const [name, opt] of Object.entries(cmd.options)) {
    const raw = (parsed.values as Record<string, unknown>)[name];
    if (raw === undefined) {
      if (opt.required) throw new UsageError(`missing required option --${name}`);
      out[name] = opt.default;
      continue;
    }
    if (opt.type === 'boolean') {
      out[name] = raw as boolean;
    } else if (opt.multiple) {
      out[name] = (raw as string[]).flatMap((s) => s.split(',')).filter((s) => s.length > 0);
    } else {
      out[name] = convert(name, opt.type, raw as string, opt.choices);
    }
  }
  return out;
}

function convert(name: string, type: string, raw: string, choices?: readonly string[]): string | number {
  if (type === 'number' || type === 'integer') {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v))
      throw new UsageError(`--${name} must be a number, got '${raw}'`);
    if (type === 'integer' && !Number.isInteger(v)) {
      throw new UsageError(`--${name} must be a whole number, got '${raw}'`);
    }
    return v;
  }
  if (choices && !choices.includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  }
  return raw;
}

/** Help text for one command. */
export function commandHelp(cmd: CliCommand): string {
  const pos = (cmd.positionals ?? []).map((p) => ` ${p}`).join('');
  const lines = [`Usage: adexwb ${cmd.name}${pos} [options]`, '', cmd.summary];
  if (cmd.details) lines.push('', cmd.details);
  lines.push('', 'Options:');
  const entries = Object.entries(cmd.options);
  const all = [
    ...entries,
    ['json', { type: 'boolean', description: 'print the result as JSON' }],
    ['help', { type: 'boolean', description: 'show this help' }],
  ] as const;
  for (const [name, opt] of all) {
    const flag = `${'short' in opt && opt.short ? `-${opt.short}, ` : '    '}--${name}${opt.type === 'boolean' ? '' : ` <${opt.type}>`}`;
    let desc = opt.description;
    if ('choices' in opt && opt.choices) desc += ` (${opt.choices.join('|')})`;
    if ('default' in opt && opt.default !== undefined) desc += ` [default: ${String(opt.default)}]`;
    if ('required' in opt && opt.required) desc += ' [required]';
    lines.push(`  ${flag.padEnd(30)} ${desc}`);
  }
  return lines.join('\n');
}
