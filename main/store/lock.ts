/**
 * The writer lock of a project: a small file `<project>.lock` created exclusively (`O_EXCL`) by the
 * process that opens the project for writing, holding its pid, host and start time. A second
 * process asking for write access is told who holds the project; read-only access needs no lock.
 *
 * The lock is advisory and only gives a clear message: SQLite's own file locking is what keeps the
 * data consistent when two writers meet anyway. A lock left by a killed process (its pid is gone on
 * this host) is taken over. Handles inside one process (threads) share the lock of that process.
 */
import { closeSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

/** Thrown when another live process holds the project for writing. */
export class ProjectLockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${path} is open for writing in another workbench process (pid ${holder.pid} on ${holder.host} since ${holder.since}); ` +
        'close it there, or open the project read-only',
    );
    this.name = 'ProjectLockedError';
  }
}

/** A held lock; `release` removes the lock file if this handle created it. */
export interface ProjectLock {
  readonly lockPath: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(lockPath: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string')
      return { pid: v.pid, host: v.host, since: String(v.since) };
  } catch {
    // unreadable or half-written lock: treated as stale below
  }
  return undefined;
}

/**
 * Take the writer lock of `projectPath`. Throws ProjectLockedError when a live process on this host
 * (or any process on another host sharing the file system) holds it.
 */
export function acquireProjectLock(projectPath: string): ProjectLock {
  const lockPath = `${projectPath}.lock`;
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    // Write the holder to a private file, then hard-link it into place: the lock appears with its
    // content in one step, so nobody ever reads a half-written lock.
    const tmp = `${lockPath}.${process.pid}-${Math.random().toString(36).slice(2)}`;
    let fd: number;
    try {
      fd = openSync(tmp, 'wx');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(
        `${projectPath}: cannot create the lock file next to it (${code}); open the project read-only instead`,
      );
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(lockPath);
      if (holder && holder.host === me.host && holder.pid === me.pid) {
        return { lockPath, release: () => {} };
      }
      if (holder && (holder.host !== me.host || isAlive(holder.pid)))
        throw new ProjectLockedError(projectPath, holder);
      rmSync(lockPath, { force: true }); // stale: the holder was killed
      continue;
    } finally {
      rmSync(tmp, { force: true });
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      const holder = readHolder(lockPath);
      if (holder && holder.pid === me.pid && holder.host === me.host) rmSync(lockPath, { force: true });
    };
    process.on('exit', release);
    return { lockPath, release };
  }
  throw new Error(`cannot take the lock ${lockPath}: it keeps reappearing`);
}
