/**
 * Host driver of a bridge board (or a host daemon next to the setup) on a serial port. It
 * implements SimulationBackend, so simulation sets, observations and posterior-predictive checks
 * run on the chip exactly as on the emulator. Hardware works in CapMem space: every row's
 * parameters are CapMem codes (rounded to integers), model-space requests are refused.
 *
 * @example
 * const bridge = new BridgeDriver();
 * await bridge.connect('/dev/ttyACM0');
 * const result = await bridge.simulate({ theta, paramNames, space: 'capmem', mode: 'hardware', ... });
 * await bridge.disconnect();
 */

import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import {
  traceBuffer,
  type BackendInfo,
  type SimulateOptions,
  type SimulationBackend,
  type SimulationRequest,
  type SimulationResult,
  type StimulusProtocol,
} from '../emulator/backend.ts';
import { FrameLink } from './link.ts';
import { Capability, type ParamEntry, type StimulusSegment } from './messages.ts';
import { Session, type SessionOptions } from './session.ts';
import { BridgeError } from './errors.ts';
import { toCapmemRequest } from './capmem.ts';

/** Options of the driver; see SessionOptions for timeouts and retries. */
export interface BridgeDriverOptions extends SessionOptions {
  /** Baud rate of the serial port (ignored by USB CDC-ACM devices and ptys); default 921600. */
  baudRate?: number;
  /** Most RUN requests in flight (capped by the device's window); default the device's window. */
  window?: number;
  /**
   * Run model-space requests by converting them to CapMem codes with the nominal transfer
   * functions (see capmem.ts); default false: model-space requests are refused.
   */
  convertModelSpace?: boolean;
}

/** What the connected device says about itself (HELLO_REPLY and INFO_REPLY). */
export interface DeviceInfo {
  /** Serial port path (or stream label) the device is connected on. */
  path: string;
  deviceId: string;
  firmware: string;
  protocolVersion: number;
  circuits: number;
  /** MADC samples per second (hardware time). */
  sampleRate: number;
  /** Most samples one run may record. */
  maxSamples: number;
  /** Samples per TRACE_CHUNK frame. */
  chunkSamples: number;
  /** Most RUN requests the device lets the host have in flight. */
  window: number;
  capabilities: string[];
  chipId: string;
  calibrated: boolean;
  /** Free-form calibration description from the device (e.g. date and calibration version). */
  calibration: string;
  /** CapMem parameters the device accepts, by workbench column name. */
  parameters: ParamEntry[];
}

/** Traffic counters of the current connection. */
export interface BridgeStats {
  bytesSent: number;
  bytesReceived: number;
  faults: number;
  retransmissions: number;
}

