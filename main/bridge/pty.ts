/**
 * A pseudo-terminal pair made by socat (Debian package `socat`): two serial device paths wired
 * back to back, so the host driver and a virtual device talk over a real tty. Closing the pair
 * (killing socat) makes both ttys vanish, which is what unplugging a USB serial adapter looks like.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running pty pair. */
export interface PtyPair {
  /** Path the host (driver) opens. */
  hostPath: string;
  /** Path the device side opens. */
  devicePath: string;
  readonly process: ChildProcess;
  /** Kill socat and wait for it to exit; idempotent. */
  close(): Promise<void>;
}

/** Options of createPtyPair. */
export interface PtyPairOptions {
  /** Host-side link path; default `<new temp dir>/host`. */
  hostPath?: string;
  /** Device-side link path; default `<new temp dir>/device`. */
  devicePath?: string;
  /** How long to wait for socat to set up, ms; default 5000. */
  timeoutMs?: number;
}

/**
 * Spawn `socat -d -d pty,raw,echo=0,link=HOST pty,raw,echo=0,link=DEVICE` and resolve once both
 * ttys exist. Rejects with a clear message when socat is not installed.
 *
 * @example
 * const pair = await createPtyPair();
 * const device = await VirtualDevice.open(pair.devicePath);
 * await driver.connect(pair.hostPath);
 */
export async function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  let dir: string | undefined;
  if (!options.hostPath || !options.devicePath) dir = mkdtempSync(join(tmpdir(), 'adexwb-pty-'));
  const hostPath = options.hostPath ?? join(dir!, 'host');
  const devicePath = options.devicePath ?? join(dir!, 'device');
  const child = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('close', () => {
      exited = true;
      if (dir) rmSync(dir, { recursive: true, force: true });
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(
        new Error(`socat did not set up a pty pair within ${options.timeoutMs ?? 5000} ms: ${log.trim()}`),
      );
    }, options.timeoutMs ?? 5000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new Error(
          err.code === 'ENOENT'
            ? "socat is not installed (Debian: 'apt-get install socat')"
            : `cannot run socat: ${err.message}`,
        ),
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited (code ${code}) before the pty pair was ready: ${log.trim()}`));
    });
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('starting data transfer loop')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    hostPath,
    devicePath,
    process: child,
    close: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
