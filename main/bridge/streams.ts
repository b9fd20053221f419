/**
 * Receive pipeline of the bridge as one small stream transform per layer, in the style of the
 * serialport parser packages:
 *
 *   bytes ─▶ CobsFramer ─▶ raw frames ─▶ FrameChecker ─▶ Frames ─▶ MessageDecoder ─▶ LinkEvents
 *            (0x00 split,                (length, CRC-32)          (version, typed payload)
 *             COBS decode)
 *
 * Faults never become stream errors (which would end the pipeline): every layer passes them on as
 * `{ kind: 'fault' }` objects so the consumer can count them, NACK, or retransmit.
 *
 * @example
 * const events = port.pipe(new CobsFramer()).pipe(new FrameChecker()).pipe(new MessageDecoder());
 * events.on('data', (e: LinkEvent) => { if (e.kind === 'message') handle(e.message); });
 */

import { Transform, type TransformCallback } from 'node:stream';
import { FrameSplitter } from './splitter.ts';
import {
  MAX_ENCODED_FRAME,
  PROTOCOL_VERSION,
  FrameType,
  decodeRawFrame,
  frameTypeName,
  type Frame,
  type FrameFault,
} from './frame.ts';
import { decodeMessage, type Message } from './messages.ts';

/** Why a frame was not delivered: framing/CRC faults, an undecodable payload, or a foreign protocol version. */
export type LinkFault = FrameFault | 'payload' | 'version';

/** What the receive pipeline emits. */
export type LinkEvent =
  | { kind: 'message'; frame: Frame; message: Message }
  | { kind: 'fault'; fault: LinkFault; detail: string; frame?: Frame };

type RawOrFault = Buffer | { kind: 'fault'; fault: LinkFault; detail: string; frame?: Frame };

/** Options of CobsFramer. */
export interface CobsFramerOptions {
  /** Largest encoded frame accepted before a run of bytes is discarded; default MAX_ENCODED_FRAME. */
  maxEncodedFrame?: number;
}

/** Layer 1: byte stream → COBS-decoded raw frames (Buffer, owned by the receiver) or faults. */
export class CobsFramer extends Transform {
  readonly splitter: FrameSplitter;
  constructor(options: CobsFramerOptions = {}) {
    super({ readableObjectMode: true });
    this.splitter = new FrameSplitter(options.maxEncodedFrame ?? MAX_ENCODED_FRAME);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.splitter.push(chunk, (raw, fault) => {
      if (raw) this.push(Buffer.from(raw));
      else this.push({ kind: 'fault', fault: fault!, detail: faultDetail(fault!) });
    });
    done();
  }
}

/** Layer 2: raw frames → CRC-checked Frames; bad length or CRC becomes a fault. */
export class FrameChecker extends Transform {
  constructor() {
    super({ objectMode: true });
  }
  override _transform(item: RawOrFault, _enc: BufferEncoding, done: TransformCallback): void {
    if (!Buffer.isBuffer(item)) return done(null, item);
    const frame = decodeRawFrame(item);
    if (typeof frame === 'string')
      return done(null, { kind: 'fault', fault: frame, detail: faultDetail(frame) });
    done(null, frame);
  }
}

/**
 * Layer 3: Frames → typed messages. Frames of another protocol version are not decoded (their
 * layout may differ) but reported as a `version` fault carrying the frame; HELLO_REPLY is the one
 * exception the consumer can rely on: its first payload byte is always the device's version.
 */
export class MessageDecoder extends Transform {
  constructor() {
    super({ objectMode: true });
  }
  override _transform(item: Frame | LinkEvent, _enc: BufferEncoding, done: TransformCallback): void {
    if ('kind' in item) return done(null, item);
    done(null, toEvent(item));
  }
}

/** Decode one checked frame into a LinkEvent (the pure core of MessageDecoder). */
export function toEvent(frame: Frame): LinkEvent {
  const helloVersion =
    frame.type === FrameType.HELLO_REPLY && frame.payload.length > 0 ? frame.payload[0] : PROTOCOL_VERSION;
  if (frame.version !== PROTOCOL_VERSION || helloVersion !== PROTOCOL_VERSION) {
    const v = frame.version !== PROTOCOL_VERSION ? frame.version : helloVersion;
    return {
      kind: 'fault',
      fault: 'version',
      detail: `${frameTypeName(frame.type)} frame of protocol version ${v}`,
      frame,
    };
  }
  try {
    return { kind: 'message', frame, message: decodeMessage(frame) };
  } catch (err) {
    return { kind: 'fault', fault: 'payload', detail: (err as Error).message, frame };
  }
}

function faultDetail(f: FrameFault): string {
  switch (f) {
    case 'overflow':
      return `more than ${MAX_ENCODED_FRAME} bytes without a frame delimiter`;
    case 'cobs':
      return 'invalid COBS byte stuffing';
    case 'short':
      return 'frame shorter than header and CRC';
    case 'length':
      return 'length field disagrees with the frame size';
    case 'crc':
      return 'CRC-32 mismatch';
  }
}

/** Build the three-layer receive pipeline on a byte stream; returns the LinkEvent stream. */
export function receivePipeline(
  bytes: NodeJS.ReadableStream,
  options: CobsFramerOptions = {},
): MessageDecoder {
  const decoder = new MessageDecoder();
  bytes.pipe(new CobsFramer(options)).pipe(new FrameChecker()).pipe(decoder);
  return decoder;
}
