import { readFileSync } from 'node:fs';

/** The workbench version, read from package.json; stamped on every stored result and export. */
export const WORKBENCH_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
