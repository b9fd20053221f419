/**
 * A virtual bridge board: speaks the device side of the protocol over any byte duplex (a serial
 * port, one end of a pty pair, an in-memory pair), backed by the emulator in hardware mode on a
 * seeded chip, with optional fault injection. Used by `adexwb virtual-device`, the integration
 * tests and the benchmark.
 *
 * @example
 * const device = await VirtualDevice.open('/tmp/adexwb-pty/device', { chipSeed: 7, faults: { dropRate: 0.05 } });
 * // ... a BridgeDriver connected to the other end runs simulations on chip 7 ...
 * await device.close();
 */

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { createEmulator, ALL_PARAMETERS, DEFAULT_EXPERIMENT, CIRCUITS } from '../emulator/index.ts';
import type { SimulationBackend } from '../emulator/backend.ts';
import { FrameFlag, PROTOCOL_VERSION, frameTypeName, type Frame } from './frame.ts';
import { crc32 } from './crc32.ts';
import {
  Capability,
  ErrorCode,
  MAX_CHUNK_SAMPLES,
  MAX_SPIKES_PER_FRAME,
  NackFault,
  type Message,
  type ParamEntry,
  type StimulusSegment,
} from './messages.ts';
import { FrameLink } from './link.ts';
import { FaultInjector, checkFaultOptions, type FaultOptions } from './faults.ts';
import { WORKBENCH_VERSION } from '../version.ts';

/** Options of a virtual device; every field has a default. */
export interface VirtualDeviceOptions {
  /** Backend running the chip; default the emulator (`createEmulator()`). */
  backend?: SimulationBackend;
  /** Seed of the emulated chip's fixed-pattern mismatch; default 1. */
  chipSeed?: number;
  /** Device id announced in HELLO_REPLY; default `virtual-<chipSeed>`. */
  deviceId?: string;
  /** Protocol version announced (other values exist to test refusal); default PROTOCOL_VERSION. */
  protocolVersion?: number;
  /** Samples per TRACE_CHUNK, 1..MAX_CHUNK_SAMPLES; default MAX_CHUNK_SAMPLES (2046). */
  chunkSamples?: number;
  /** Fault injection; default none. */
  faults?: FaultOptions;
  /**
   * Called when `faults.disconnectAfter` triggers; default: the device destroys its stream. A
   * pty-backed device passes a function that kills socat, so the host sees the pty vanish.
   */
  onDisconnect?: () => void;
}

/** Counters of a virtual device. */
export interface VirtualDeviceStats {
  framesReceived: number;
  framesSent: number;
  runs: number;
  resends: number;
  nacksSent: number;
  duplicates: number;
  corrupted: number;
  dropped: number;
}

/** The parameter table of the virtual device: the emulator's parameters in CapMem space. */
export function virtualParameterTable(): ParamEntry[] {
  return ALL_PARAMETERS.map((p, i) => {
    const identity = p.transfer === 'identity';
    const minValue = p.transfer === 'reciprocal' || p.name === 'c_mem' ? 1 : 0;
    const maxValue = identity ? p.capmemRange[1] : p.name === 'c_mem' ? 63 : 1022;
    const fixed = DEFAULT_EXPERIMENT.fixedCapmem[p.name];
    const defaultValue = Math.round(fixed ?? (p.capmemRange[0] + p.capmemRange[1]) / 2);
    return { id: i + 1, name: p.name, minValue, maxValue, defaultValue };
  });
}

type Reply = { m: Message; seq: number };
/** A finished run: its data frames and RUN_DONE, or the ERROR it ended with. */
type RunRecord = { frames: Reply[]; final: Reply };

/** Most RUN requests the host may have in flight; the device keeps this many finished runs. */
export const RUN_WINDOW = 8;

/** The device side of the bridge protocol. */
export class VirtualDevice extends EventEmitter<{ disconnect: []; close: []; warn: [string] }> {
  readonly stats: VirtualDeviceStats = {
    framesReceived: 0,
    framesSent: 0,
    runs: 0,
    resends: 0,
    nacksSent: 0,
    duplicates: 0,
    corrupted: 0,
    dropped: 0,
  };
  readonly chipSeed: number;
  readonly deviceId: string;
  private readonly backend: SimulationBackend;
  private readonly protocolVersion: number;
  private readonly chunkSamples: number;
  private readonly faults: Required<FaultOptions>;
  private readonly injector: FaultInjector;
  private readonly params: ParamEntry[];
  private readonly paramById: Map<number, ParamEntry>;
  private link?: FrameLink;
  private stream?: Duplex;
  private closer?: () => Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  private sendChain: Promise<void> = Promise.resolve();
  private sent = 0;
  private disconnected = false;
  // Device state.
  private configs = new Map<number, { ids: Uint8Array; values: Uint16Array }>();
  private stimulus?: StimulusSegment[];
  private last?: { requestId: number; type: number; replies: Reply[] };
  /** Finished runs by request id, oldest first, at most RUN_WINDOW (for duplicates and RESEND). */
  private runs = new Map<number, RunRecord>();
  private aborted = new Set<number>();
  private running?: { requestId: number; abort: AbortController };

