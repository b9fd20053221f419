import type { CliCommand } from './command.ts';
import { WORKBENCH_VERSION } from '../version.ts';

/** `adexwb version`: workbench, Node and native-component versions. */
export const versionCommand: CliCommand = {
  name: 'version',
  summary: 'Print the workbench version and the runtime it runs on',
  options: {},
  async run(_args, io) {
    io.result(
      {
        workbench: WORKBENCH_VERSION,
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
      },
      (v: { workbench: string }) => `adex-workbench ${v.workbench}`,
    );
    return 0;
  },
};
