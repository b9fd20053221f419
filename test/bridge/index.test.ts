// The app-facing bridge API (main/bridge/index.ts) over a real pty pair.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEFAULT_EXPERIMENT } from '../../main/emulator/index.ts';
import {
  BridgeError,
  VirtualDevice,
  connectDevice,
  createPtyPair,
  currentDevice,
  disconnectDevice,
  hardwareBackend,
  listDevicePorts,
  listPorts,
  recordTestTrace,
  type PtyPair,
} from '../../main/bridge/index.ts';

const emulator = createEmulator({ kernel: 'typescript' });
let pair: PtyPair;
let device: VirtualDevice;

beforeAll(async () => {
  pair = await createPtyPair();
  device = await VirtualDevice.open(pair.devicePath, { backend: emulator, chipSeed: 6 });
});

afterAll(async () => {
  await disconnectDevice();
  await device.close();
  await pair.close();
});

describe('bridge app API', () => {
  it('lists serial ports with their paths, sorted', async () => {
    const ports = await listPorts();
    for (const p of ports) expect(typeof p.path).toBe('string');
    expect(ports.map((p) => p.path)).toEqual([...ports.map((p) => p.path)].sort());
  });

  it('lists USB, ACM and on-board serial device files when udev cannot be asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adexwb-dev-'));
    try {
      for (const name of ['ttyUSB1', 'ttyACM0', 'ttyS0', 'tty1', 'ttyAMA0', 'ttyUSB0', 'null', 'ttyUSBx'])
        writeFileSync(join(dir, name), '');
      expect(listDevicePorts(dir).map((p) => p.path)).toEqual(
        ['ttyACM0', 'ttyAMA0', 'ttyUSB0', 'ttyUSB1'].map((n) => join(dir, n)),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports no device before connecting and refuses to record', async () => {
    expect(currentDevice()).toBeNull();
    await expect(recordTestTrace()).rejects.toThrow(
      new BridgeError('not-connected', 'no bridge device is connected'),
    );
    expect(() => hardwareBackend()).toThrow(/no bridge device is connected/);
  });

  it('connects, records a test trace equal to the emulator one, and disconnects', async () => {
    const info = await connectDevice(pair.hostPath);
    expect(currentDevice()).toEqual(info);
    expect(hardwareBackend().info()).toMatchObject({ kind: 'hardware', id: 'virtual-6' });
    const trace = await recordTestTrace({ circuit: 9, params: { tau_mem: 180, b: 20 } });
    expect(trace).toMatchObject({ deviceId: 'virtual-6', circuit: 9, sampleRate: 5e6 });
    expect(trace.codes.length).toBe(1000);
    const names = Object.keys(trace.params);
    const want = await emulator.simulate({
      theta: Float32Array.from(names.map((n) => trace.params[n])),
      paramNames: names,
      space: 'capmem',
      mode: 'hardware',
      chipSeed: 6,
      circuits: Int32Array.of(9),
      stimulus: { ...DEFAULT_EXPERIMENT.stimulus, amplitude: DEFAULT_EXPERIMENT.stimulusCapmem },
      duration: DEFAULT_EXPERIMENT.duration,
      seed: 1,
    });
    expect(trace.codes).toEqual(want.codes);
    expect(trace.spikeTimes).toEqual(want.spikeTimes);
    await expect(recordTestTrace({ params: { g_leak: 3 } })).rejects.toThrow(
      /parameter 'g_leak' is not accepted by device virtual-6/,
    );
    await disconnectDevice();
    expect(currentDevice()).toBeNull();
  });
});
