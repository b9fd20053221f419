import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openProject, ProjectLockedError } from '../../main/store/index.ts';
import { patternBatch, tempProjectPath, tsxArgs } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./fixtures/project-child.ts', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Start the child and resolve once it printed 'ready'. */
export function startChild(...args: string[]): Promise<ChildProcess> {
  const [cmd, argv] = tsxArgs(CHILD, ...args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve()),
  );
}

describe('two processes on one project', () => {
  it('tells a second writer who holds the project, and lets readers in', async () => {
    const path = tempProjectPath();
    const p = openProject(path, { create: true });
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['a', 'b', 'c', 'd'],
      samplesPerTrace: 100,
      sampleRate: 1e6,
    });
    p.simulations.append(set.id, patternBatch(0, 10, 4, 100));
    p.close();

    const child = await startChild('hold', path);
    let caught: unknown;
    try {
      openProject(path);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProjectLockedError);
    expect((caught as ProjectLockedError).holder.pid).toBe(child.pid);
    expect((caught as Error).message).toMatch(
      new RegExp(`${path}.*open for writing in another workbench process \\(pid ${child.pid}`),
    );

    const reader = openProject(path, { readonly: true });
    expect(reader.simulations.openReader(set.id).readRange(0, 10).theta[0]).toBe(0);
    reader.close();

    child.kill('SIGKILL');
    await exited(child);
    // The lock of a killed process is stale and taken over.
    const after = openProject(path);
    expect(after.simulations.get(set.id).rows).toBe(10);
    after.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('lets a reader follow a writer that appends, seeing only whole batches', async () => {
    const path = tempProjectPath();
    const child = await startChild('append', path, '200', '300');
    const reader = openProject(path, { readonly: true });
    const setId = reader.simulations.list()[0].id;
    let seen = 0;
    for (let i = 0; i < 20 || seen === 0; i++) {
      const r = reader.simulations.openReader(setId);
      seen = Math.max(seen, r.rows);
      expect(r.rows % 200).toBe(0);
      if (r.rows > 0) {
        const last = r.readRange(r.rows - 200, 200);
        expect(last.theta[0]).toBe(last.theta[199 * 4]); // one batch, one tag
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    reader.close();
    child.kill('SIGKILL');
    await exited(child);
  });
});
