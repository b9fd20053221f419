/**
 * Bridge frames: the unit of the wire protocol (docs/bridge-protocol.md). Pure pack/unpack, no I/O.
 *
 * Raw frame (before COBS), all integers little-endian:
 *
 *   offset  size  field
 *   0       1     protocol version (PROTOCOL_VERSION)
 *   1       1     type (FrameType)
 *   2       1     flags (FrameFlag bits)
 *   3       2     request id (u16, 1..65535; 0 = not tied to a request)
 *   5       2     sequence number (u16; chunk/spike-frame index within a run reply, else 0)
 *   7       2     payload length n (u16, 0..MAX_PAYLOAD)
 *   9       n     payload
 *   9+n     4     CRC-32 (IEEE) of bytes 0 .. 9+n-1
 *
 * On the wire: COBS(raw frame) followed by one 0x00 delimiter.
 */

import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.ts';
import { crc32 } from './crc32.ts';

/** The protocol version this workbench speaks. */
export const PROTOCOL_VERSION = 1;
/** Bytes of the frame header. */
export const HEADER_SIZE = 9;
/** Bytes of the CRC trailer. */
export const CRC_SIZE = 4;
/** Largest payload of one frame, in bytes. */
export const MAX_PAYLOAD = 4096;
/** Largest raw frame (header + payload + CRC). */
export const MAX_RAW_FRAME = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE;
/** Largest COBS-encoded frame, without the 0x00 delimiter. */
export const MAX_ENCODED_FRAME = cobsMaxEncodedLength(MAX_RAW_FRAME);

/** Frame types. 0x01-0x7F: host to device; 0x81-0xFF: device to host. */
export const FrameType = {
  HELLO: 0x01,
  GET_INFO: 0x02,
  CONFIGURE: 0x03,
  SET_STIMULUS: 0x04,
  RUN: 0x05,
  RESEND: 0x06,
  ABORT: 0x07,
  PING: 0x08,
  HELLO_REPLY: 0x81,
  INFO_REPLY: 0x82,
  ACK: 0x83,
  NACK: 0x84,
  TRACE_CHUNK: 0x85,
  SPIKES: 0x86,
  RUN_DONE: 0x87,
  PONG: 0x88,
  ERROR: 0x8f,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Name of a frame type code, for messages ('RUN', 'TRACE_CHUNK', or '0x3C' when unknown). */
export function frameTypeName(code: number): string {
  for (const [name, c] of Object.entries(FrameType)) if (c === code) return name;
  return `0x${code.toString(16).padStart(2, '0').toUpperCase()}`;
}

/** Flag bits of the header's flags byte. */
export const FrameFlag = {
  /** This frame repeats an earlier one (same request id / sequence number). */
  RETRANSMIT: 0x01,
} as const;

/** A frame after COBS decoding and CRC check. */
export interface Frame {
  version: number;
  type: number;
  flags: number;
  requestId: number;
  seq: number;
  payload: Buffer;
}

/** Header fields of a frame to encode; version defaults to PROTOCOL_VERSION. */
export interface FrameHeader {
  version?: number;
  type: number;
  flags?: number;
  requestId: number;
  seq?: number;
}

const EMPTY = Buffer.alloc(0);

// Scratch buffer for the raw frame; encodeFrame is synchronous, so one per process suffices.
const scratch = Buffer.allocUnsafe(MAX_RAW_FRAME);

/**
 * Build the wire bytes of one frame: COBS(header + payload + CRC) followed by 0x00.
 * Throws RangeError if the payload exceeds MAX_PAYLOAD.
 *
 * @example encodeFrame({ type: FrameType.PING, requestId: 1 }, Buffer.from([0xab]))
 */
export function encodeFrame(header: FrameHeader, payload: Uint8Array = EMPTY): Buffer {
  if (payload.length > MAX_PAYLOAD) {
    throw new RangeError(`frame payload of ${payload.length} bytes exceeds the maximum of ${MAX_PAYLOAD}`);
  }
  const n = payload.length;
  scratch[0] = header.version ?? PROTOCOL_VERSION;
  scratch[1] = header.type;
  scratch[2] = header.flags ?? 0;
  scratch.writeUInt16LE(header.requestId & 0xffff, 3);
  scratch.writeUInt16LE((header.seq ?? 0) & 0xffff, 5);
  scratch.writeUInt16LE(n, 7);
  scratch.set(payload, HEADER_SIZE);
  scratch.writeUInt32LE(crc32(scratch, 0, HEADER_SIZE + n), HEADER_SIZE + n);
  const rawLength = HEADER_SIZE + n + CRC_SIZE;
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(rawLength) + 1);
  const len = cobsEncodeInto(scratch, out, 0, 0, rawLength);
  out[len] = 0;
  return out.subarray(0, len + 1);
}

/**
 * Why bytes were rejected: `overflow` (more than MAX_ENCODED_FRAME bytes without a delimiter),
 * `cobs` (invalid stuffing), `short`, `length` (length field disagrees with the frame), `crc`.
 */
export type FrameFault = 'overflow' | 'cobs' | 'short' | 'length' | 'crc';

/**
 * Parse and check one raw (already COBS-decoded) frame. Returns the frame, or the reason it was
 * rejected. The payload is copied, so `raw` may be reused by the caller.
 */
export function decodeRawFrame(raw: Uint8Array, length = raw.length): Frame | FrameFault {
  if (length < HEADER_SIZE + CRC_SIZE) return 'short';
  const view = Buffer.from(raw.buffer, raw.byteOffset, length);
  const n = view.readUInt16LE(7);
  if (n > MAX_PAYLOAD || HEADER_SIZE + n + CRC_SIZE !== length) return 'length';
  if (view.readUInt32LE(HEADER_SIZE + n) !== crc32(view, 0, HEADER_SIZE + n)) return 'crc';
  return {
    version: view[0],
    type: view[1],
    flags: view[2],
    requestId: view.readUInt16LE(3),
    seq: view.readUInt16LE(5),
    payload: Buffer.from(view.subarray(HEADER_SIZE, HEADER_SIZE + n)),
  };
}
