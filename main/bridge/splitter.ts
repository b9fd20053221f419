/**
 * Framing layer, receive side: splits a byte stream at 0x00 delimiters and COBS-decodes each
 * frame into a preallocated buffer. Memory is bounded: a run of bytes without a delimiter longer
 * than the largest legal frame is discarded (reported once as `overflow`) and the splitter
 * resynchronizes on the next 0x00. Empty frames (consecutive delimiters) are idle fill and ignored.
 */

import { cobsDecodeInto } from './cobs.ts';
import { MAX_ENCODED_FRAME, MAX_RAW_FRAME, type FrameFault } from './frame.ts';

/** Counters of a splitter since it was created. */
export interface SplitterStats {
  /** Frames handed on (COBS-valid). */
  frames: number;
  /** Bytes discarded: invalid COBS blocks and overlong runs. */
  discardedBytes: number;
  overflows: number;
  cobsErrors: number;
}

/** Receives either one COBS-decoded raw frame (valid until the callback returns) or a fault. */
export type SplitterSink = (raw: Buffer | null, fault?: FrameFault) => void;

/**
 * Stateful splitter; feed it chunks of any size in order with `push`.
 *
 * @example
 * const s = new FrameSplitter();
 * s.push(bytes, (raw, fault) => { if (raw) console.log(decodeRawFrame(raw)); });
 */
export class FrameSplitter {
  /** Largest accepted encoded frame (bytes between delimiters); default MAX_ENCODED_FRAME. */
  readonly maxEncoded: number;
  private readonly encoded: Buffer;
  private readonly raw: Buffer;
  private length = 0;
  private overflowing = false;
  readonly stats: SplitterStats = { frames: 0, discardedBytes: 0, overflows: 0, cobsErrors: 0 };

  constructor(maxEncoded = MAX_ENCODED_FRAME) {
    this.maxEncoded = maxEncoded;
    this.encoded = Buffer.allocUnsafe(maxEncoded);
    this.raw = Buffer.allocUnsafe(Math.max(maxEncoded, MAX_RAW_FRAME));
  }

  /** Bytes currently held waiting for a delimiter (never more than maxEncoded). */
  get buffered(): number {
    return this.length;
  }

  /**
   * Consume `chunk`; calls `sink` once per complete frame or fault, in stream order. Never throws
   * by itself; the splitter's state is consistent before each `sink` call.
   */
  push(chunk: Uint8Array, sink: SplitterSink): void {
    let start = 0;
    while (start < chunk.length) {
      const zero = chunk.indexOf(0, start);
      const end = zero < 0 ? chunk.length : zero;
      this.append(chunk, start, end);
      if (zero < 0) return;
      this.finishFrame(sink);
      start = zero + 1;
    }
  }

  /** Drop any partial frame (e.g. after a reconnect). */
  reset(): void {
    this.length = 0;
    this.overflowing = false;
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.overflowing || this.length + n > this.maxEncoded) {
      if (!this.overflowing) this.stats.discardedBytes += this.length;
      this.stats.discardedBytes += n;
      this.overflowing = true;
      this.length = 0;
      return;
    }
    this.encoded.set(chunk.subarray(start, end), this.length);
    this.length += n;
  }

  private finishFrame(sink: SplitterSink): void {
    if (this.overflowing) {
      this.overflowing = false;
      this.stats.overflows++;
      sink(null, 'overflow');
      return;
    }
    const len = this.length;
    this.length = 0;
    if (len === 0) return;
    const n = cobsDecodeInto(this.encoded, this.raw, 0, len);
    if (n < 0) {
      this.stats.cobsErrors++;
      this.stats.discardedBytes += len;
      sink(null, 'cobs');
      return;
    }
    this.stats.frames++;
    sink(this.raw.subarray(0, n));
  }
}