  constructor(private readonly options: VirtualDeviceOptions = {}) {
    super();
    this.chipSeed = options.chipSeed ?? 1;
    this.deviceId = options.deviceId ?? `virtual-${this.chipSeed}`;
    this.backend = options.backend ?? createEmulator({ warn: (m) => this.emit('warn', m) });
    this.protocolVersion = options.protocolVersion ?? PROTOCOL_VERSION;
    this.chunkSamples = options.chunkSamples ?? MAX_CHUNK_SAMPLES;
    if (
      !Number.isInteger(this.chunkSamples) ||
      this.chunkSamples < 1 ||
      this.chunkSamples > MAX_CHUNK_SAMPLES
    ) {
      throw new RangeError(
        `chunkSamples must be an integer in 1..${MAX_CHUNK_SAMPLES}, got ${this.chunkSamples}`,
      );
    }
    this.faults = checkFaultOptions(options.faults ?? {});
    this.injector = new FaultInjector(this.faults);
    this.params = virtualParameterTable();
    this.paramById = new Map(this.params.map((p) => [p.id, p]));
  }

  /** Open the serial device at `path` (e.g. one end of a socat pty pair) and serve on it. */
  static async open(path: string, options: VirtualDeviceOptions = {}): Promise<VirtualDevice> {
    const device = new VirtualDevice(options);
    const port = new SerialPort({ path, baudRate: 921600, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err ? reject(new Error(`cannot open serial device ${path}: ${err.message}`)) : resolve(),
      ),
    );
    device.serve(
      port,
      () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
    );
    return device;
  }

  /** Serve the protocol on `stream`; `close` (default: destroy the stream) is called by `close()`. */
  serve(stream: Duplex, close?: () => Promise<void>): void {
    this.stream = stream;
    this.closer = close ?? (async () => void stream.destroy());
    const injector = this.injector;
    const link = new FrameLink(stream, {
      inboundRaw: injector.active ? injector.inboundTransform() : undefined,
      outbound: (wire) => this.outbound(wire),
    });
    this.link = link;
    link.on('message', (m, f) => {
      this.stats.framesReceived++;
      if (m.kind === 'abort') return this.onAbort(f);
      this.queue = this.queue
        .then(() => this.handle(m, f))
        .catch((err: Error) => {
          this.emit('warn', `internal error handling ${m.kind}: ${err.message}`);
        });
    });
    link.on('fault', (e) => {
      if (e.fault === 'version' && e.frame) {
        this.reply(e.frame, {
          kind: 'error',
          code: ErrorCode.UNSUPPORTED_VERSION,
          detail: e.frame.version,
          message: `this device speaks protocol version ${this.protocolVersion}`,
        });
      } else if (e.fault === 'payload' && e.frame) {
        this.reply(e.frame, {
          kind: 'error',
          code: ErrorCode.BAD_PAYLOAD,
          detail: e.frame.type,
          message: e.detail,
        });
      } else {
        this.stats.nacksSent++;
        this.send({ kind: 'nack', fault: NackFault[e.fault] ?? 0 }, 0);
      }
    });
    link.on('close', () => {
      this.running?.abort.abort();
      this.emit('close');
    });
  }

  /** Stop serving and close the stream or port. */
  async close(): Promise<void> {
    this.running?.abort.abort();
    this.link?.detach('device closed');
    const closer = this.closer;
    this.closer = undefined;
    if (closer) await closer();
  }

  private outbound(wire: Buffer): Buffer | null {
    this.sent++;
    const { disconnectAfter } = this.faults;
    if (disconnectAfter > 0 && this.sent > disconnectAfter) {
      if (!this.disconnected) {
        this.disconnected = true;
        this.emit('disconnect');
        setImmediate(() =>
          this.options.onDisconnect ? this.options.onDisconnect() : this.stream?.destroy(),
        );
      }
      return null;
    }
    const out = this.injector.active ? this.injector.apply(wire, true) : wire;
    this.stats.corrupted = this.injector.stats.corrupted;
    this.stats.dropped = this.injector.stats.dropped;
    if (out) this.stats.framesSent++;
    return out;
  }

  private send(m: Message, requestId: number, seq = 0, flags = 0): void {
    const version = this.protocolVersion;
    if (this.faults.delayMs > 0) {
      this.sendChain = this.sendChain
        .then(() => new Promise<void>((r) => setTimeout(r, this.faults.delayMs)))
        .then(() => {
          this.link?.send(m, { requestId, seq, flags, version });
        });
    } else {
      this.link?.send(m, { requestId, seq, flags, version });
    }
  }

