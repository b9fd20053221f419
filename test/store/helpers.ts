import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adexwb-store-'));
  dirs.push(d);
  return d;
}

/** A path for a new project file in a fresh temporary directory. */
export function tempProjectPath(name = 'test.adexproj'): string {
  return join(tempDir(), name);
}

/** sha256 of a file's bytes. */
export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export { patternBatch } from './fixtures/pattern.ts';

/** The node binary and arguments to run a TypeScript file in a child process through tsx. */
export function tsxArgs(script: string, ...args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', script, ...args]];
}
