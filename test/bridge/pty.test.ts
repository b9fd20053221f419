// Host driver against the virtual device over a real pseudo-terminal pair made by socat.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator } from '../../main/emulator/index.ts';
import { BridgeDriver } from '../../main/bridge/driver.ts';
import { BridgeError } from '../../main/bridge/errors.ts';
import { VirtualDevice, type VirtualDeviceOptions } from '../../main/bridge/virtual-device.ts';
import { createPtyPair, type PtyPair } from '../../main/bridge/pty.ts';
import { capmemRequest } from './helpers.ts';

// The TypeScript kernel is bit-identical to the native one and does not depend on a native build.
const emulator = createEmulator({ kernel: 'typescript' });
const FAST = { requestTimeoutMs: 150, runTimeoutMs: 400, maxAttempts: 6, maxRunRetries: 30 };
const cleanup: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function pty(options: Parameters<typeof createPtyPair>[0] = {}): Promise<PtyPair> {
  const pair = await createPtyPair(options);
  cleanup.push(() => pair.close());
  return pair;
}

async function device(path: string, options: VirtualDeviceOptions = {}): Promise<VirtualDevice> {
  const dev = await VirtualDevice.open(path, { backend: emulator, chipSeed: 9, ...options });
  cleanup.push(() => dev.close());
  return dev;
}

function driver(): BridgeDriver {
  const drv = new BridgeDriver(FAST);
  cleanup.push(() => drv.disconnect());
  return drv;
}

async function rejection(p: Promise<unknown>): Promise<BridgeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BridgeError);
  return err as BridgeError;
}

describe('bridge over a socat pty pair', () => {
  it('runs a request whose traces equal the emulator output for the same seed and chip', async () => {
    const pair = await pty();
    await device(pair.devicePath);
    const drv = driver();
    const info = await drv.connect(pair.hostPath);
    expect(info).toMatchObject({ path: pair.hostPath, deviceId: 'virtual-9', protocolVersion: 1 });
    const request = capmemRequest(10, { circuits: Int32Array.from({ length: 10 }, (_, i) => i * 50) });
    const buffer = new Int16Array(10 * 1000);
    const got = await drv.simulate(request, { codes: buffer });
    const want = await emulator.simulate({ ...request, chipSeed: 9 });
    expect(got.codes).toEqual(want.codes);
    expect(got.codes.buffer).toBe(buffer.buffer); // written into the caller's buffer
    expect(got.spikeCounts).toEqual(want.spikeCounts);
    expect(got.spikeTimes).toEqual(want.spikeTimes);
    // A wrong buffer is refused with a message; the link stays usable.
    await expect(
      drv.simulate(request, { codes: new Float32Array(10) as unknown as Int16Array }),
    ).rejects.toThrow('options.codes must be an Int16Array, got [object Float32Array]');
    await expect(drv.simulate(request, { codes: new Int16Array(10) })).rejects.toThrow(
      `options.codes holds 10 values, but 10 rows of ${got.samples} samples need ${10 * got.samples}`,
    );
    expect((await drv.simulate(request)).codes).toEqual(want.codes);
  });

  it('recovers corrupted and dropped frames by retransmission', async () => {
    const pair = await pty();
    const dev = await device(pair.devicePath, {
      chunkSamples: 200,
      faults: { corruptRate: 0.08, dropRate: 0.08, seed: 21 },
    });
    const drv = driver();
    await drv.connect(pair.hostPath);
    const request = capmemRequest(8);
    const got = await drv.simulate(request);
    expect(got.codes).toEqual((await emulator.simulate({ ...request, chipSeed: 9 })).codes);
    expect(dev.stats.corrupted + dev.stats.dropped).toBeGreaterThan(0);
    expect(drv.stats().retransmissions).toBeGreaterThan(0);
  });

  it('reports a disconnect when the pty is closed mid-run, and resumes after reconnecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adexwb-test-'));
    cleanup.unshift(async () => rmSync(dir, { recursive: true, force: true }));
    const paths = { hostPath: join(dir, 'host'), devicePath: join(dir, 'device') };
    const pair = await pty(paths);
    await device(pair.devicePath);
    const drv = driver();
    await drv.connect(pair.hostPath);
    const request = capmemRequest(8);
    const err = await rejection(
      drv.simulate(request, { onProgress: (p) => p.done === 3 && void pair.close() }),
    );
    expect(err.code).toBe('disconnected');
    expect(err.message).toMatch(/^device disconnected \(/);
    expect(drv.connected).toBe(false);

    // Plug back in: a new pty pair at the same paths, the device restarted, the driver reconnects.
    const again = await pty(paths);
    await device(again.devicePath);
    await drv.connect(again.hostPath);
    const got = await drv.simulate(request);
    expect(got.codes).toEqual((await emulator.simulate({ ...request, chipSeed: 9 })).codes);
  });

  it('reports the disconnect injected by the device after N frames', async () => {
    const pair = await pty();
    const dev = await device(pair.devicePath, {
      chunkSamples: 100,
      faults: { disconnectAfter: 30 },
      onDisconnect: () => void pair.close(),
    });
    const drv = driver();
    await drv.connect(pair.hostPath);
    const err = await rejection(drv.simulate(capmemRequest(6)));
    expect(err.code).toBe('disconnected');
    expect(dev.stats.framesSent).toBe(30);
  });

  it('refuses a device announcing an unknown protocol version', async () => {
    const pair = await pty();
    await device(pair.devicePath, { protocolVersion: 7 });
    const drv = driver();
    const err = await rejection(drv.connect(pair.hostPath));
    expect(err.code).toBe('version');
    expect(err.message).toBe(
      `device on ${pair.hostPath} speaks bridge protocol version 7, this workbench speaks version 1; update the firmware or the workbench`,
    );
  });

  it('names the port when it cannot be opened', async () => {
    const err = await rejection(driver().connect('/nonexistent/ttyACM9'));
    expect(err.message).toMatch(/^cannot open serial port \/nonexistent\/ttyACM9: /);
  });
});