  private reply(f: Frame, m: Message): void {
    this.last = { requestId: f.requestId, type: f.type, replies: [{ m, seq: 0 }] };
    this.send(m, f.requestId);
  }

  private error(f: Frame, code: number, detail: number, message: string): void {
    this.reply(f, { kind: 'error', code, detail, message });
  }

  private async handle(m: Message, f: Frame): Promise<void> {
    // A repeated request id (a retransmission whose reply was lost): answer again, never re-execute.
    if (m.kind === 'run' && this.runs.has(f.requestId)) {
      this.stats.duplicates++;
      const run = this.runs.get(f.requestId)!;
      return this.send(run.final.m, f.requestId, run.final.seq, FrameFlag.RETRANSMIT);
    }
    if (
      m.kind !== 'hello' &&
      m.kind !== 'resend' &&
      m.kind !== 'run' &&
      this.last?.requestId === f.requestId &&
      this.last.type === f.type
    ) {
      this.stats.duplicates++;
      for (const r of this.last.replies) this.send(r.m, f.requestId, r.seq, FrameFlag.RETRANSMIT);
      return;
    }
    switch (m.kind) {
      case 'hello':
        this.last = undefined;
        this.runs.clear();
        this.aborted.clear();
        return this.reply(f, {
          kind: 'helloReply',
          protocolVersion: this.protocolVersion,
          firmware: WORKBENCH_VERSION,
          circuits: CIRCUITS,
          sampleRate: Math.round(this.backend.info().sampleRate),
          maxSamples: 65535,
          maxPayload: 4096,
          chunkSamples: this.chunkSamples,
          window: RUN_WINDOW,
          capabilities: Capability.ABORT | Capability.CALIBRATION | Capability.SPIKE_EVENTS,
          deviceId: this.deviceId,
        });
      case 'getInfo':
        return this.reply(f, {
          kind: 'infoReply',
          chipId: `emulated-chip-${this.chipSeed}`,
          calibrated: true,
          calibration: `emulator ${this.backend.info().id}, chip seed ${this.chipSeed}`,
          params: this.params,
        });
      case 'configure':
        return this.configure(m, f);
      case 'setStimulus':
        return this.setStimulus(m, f);
      case 'run':
        return this.run(m, f);
      case 'resend':
        return this.resend(m, f);
      case 'ping':
        return this.reply(f, { kind: 'pong', data: m.data });
      default:
        return this.error(f, ErrorCode.UNKNOWN_TYPE, f.type, `${frameTypeName(f.type)} is not a request`);
    }
  }

  /** Check a configuration; returns the ERROR to send, or undefined when it is valid. */
  private checkConfig(circuit: number, ids: Uint8Array, values: Uint16Array): Message | undefined {
    const error = (code: number, detail: number, message: string): Message => ({
      kind: 'error',
      code,
      detail,
      message,
    });
    if (circuit >= CIRCUITS)
      return error(ErrorCode.BAD_CIRCUIT, circuit, `circuit ${circuit} outside 0..${CIRCUITS - 1}`);
    for (let i = 0; i < ids.length; i++) {
      const p = this.paramById.get(ids[i]);
      if (!p) return error(ErrorCode.UNKNOWN_PARAMETER, ids[i], `no parameter with id ${ids[i]}`);
      if (values[i] < p.minValue || values[i] > p.maxValue) {
        return error(
          ErrorCode.VALUE_OUT_OF_RANGE,
          p.id,
          `${p.name} = ${values[i]} outside ${p.minValue}..${p.maxValue}`,
        );
      }
    }
    return undefined;
  }

  private configure(m: Extract<Message, { kind: 'configure' }>, f: Frame): void {
    const err = this.checkConfig(m.circuit, m.ids, m.values);
    if (err) return this.reply(f, err);
    this.configs.set(m.circuit, { ids: m.ids, values: m.values });
    this.reply(f, { kind: 'ack', ackedType: f.type });
  }

  private setStimulus(m: Extract<Message, { kind: 'setStimulus' }>, f: Frame): void {
    let prev = -Infinity;
    for (const [k, s] of m.segments.entries()) {
      if (!(s.start >= 0 && s.start > prev) || !(s.amplitude >= 0 && s.amplitude <= 1022)) {
        return this.error(
          f,
          ErrorCode.VALUE_OUT_OF_RANGE,
          k,
          `segment ${k}: start ${s.start} us, amplitude ${s.amplitude} LSB`,
        );
      }
      prev = s.start;
    }
    this.stimulus = m.segments;
    this.reply(f, { kind: 'ack', ackedType: f.type });
  }

