/**
 * The hardware bridge as the app uses it: list serial ports, connect to / disconnect from one
 * bridge board, read its info, record a test trace, and hand the connected device to pipelines
 * as a SimulationBackend. One connection per workbench process (a board serves one host).
 *
 * @example
 * const ports = await listPorts();
 * const info = await connectDevice(ports[0].path);
 * const trace = await recordTestTrace({ circuit: 12 });
 * runPipeline(hardwareBackend());
 * await disconnectDevice();
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import type { SimulationBackend, StimulusProtocol } from '../emulator/backend.ts';
import { DEFAULT_EXPERIMENT } from '../emulator/index.ts';
import { BridgeDriver, type BridgeDriverOptions, type DeviceInfo } from './driver.ts';
import { BridgeError } from './errors.ts';

export { BridgeDriver, type BridgeDriverOptions, type BridgeStats, type DeviceInfo } from './driver.ts';
export { BridgeError, type BridgeErrorCode } from './errors.ts';
export { VirtualDevice, type VirtualDeviceOptions } from './virtual-device.ts';
export { createPtyPair, type PtyPair } from './pty.ts';
export { PROTOCOL_VERSION } from './frame.ts';

/** A serial port as found by the operating system. */
export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

/** Device names of USB and on-board serial ports that a bridge board can appear as. */
const SERIAL_DEVICE = /^tty(USB|ACM|AMA)\d+$/;

/**
 * Serial ports found by their device files alone (no vendor details): USB serial adapters
 * (`ttyUSB*`), USB CDC-ACM boards (`ttyACM*`) and on-board UARTs (`ttyAMA*`) in `dir`, sorted.
 * `listPorts` uses this on Linux machines without udev, where `SerialPort.list()` cannot run.
 */
export function listDevicePorts(dir = '/dev'): PortInfo[] {
  return readdirSync(dir)
    .filter((name) => SERIAL_DEVICE.test(name))
    .map((name) => ({ path: join(dir, name) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Serial ports present on this machine (`SerialPort.list()`), sorted by path. On Linux without
 * `udevadm` (containers, minimal installs) the device files in /dev are listed instead.
 */
export async function listPorts(): Promise<PortInfo[]> {
  let ports;
  try {
    ports = await SerialPort.list();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (process.platform === 'linux' && e.code === 'ENOENT') return listDevicePorts();
    throw err;
  }
  return ports
    .map((p) => ({
      path: p.path,
      manufacturer: p.manufacturer,
      serialNumber: p.serialNumber,
      vendorId: p.vendorId,
      productId: p.productId,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

let driver: BridgeDriver | undefined;

/**
 * Connect to the bridge board on `path` (closing any earlier connection): handshake, protocol
 * version check, chip and calibration info. Rejects with a BridgeError naming the cause.
 */
export async function connectDevice(path: string, options: BridgeDriverOptions = {}): Promise<DeviceInfo> {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a serial port path');
  await driver?.disconnect();
  driver = new BridgeDriver(options);
  return driver.connect(path);
}

/** Close the connection, if any. Running simulations on it fail with a 'disconnected' error. */
export async function disconnectDevice(): Promise<void> {
  const d = driver;
  driver = undefined;
  await d?.disconnect();
}

/** Info of the connected device, or null when none is connected (or it was unplugged). */
export function currentDevice(): DeviceInfo | null {
  return driver?.connected ? driver.deviceInfo() : null;
}

/**
 * The connected device as a SimulationBackend for pipelines (CapMem-space requests only).
 * Throws BridgeError('not-connected') when no device is connected.
 */
export function hardwareBackend(): SimulationBackend {
  if (!driver) throw new BridgeError('not-connected', 'no bridge device is connected');
  return driver;
}

/** What to record in a test trace; every field has a default. */
export interface TestTraceOptions {
  /** Neuron circuit, default 0. */
  circuit?: number;
  /** CapMem codes by parameter name; unlisted parameters take the device's defaults. */
  params?: Readonly<Record<string, number>>;
  /** Stimulus in CapMem LSB of i_offset; default the default experiment's step. */
  stimulus?: StimulusProtocol;
  /** Recording length, hardware us; default the default experiment's (200 us). */
  duration?: number;
  /** Seed of the (virtual devices') temporal noise; default 1. */
  seed?: number;
}

/** One recorded trace. */
export interface TestTrace {
  deviceId: string;
  circuit: number;
  /** MADC codes (10-bit). */
  codes: Int16Array;
  /** Samples per second. */
  sampleRate: number;
  /** Spike times, hardware us. */
  spikeTimes: Float32Array;
  /** The CapMem codes the circuit was configured with, by name. */
  params: Record<string, number>;
}

/** Record one membrane trace on the connected device (configure, stimulate, run). */
export async function recordTestTrace(options: TestTraceOptions = {}): Promise<TestTrace> {
  const d = driver;
  if (!d) throw new BridgeError('not-connected', 'no bridge device is connected');
  const device = d.deviceInfo();
  const circuit = options.circuit ?? 0;
  const params: Record<string, number> = {};
  for (const p of device.parameters) params[p.name] = p.defaultValue;
  for (const [name, v] of Object.entries(options.params ?? {})) {
    if (!(name in params)) {
      throw new BridgeError(
        'invalid-request',
        `parameter '${name}' is not accepted by device ${device.deviceId} (it accepts: ${Object.keys(params).join(', ')})`,
      );
    }
    params[name] = v;
  }
  const names = Object.keys(params);
  const result = await d.simulate({
    theta: Float32Array.from(names.map((n) => params[n])),
    paramNames: names,
    space: 'capmem',
    mode: 'hardware',
    circuits: Int32Array.of(circuit),
    stimulus: options.stimulus ?? {
      ...DEFAULT_EXPERIMENT.stimulus,
      amplitude: DEFAULT_EXPERIMENT.stimulusCapmem,
    },
    duration: options.duration ?? DEFAULT_EXPERIMENT.duration,
    seed: options.seed ?? 1,
  });
  return {
    deviceId: device.deviceId,
    circuit,
    codes: result.codes,
    sampleRate: result.sampleRate,
    spikeTimes: result.spikeTimes,
    params,
  };
}
