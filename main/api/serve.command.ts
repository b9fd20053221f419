import path from 'node:path';
import type { CliCommand } from '../cli/command.ts';
import { UsageError } from '../cli/command.ts';
import { appRoot } from '../paths.ts';
import { serve } from './server.ts';
import { Workbench } from './workbench.ts';

/** `adexwb serve`: the workbench UI in a browser, for headless lab servers and end-to-end tests. */
export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve the workbench UI and API on 127.0.0.1 for a browser (token-protected)',
  details:
    'Prints a URL with a random per-run access token; open it in a browser on this machine (or through an\n' +
    'SSH tunnel). Requests without the token are refused. Stop with Ctrl-C.',
  options: {
    port: { type: 'integer', description: 'TCP port on 127.0.0.1 (0 picks a free one)', default: 7878 },
    ui: {
      type: 'string',
      description: 'folder of the built renderer',
      default: 'out/renderer (in the installation)',
    },
  },
  async run(args, io) {
    const port = args.port as number;
    if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`);
    const staticDir =
      args.ui === serveCommand.options.ui.default
        ? path.join(appRoot(), 'out', 'renderer')
        : path.resolve(String(args.ui));
    const workbench = new Workbench({ transport: 'http' });
    const server = await serve(workbench, { port, staticDir });
    io.result(
      { url: server.urlWithToken, port: server.port },
      (v: { url: string }) => `adex-workbench is serving at ${v.url}`,
    );
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      process.once('SIGTERM', () => resolve());
    });
    io.info('stopping');
    await server.close();
    await workbench.close();
    return 0;
  },
};
