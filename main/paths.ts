import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The workbench's installation folder (the one holding its package.json). Works from the TypeScript
 * sources (CLI, tests), from the bundled Electron main process (which sets ADEXWB_ROOT) and from workers.
 */
export function appRoot(): string {
  if (cachedRoot) return cachedRoot;
  if (process.env.ADEXWB_ROOT) return (cachedRoot = process.env.ADEXWB_ROOT);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'adex-workbench') {
          return (cachedRoot = dir);
        }
      } catch {
        // not ours; keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot locate the adex-workbench installation folder (set ADEXWB_ROOT)');
    dir = up;
  }
}
