/**
 * Typed messages of the bridge protocol and their payload codecs (pure functions). Payload
 * layouts are documented per type in docs/bridge-protocol.md; all integers little-endian,
 * floats IEEE 754 binary32 little-endian, strings = u8 byte length + UTF-8 bytes.
 */

import { FrameType, MAX_PAYLOAD, encodeFrame, frameTypeName, type Frame } from './frame.ts';
import { PayloadError, Reader, Writer } from './bytes.ts';

export { PayloadError };

/** Capability bits announced in HELLO_REPLY. */
export const Capability = {
  /** The device can stop a run early on ABORT. */
  ABORT: 0x0001,
  /** GET_INFO returns calibration data. */
  CALIBRATION: 0x0002,
  /** Spike events are reported in SPIKES frames. */
  SPIKE_EVENTS: 0x0004,
} as const;

/** Error codes carried by ERROR frames (see the table in docs/bridge-protocol.md). */
export const ErrorCode = {
  UNKNOWN_TYPE: 0x01,
  BAD_PAYLOAD: 0x02,
  UNSUPPORTED_VERSION: 0x03,
  BAD_CIRCUIT: 0x04,
  UNKNOWN_PARAMETER: 0x05,
  VALUE_OUT_OF_RANGE: 0x06,
  NO_STIMULUS: 0x07,
  TOO_MANY_SAMPLES: 0x08,
  BUSY: 0x09,
  ABORTED: 0x0a,
  UNKNOWN_RUN: 0x0b,
  HARDWARE_FAULT: 0x0c,
} as const;

/** Name of an error code ('BAD_CIRCUIT', or '0x3C' when unknown). */
export function errorCodeName(code: number): string {
  for (const [name, c] of Object.entries(ErrorCode)) if (c === code) return name;
  return `0x${code.toString(16).padStart(2, '0').toUpperCase()}`;
}

/** One CapMem parameter a device accepts in CONFIGURE, as listed in INFO_REPLY. */
export interface ParamEntry {
  id: number;
  name: string;
  minValue: number;
  maxValue: number;
  defaultValue: number;
}

/** One piece of the piecewise-constant stimulus: from `start` (us) on, current `amplitude` (CapMem LSB). */
export interface StimulusSegment {
  start: number;
  amplitude: number;
}

/** Every message, discriminated by `kind`. */
export type Message =
  | { kind: 'hello'; minVersion: number; maxVersion: number }
  | { kind: 'getInfo' }
  | { kind: 'configure'; circuit: number; ids: Uint8Array; values: Uint16Array }
  | { kind: 'setStimulus'; segments: StimulusSegment[] }
  | {
      kind: 'run';
      circuit: number;
      duration: number;
      seed: number;
      row: number;
      /** Inline configuration (parameter ids and CapMem codes); empty = run the circuit as configured. */
      ids: Uint8Array;
      values: Uint16Array;
    }
  | { kind: 'resend'; seqs: number[] }
  | { kind: 'abort' }
  | { kind: 'ping'; data: Buffer }
  | {
      kind: 'helloReply';
      protocolVersion: number;
      firmware: string;
      circuits: number;
      sampleRate: number;
      maxSamples: number;
      maxPayload: number;
      chunkSamples: number;
      /** Most RUN requests the host may have outstanding (the device keeps that many finished runs). */
      window: number;
      capabilities: number;
      deviceId: string;
    }
  | { kind: 'infoReply'; chipId: string; calibrated: boolean; calibration: string; params: ParamEntry[] }
  | { kind: 'ack'; ackedType: number }
  | { kind: 'nack'; fault: number }
  | { kind: 'traceChunk'; offset: number; codes: Int16Array }
  | { kind: 'spikes'; times: Float32Array }
  | {
      kind: 'runDone';
      samples: number;
      chunks: number;
      spikeFrames: number;
      spikes: number;
      traceCrc: number;
    }
  | { kind: 'pong'; data: Buffer }
  | { kind: 'error'; code: number; detail: number; message: string };

export type MessageKind = Message['kind'];

/** Frame type code of each message kind. */
export const KIND_TYPE: Record<MessageKind, number> = {
  hello: FrameType.HELLO,
  getInfo: FrameType.GET_INFO,
  configure: FrameType.CONFIGURE,
  setStimulus: FrameType.SET_STIMULUS,
  run: FrameType.RUN,
  resend: FrameType.RESEND,
  abort: FrameType.ABORT,
  ping: FrameType.PING,
  helloReply: FrameType.HELLO_REPLY,
  infoReply: FrameType.INFO_REPLY,
  ack: FrameType.ACK,
  nack: FrameType.NACK,
  traceChunk: FrameType.TRACE_CHUNK,
  spikes: FrameType.SPIKES,
  runDone: FrameType.RUN_DONE,
  pong: FrameType.PONG,
  error: FrameType.ERROR,
};

