// `adexwb virtual-device --pty` as a separate process, driven by the host driver.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BridgeDriver } from '../../main/bridge/driver.ts';
import { capmemRequest } from './helpers.ts';

const BIN = new URL('../../bin/adexwb.js', import.meta.url).pathname;

describe('adexwb virtual-device', () => {
  it('creates a pty pair, serves the protocol on it and removes it on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'virtual-device', '--pty', '--chip-seed', '4', '--kernel', 'typescript', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const started = await new Promise<{ hostPath: string; deviceId: string }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        try {
          resolve(JSON.parse(out));
        } catch {
          // not complete yet
        }
      });
      void exited.then((code) => reject(new Error(`virtual-device exited with ${code}: ${err}`)));
    });
    expect(started.deviceId).toBe('virtual-4');
    const driver = new BridgeDriver();
    try {
      const info = await driver.connect(started.hostPath);
      expect(info.chipId).toBe('emulated-chip-4');
      const result = await driver.simulate(capmemRequest(3));
      expect(result.n).toBe(3);
      expect(result.samples).toBe(1000);
    } finally {
      await driver.disconnect();
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(existsSync(started.hostPath)).toBe(false);
  });

  it('rejects contradictory or out-of-range options with exit code 2', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, [BIN, 'virtual-device', ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.once('close', (code) => resolve({ code, err }));
      });
    const both = await run(['--pty', '--port', '/dev/null']);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give either --port PATH or --pty/);
    const rate = await run(['--pty', '--drop-rate', '1.5']);
    expect(rate.code).toBe(2);
    expect(rate.err).toMatch(/--drop-rate must be a probability in \[0, 1\], got 1.5/);
  });
});
