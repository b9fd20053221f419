/**
 * The `--project FILE` option that result-producing commands (simulate, train, sample ...) share,
 * and the helper that opens the project it names for the duration of a command.
 *
 * @example
 * export const simulateCommand: CliCommand = {
 *   name: 'simulate', summary: '...', options: { ...otherOptions, project: projectOption },
 *   async run(args, io) {
 *     return withProjectOption(args, (project) => { ...; project?.simulations.append(setId, batch); return 0; });
 *   },
 * };
 */
import type { CliArgs, CliOption } from '../cli/command.ts';
import { Project } from './project.ts';

/** `--project FILE`: write results into this project file (created when missing). */
export const projectOption: CliOption = {
  type: 'string',
  description: 'project file to store results in (created if it does not exist)',
};

/**
 * Run `fn` with the project named by `args.project` open for writing (undefined when the option was
 * not given), closing it afterwards even when `fn` throws. `fn` may be async.
 */
export async function withProjectOption<T>(
  args: CliArgs,
  fn: (project: Project | undefined) => T | Promise<T>,
): Promise<T> {
  const file = args.project as string | undefined;
  if (!file) return fn(undefined);
  const project = Project.open(file, { create: true });
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}