/** NACK fault codes: why the receiver rejected a frame. */
export const NackFault: Record<string, number> = {
  overflow: 1,
  cobs: 2,
  short: 3,
  length: 4,
  crc: 5,
  payload: 6,
};

// ---- writing ----

function bytesOf(a: Int16Array | Float32Array): Buffer {
  // Wire order is little-endian, as are the typed arrays on every platform Node supports.
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Encode the payload of a message (without frame header). Throws RangeError on out-of-range fields. */
export function encodePayload(m: Message): Buffer {
  // Bulk payloads get an exactly sized buffer; the rest start small.
  const w = new Writer(
    m.kind === 'traceChunk' ? 4 + m.codes.byteLength : m.kind === 'spikes' ? 2 + m.times.byteLength : 256,
  );
  switch (m.kind) {
    case 'hello':
      return w.u8(m.minVersion).u8(m.maxVersion).done();
    case 'getInfo':
      return w.done();
    case 'configure': {
      if (m.ids.length !== m.values.length || m.ids.length > 255) {
        throw new RangeError('CONFIGURE needs equal-length ids and values (at most 255)');
      }
      w.u16(m.circuit).u8(m.ids.length);
      for (let i = 0; i < m.ids.length; i++) w.u8(m.ids[i]).u16(m.values[i]);
      return w.done();
    }
    case 'setStimulus':
      w.u16(m.segments.length);
      for (const s of m.segments) w.f32(s.start).f32(s.amplitude);
      return w.done();
    case 'run': {
      if (m.ids.length !== m.values.length || m.ids.length > 255) {
        throw new RangeError('RUN needs equal-length ids and values (at most 255)');
      }
      w.u16(m.circuit).f64(m.duration).u32(m.seed).u32(m.row).u8(m.ids.length);
      for (let i = 0; i < m.ids.length; i++) w.u8(m.ids[i]).u16(m.values[i]);
      return w.done();
    }
    case 'resend':
      w.u16(m.seqs.length);
      for (const s of m.seqs) w.u16(s);
      return w.done();
    case 'abort':
      return w.done();
    case 'ping':
    case 'pong':
      return w.bytes(m.data).done();
    case 'helloReply': {
      const fw = m.firmware.split('.').map((x) => Number(x));
      w.u8(m.protocolVersion)
        .u8(fw[0] ?? 0)
        .u8(fw[1] ?? 0)
        .u8(fw[2] ?? 0);
      w.u16(m.circuits)
        .u32(m.sampleRate)
        .u32(m.maxSamples)
        .u16(m.maxPayload)
        .u16(m.chunkSamples)
        .u8(m.window);
      return w.u16(m.capabilities).str(m.deviceId).done();
    }
    case 'infoReply':
      w.str(m.chipId)
        .u8(m.calibrated ? 1 : 0)
        .str(m.calibration)
        .u8(m.params.length);
      for (const p of m.params) w.u8(p.id).u16(p.minValue).u16(p.maxValue).u16(p.defaultValue).str(p.name);
      return w.done();
    case 'ack':
      return w.u8(m.ackedType).done();
    case 'nack':
      return w.u8(m.fault).done();
    case 'traceChunk':
      return w.u32(m.offset).bytes(bytesOf(m.codes)).done();
    case 'spikes':
      return w.u16(m.times.length).bytes(bytesOf(m.times)).done();
    case 'runDone':
      return w.u32(m.samples).u16(m.chunks).u16(m.spikeFrames).u32(m.spikes).u32(m.traceCrc).done();
    case 'error':
      return w.u8(m.code).u16(m.detail).str(m.message.slice(0, 200)).done();
  }
}

// ---- reading ----

/** Copy little-endian bytes into a fresh (aligned) typed array. */
function copyInto<T extends Int16Array | Float32Array>(dst: T, src: Buffer): T {
  new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(src);
  return dst;
}

/**
 * Decode a checked frame into a typed message. Throws PayloadError (naming the frame type) when
 * the type is unknown or the payload does not match its layout.
 */
export function decodeMessage(frame: Frame): Message {
  const what = frameTypeName(frame.type);
  const r = new Reader(frame.payload, what);
  let m: Message;
  switch (frame.type) {
    case FrameType.HELLO:
      m = { kind: 'hello', minVersion: r.u8(), maxVersion: r.u8() };
      break;
    case FrameType.GET_INFO:
      m = { kind: 'getInfo' };
      break;
    case FrameType.CONFIGURE: {
      const circuit = r.u16();
      const n = r.u8();
      const ids = new Uint8Array(n);
      const values = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        ids[i] = r.u8();
        values[i] = r.u16();
      }
      m = { kind: 'configure', circuit, ids, values };
      break;
    }
    case FrameType.SET_STIMULUS: {
      const n = r.u16();
      const segments: StimulusSegment[] = [];
      for (let i = 0; i < n; i++) segments.push({ start: r.f32(), amplitude: r.f32() });
      m = { kind: 'setStimulus', segments };
      break;
    }
    case FrameType.RUN: {
      const circuit = r.u16();
      const duration = r.f64();
      const seed = r.u32();
      const row = r.u32();
      const n = r.u8();
      const ids = new Uint8Array(n);
      const values = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        ids[i] = r.u8();
        values[i] = r.u16();
      }
      m = { kind: 'run', circuit, duration, seed, row, ids, values };
      break;
    }
    case FrameType.RESEND: {
      const n = r.u16();
      const seqs: number[] = [];
      for (let i = 0; i < n; i++) seqs.push(r.u16());
      m = { kind: 'resend', seqs };
      break;
    }
    case FrameType.ABORT:
      m = { kind: 'abort' };
      break;
    case FrameType.PING:
      m = { kind: 'ping', data: Buffer.from(r.rest()) };
      break;
    case FrameType.PONG:
      m = { kind: 'pong', data: Buffer.from(r.rest()) };
      break;
    case FrameType.HELLO_REPLY:
      m = {
        kind: 'helloReply',
        protocolVersion: r.u8(),
        firmware: `${r.u8()}.${r.u8()}.${r.u8()}`,
        circuits: r.u16(),
        sampleRate: r.u32(),
        maxSamples: r.u32(),
        maxPayload: r.u16(),
        chunkSamples: r.u16(),
        window: r.u8(),
        capabilities: r.u16(),
        deviceId: r.str(),
      };
      break;
    case FrameType.INFO_REPLY: {
      const chipId = r.str();
      const calibrated = r.u8() !== 0;
      const calibration = r.str();
      const n = r.u8();
      const params: ParamEntry[] = [];
      for (let i = 0; i < n; i++) {
        params.push({
          id: r.u8(),
          minValue: r.u16(),
          maxValue: r.u16(),
          defaultValue: r.u16(),
          name: r.str(),
        });
      }
      m = { kind: 'infoReply', chipId, calibrated, calibration, params };
      break;
    }
    case FrameType.ACK:
      m = { kind: 'ack', ackedType: r.u8() };
      break;
    case FrameType.NACK:
      m = { kind: 'nack', fault: r.u8() };
      break;
    case FrameType.TRACE_CHUNK: {
      const offset = r.u32();
      const bytes = r.rest();
      if (bytes.length % 2 !== 0)
        throw new PayloadError('TRACE_CHUNK payload has an odd number of code bytes');
      m = { kind: 'traceChunk', offset, codes: copyInto(new Int16Array(bytes.length / 2), bytes) };
      break;
    }
    case FrameType.SPIKES: {
      const n = r.u16();
      const bytes = r.rest();
      if (bytes.length !== n * 4)
        throw new PayloadError(`SPIKES announces ${n} spikes but carries ${bytes.length} bytes`);
      m = { kind: 'spikes', times: copyInto(new Float32Array(n), bytes) };
      break;
    }
    case FrameType.RUN_DONE:
      m = {
        kind: 'runDone',
        samples: r.u32(),
        chunks: r.u16(),
        spikeFrames: r.u16(),
        spikes: r.u32(),
        traceCrc: r.u32(),
      };
      break;
    case FrameType.ERROR:
      m = { kind: 'error', code: r.u8(), detail: r.u16(), message: r.str() };
      break;
    default:
      throw new PayloadError(`unknown frame type ${what}`);
  }
  r.end();
  return m;
}

/** Largest number of MADC samples that fit in one TRACE_CHUNK. */
export const MAX_CHUNK_SAMPLES = Math.floor((MAX_PAYLOAD - 4) / 2);
/** Largest number of spike times that fit in one SPIKES frame. */
export const MAX_SPIKES_PER_FRAME = Math.floor((MAX_PAYLOAD - 2) / 4);

/** Header fields of an outgoing message; `version` defaults to PROTOCOL_VERSION. */
export interface MessageHeader {
  requestId: number;
  seq?: number;
  flags?: number;
  version?: number;
}

/** Wire bytes (COBS frame + delimiter) of one message. */
export function encodeMessage(m: Message, header: MessageHeader): Buffer {
  return encodeFrame({ ...header, type: KIND_TYPE[m.kind] }, encodePayload(m));
}