/** A serial bridge backend. One operation at a time; concurrent calls queue. */
export class BridgeDriver implements SimulationBackend {
  private readonly options: BridgeDriverOptions;
  private session?: Session;
  private device?: DeviceInfo;
  private closeStream?: () => Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: BridgeDriverOptions = {}) {
    this.options = options;
  }

  /**
   * Open the serial port at `path`, handshake and read the chip info. A driver that lost its
   * device (unplugged) is reconnected by calling `connect` again.
   */
  async connect(path: string): Promise<DeviceInfo> {
    await this.disconnect();
    const port = new SerialPort({ path, baudRate: this.options.baudRate ?? 921600, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err
          ? reject(new BridgeError('disconnected', `cannot open serial port ${path}: ${err.message}`))
          : resolve(),
      ),
    );
    const close = () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      });
    return this.attach(port, path, close);
  }

  /**
   * Talk to a device over any byte duplex (in-memory pairs in tests, a socket to a host daemon):
   * handshake (with protocol version check) and chip info. `close` is called by `disconnect`.
   */
  async attach(stream: Duplex, label = 'stream', close?: () => Promise<void>): Promise<DeviceInfo> {
    await this.disconnect();
    const link = new FrameLink(stream);
    const session = new Session(link, label, this.options);
    this.session = session;
    this.closeStream = close ?? (async () => void stream.destroy());
    try {
      // A lone delimiter ends whatever partial frame the device may hold from an earlier session.
      link.sendRaw(Uint8Array.of(0));
      const hello = await this.exclusive(() => session.handshake());
      const info = await this.exclusive(() => session.request({ kind: 'getInfo' }, 'infoReply'));
      this.device = {
        path: label,
        deviceId: hello.deviceId,
        firmware: hello.firmware,
        protocolVersion: hello.protocolVersion,
        circuits: hello.circuits,
        sampleRate: hello.sampleRate,
        maxSamples: hello.maxSamples,
        chunkSamples: hello.chunkSamples,
        window: hello.window,
        capabilities: Object.entries(Capability)
          .filter(([, bit]) => (hello.capabilities & bit) !== 0)
          .map(([name]) => name.toLowerCase()),
        chipId: info.chipId,
        calibrated: info.calibrated,
        calibration: info.calibration,
        parameters: info.params,
      };
      return this.device;
    } catch (err) {
      await this.disconnect();
      throw err;
    }
  }

  /** True while a device is connected and its link is open. */
  get connected(): boolean {
    return !!this.device && !!this.session?.open;
  }

  /** The connected device's info; throws BridgeError('not-connected' or 'disconnected'). */
  deviceInfo(): DeviceInfo {
    return this.requireDevice();
  }

  /** Backend description for the UI and provenance; works also when not connected. */
  info(): BackendInfo {
    const d = this.device;
    if (!d)
      return {
        kind: 'hardware',
        id: 'hardware bridge (not connected)',
        circuits: 0,
        sampleRate: 0,
        details: {},
      };
    return {
      kind: 'hardware',
      id: d.deviceId,
      circuits: d.circuits,
      sampleRate: d.sampleRate,
      details: {
        port: d.path,
        firmware: d.firmware,
        protocol: d.protocolVersion,
        chip: d.chipId,
        calibrated: d.calibrated,
        calibration: d.calibration,
        connected: this.connected,
      },
    };
  }

  /** Traffic counters of the current connection (zeros when none). */
  stats(): BridgeStats {
    const s = this.session;
    if (!s) return { bytesSent: 0, bytesReceived: 0, faults: 0, retransmissions: 0 };
    const l = s.link.stats;
    return {
      bytesSent: l.bytesSent,
      bytesReceived: l.bytesReceived,
      faults: l.faults,
      retransmissions: s.retransmissions,
    };
  }

  /** Round-trip time of one PING, in milliseconds. */
  async ping(): Promise<number> {
    const session = this.requireSession();
    return this.exclusive(async () => {
      const t0 = performance.now();
      const data = Buffer.from('adexwb');
      const pong = await session.request({ kind: 'ping', data }, 'pong');
      if (!pong.data.equals(data)) throw new BridgeError('protocol', 'PONG does not echo the PING payload');
      return performance.now() - t0;
    });
  }

  /**
   * Run every row of `request` on the chip: one RUN per row carrying the row's CapMem values for
   * its circuit, several in flight. The stimulus is sent once. Resolves only when every trace is complete; a run
   * that cannot be completed, a disconnect or an abort rejects and no partial result is returned.
   */
  async simulate(request: SimulationRequest, options: SimulateOptions = {}): Promise<SimulationResult> {
    const session = this.requireSession();
    const device = this.requireDevice();
    const plan = planRequest(
      request.space === 'model' && this.options.convertModelSpace ? toCapmemRequest(request) : request,
      device,
    );
    // A caller's trace buffer of the wrong type is refused before the chip runs anything (its size
    // is checked once the first run tells the number of samples).
    traceBuffer(0, 0, options.codes);
    return this.exclusive(async () => {
      const { n, circuits, ids, values, segments } = plan;
      await session.request({ kind: 'setStimulus', segments }, 'ack');
      const nv = ids.length;
      const rows = Array.from({ length: n }, (_, i) => ({
        circuit: circuits[i],
        duration: request.duration,
        seed: request.seed >>> 0,
        row: (request.rowOffset ?? 0) + i,
        ids,
        values: values.subarray(i * nv, (i + 1) * nv),
      }));
      let samples = -1;
      let codes: Int16Array = new Int16Array(0);
      const spikeCounts = new Int32Array(n);
      const spikeOffsets = new Int32Array(n + 1);
      const spikeParts: Float32Array[] = [];
      await session.runMany(
        rows,
        (i, run) => {
          if (samples < 0) {
            samples = run.codes.length;
            codes = traceBuffer(n, samples, options.codes);
          } else if (run.codes.length !== samples) {
            throw new BridgeError(
              'protocol',
              `row ${i} returned ${run.codes.length} samples, row 0 returned ${samples}`,
            );
          }
          codes.set(run.codes, i * samples);
          spikeCounts[i] = run.spikeTimes.length;
          spikeOffsets[i + 1] = spikeOffsets[i] + run.spikeTimes.length;
          spikeParts.push(run.spikeTimes);
          options.onProgress?.({ done: i + 1, total: n });
        },
        { window: this.options.window, signal: options.signal },
      );
      const spikeTimes = new Float32Array(spikeOffsets[n]);
      spikeParts.forEach((t, i) => spikeTimes.set(t, spikeOffsets[i]));
      return {
        n,
        samples: Math.max(samples, 0),
        sampleRate: device.sampleRate,
        codes,
        spikeCounts,
        spikeTimes,
        spikeOffsets,
      };
    });
  }

  /** Close the port (if open). Pending operations fail with a 'disconnected' error. Idempotent. */
  async disconnect(): Promise<void> {
    const close = this.closeStream;
    const session = this.session;
    this.closeStream = undefined;
    this.session = undefined;
    this.device = undefined;
    session?.link.detach('disconnected by the workbench');
    if (close) await close();
  }

  private requireSession(): Session {
    if (!this.session) throw new BridgeError('not-connected', 'no bridge device is connected');
    if (!this.session.open) {
      throw new BridgeError(
        'disconnected',
        `device on ${this.session.label} is disconnected; connect again to resume`,
      );
    }
    return this.session;
  }

  private requireDevice(): DeviceInfo {
    this.requireSession();
    return this.device ?? fail('not-connected', 'no bridge device is connected');
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function fail(code: 'not-connected', message: string): never {
  throw new BridgeError(code, message);
}

/** A request turned into CONFIGURE/SET_STIMULUS payloads, validated against the device. */
interface Plan {
  n: number;
  circuits: Int32Array;
  ids: Uint8Array;
  /** n rows of ids.length CapMem codes. */
  values: Uint16Array;
  segments: StimulusSegment[];
}

/** Validate a request against the device and build the per-row CapMem codes. */
export function planRequest(request: SimulationRequest, device: DeviceInfo): Plan {
  const bad = (msg: string): never => {
    throw new BridgeError('invalid-request', msg);
  };
  if (request.space !== 'capmem') {
    bad(
      `the hardware bridge takes CapMem codes; convert the model-space parameters to CapMem first or connect with convertModelSpace (request.space is '${request.space}')`,
    );
  }
  if (request.mode !== 'hardware')
    bad(`the hardware bridge runs in 'hardware' mode only (request.mode is '${request.mode}')`);
  const np = request.paramNames.length;
  if (np === 0 && request.theta.length > 0) bad('theta has values but paramNames is empty');
  const n = np === 0 ? 0 : request.theta.length / np;
  if (!Number.isInteger(n))
    bad(`theta has ${request.theta.length} values, not a multiple of ${np} parameters`);
  if (!(request.duration > 0) || !Number.isFinite(request.duration))
    bad(`duration must be a positive number of microseconds (got ${request.duration})`);
  const expectedSamples = (request.duration * device.sampleRate) / 1e6;
  if (expectedSamples > device.maxSamples) {
    bad(
      `a ${request.duration} us recording needs ${Math.ceil(expectedSamples)} samples, the device records at most ${device.maxSamples}`,
    );
  }
  const byName = new Map(device.parameters.map((p) => [p.name, p]));
  const lookup = (name: string): ParamEntry =>
    byName.get(name) ??
    bad(
      `parameter '${name}' is not accepted by device ${device.deviceId} (it accepts: ${[...byName.keys()].join(', ')})`,
    );
  const columns = request.paramNames.map(lookup);
  const fixed = Object.entries(request.fixed ?? {}).filter(([name]) => !request.paramNames.includes(name));
  const fixedEntries = fixed.map(([name]) => lookup(name));
  const entries = [...columns, ...fixedEntries];
  const nv = entries.length;
  const ids = Uint8Array.from(entries.map((e) => e.id));
  const code = (v: number, row: number | 'fixed', e: ParamEntry): number => {
    const c = Math.round(v);
    if (!Number.isFinite(v) || c < e.minValue || c > e.maxValue) {
      bad(
        `${row === 'fixed' ? 'fixed value' : `row ${row}`}, parameter '${e.name}': CapMem value ${v} outside ${e.minValue}..${e.maxValue}`,
      );
    }
    return c;
  };
  const fixedCodes = fixed.map(([, v], j) => code(v, 'fixed', fixedEntries[j]));
  const values = new Uint16Array(n * nv);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < np; j++) values[i * nv + j] = code(request.theta[i * np + j], i, columns[j]);
    for (let j = 0; j < fixedCodes.length; j++) values[i * nv + np + j] = fixedCodes[j];
  }
  const circuits = request.circuits ?? new Int32Array(n);
  if (circuits.length !== n) bad(`circuits has ${circuits.length} entries for ${n} rows`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(circuits[i]) || circuits[i] < 0 || circuits[i] >= device.circuits) {
      bad(`row ${i}: circuit ${circuits[i]} outside 0..${device.circuits - 1}`);
    }
  }
  return {
    n,
    circuits: Int32Array.from(circuits),
    ids,
    values,
    segments: stimulusSegments(request.stimulus),
  };
}

/** A stimulus protocol as the piecewise-constant segments SET_STIMULUS carries (times in us). */
export function stimulusSegments(s: StimulusProtocol): StimulusSegment[] {
  if (s.kind === 'step') {
    if (!(s.duration > 0) || s.amplitude === 0) return [{ start: 0, amplitude: 0 }];
    const out: StimulusSegment[] = [];
    if (s.onset > 0) out.push({ start: 0, amplitude: 0 });
    out.push({ start: s.onset, amplitude: s.amplitude }, { start: s.onset + s.duration, amplitude: 0 });
    return out;
  }
  let last = -Infinity;
  for (const [i, seg] of s.segments.entries()) {
    if (!Number.isFinite(seg.start) || !Number.isFinite(seg.amplitude) || seg.start <= last) {
      throw new BridgeError(
        'invalid-request',
        `stimulus segment ${i} must have finite values and start after segment ${i - 1}`,
      );
    }
    last = seg.start;
  }
  if (s.segments.length > 500)
    throw new BridgeError(
      'invalid-request',
      `stimulus has ${s.segments.length} segments, at most 500 fit in one frame`,
    );
  return s.segments.map((seg) => ({ start: seg.start, amplitude: seg.amplitude }));
}