  private finishRun(f: Frame, record: RunRecord): void {
    this.runs.set(f.requestId, record);
    while (this.runs.size > RUN_WINDOW) this.runs.delete(this.runs.keys().next().value!);
    for (const r of record.frames) this.send(r.m, f.requestId, r.seq);
    this.send(record.final.m, f.requestId, record.final.seq);
  }

  private runError(f: Frame, code: number, detail: number, message: string): void {
    this.finishRun(f, { frames: [], final: { m: { kind: 'error', code, detail, message }, seq: 0 } });
  }

  private async run(m: Extract<Message, { kind: 'run' }>, f: Frame): Promise<void> {
    if (this.aborted.delete(f.requestId)) return this.runError(f, ErrorCode.ABORTED, 0, 'run aborted');
    const bad = this.checkConfig(m.circuit, m.ids, m.values);
    if (bad && bad.kind === 'error') return this.runError(f, bad.code, bad.detail, bad.message);
    if (m.ids.length > 0) this.configs.set(m.circuit, { ids: m.ids, values: m.values });
    if (!this.stimulus) return this.runError(f, ErrorCode.NO_STIMULUS, 0, 'SET_STIMULUS first');
    const config = this.configs.get(m.circuit) ?? { ids: new Uint8Array(0), values: new Uint16Array(0) };
    const abort = new AbortController();
    this.running = { requestId: f.requestId, abort };
    this.stats.runs++;
    let result;
    try {
      result = await this.backend.simulate(
        {
          theta: Float32Array.from(config.values),
          paramNames: [...config.ids].map((id) => this.paramById.get(id)!.name),
          space: 'capmem',
          mode: 'hardware',
          chipSeed: this.chipSeed,
          circuits: Int32Array.of(m.circuit),
          stimulus: { kind: 'piecewise', segments: this.stimulus },
          duration: m.duration,
          seed: m.seed,
          rowOffset: m.row,
        },
        { signal: abort.signal },
      );
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (abort.signal.aborted) return this.runError(f, ErrorCode.ABORTED, 0, 'run aborted');
      const code = /65535 samples/.test(msg)
        ? ErrorCode.TOO_MANY_SAMPLES
        : err instanceof RangeError
          ? ErrorCode.VALUE_OUT_OF_RANGE
          : ErrorCode.HARDWARE_FAULT;
      return this.runError(f, code, 0, msg);
    } finally {
      this.running = undefined;
    }
    if (abort.signal.aborted) return this.runError(f, ErrorCode.ABORTED, 0, 'run aborted');
    const { codes, spikeTimes } = result;
    const frames: Reply[] = [];
    let seq = 0;
    for (let off = 0; off < codes.length; off += this.chunkSamples) {
      frames.push({
        m: { kind: 'traceChunk', offset: off, codes: codes.subarray(off, off + this.chunkSamples) },
        seq: seq++,
      });
    }
    const chunks = seq;
    for (let k = 0; k < spikeTimes.length; k += MAX_SPIKES_PER_FRAME) {
      frames.push({
        m: { kind: 'spikes', times: spikeTimes.subarray(k, k + MAX_SPIKES_PER_FRAME) },
        seq: seq++,
      });
    }
    const traceCrc = crc32(new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength));
    const final: Reply = {
      m: {
        kind: 'runDone',
        samples: codes.length,
        chunks,
        spikeFrames: seq - chunks,
        spikes: spikeTimes.length,
        traceCrc,
      },
      seq: 0,
    };
    this.finishRun(f, { frames, final });
  }

  private resend(m: Extract<Message, { kind: 'resend' }>, f: Frame): void {
    const run = this.runs.get(f.requestId);
    if (!run) {
      const message = `no finished run with request id ${f.requestId}`;
      return this.send({ kind: 'error', code: ErrorCode.UNKNOWN_RUN, detail: 0, message }, f.requestId);
    }
    this.stats.resends++;
    for (const s of m.seqs) {
      const r = run.frames[s];
      if (r) this.send(r.m, f.requestId, r.seq, FrameFlag.RETRANSMIT);
    }
    this.send(run.final.m, f.requestId, run.final.seq, FrameFlag.RETRANSMIT);
  }

  private onAbort(f: Frame): void {
    if (this.running && this.running.requestId === f.requestId) this.running.abort.abort();
    else if (!this.runs.has(f.requestId)) {
      // Not started yet (queued behind other runs): it will be answered with ABORTED.
      this.aborted.add(f.requestId);
      if (this.aborted.size > 4 * RUN_WINDOW) this.aborted.delete(this.aborted.values().next().value!);
    }
    this.send({ kind: 'ack', ackedType: f.type }, f.requestId);
  }
}
