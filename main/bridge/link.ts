/**
 * A frame link over any byte duplex (a serialport, one end of a pty, an in-memory pair): sends
 * typed messages as frames and emits what the receive pipeline (streams.ts) decodes. Used by both
 * the host driver and the virtual device. Counts bytes in each direction for overhead figures.
 */

import { EventEmitter } from 'node:events';
import type { Duplex, Transform } from 'node:stream';
import { CobsFramer, FrameChecker, MessageDecoder, type LinkEvent } from './streams.ts';
import { encodeMessage, type Message, type MessageHeader } from './messages.ts';
import type { Frame } from './frame.ts';

/** Byte and frame counters of a link. */
export interface LinkStats {
  framesSent: number;
  bytesSent: number;
  bytesReceived: number;
  messagesReceived: number;
  faults: number;
}

/** Options of FrameLink. */
export interface FrameLinkOptions {
  /** Object-mode transform inserted between framing and CRC check (fault injection); default none. */
  inboundRaw?: Transform;
  /** Rewrites or drops (returns null) each outgoing encoded frame (fault injection); default none. */
  outbound?: (wire: Buffer) => Buffer | null;
}

/**
 * Events: `message` (message, frame), `fault` (LinkEvent of kind 'fault'), `close` (Error: why).
 *
 * @example
 * const link = new FrameLink(port);
 * link.on('message', (m, f) => console.log(m.kind, f.requestId));
 * link.send({ kind: 'ping', data: Buffer.from('hi') }, { requestId: 7 });
 */
export class FrameLink extends EventEmitter<{
  message: [Message, Frame];
  fault: [Extract<LinkEvent, { kind: 'fault' }>];
  close: [Error];
}> {
  readonly stats: LinkStats = {
    framesSent: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesReceived: 0,
    faults: 0,
  };
  private closed = false;
  private pending: Buffer[] = [];
  private readonly outbound?: (wire: Buffer) => Buffer | null;

  constructor(
    readonly stream: Duplex,
    options: FrameLinkOptions = {},
  ) {
    super();
    this.outbound = options.outbound;
    const framer = new CobsFramer();
    const decoder = new MessageDecoder();
    let tail: NodeJS.ReadableStream = stream.pipe(framer);
    if (options.inboundRaw) tail = tail.pipe(options.inboundRaw);
    tail.pipe(new FrameChecker()).pipe(decoder);
    stream.on('data', (chunk: Buffer) => {
      this.stats.bytesReceived += chunk.length;
    });
    decoder.on('data', (e: LinkEvent) => {
      if (this.closed) return;
      if (e.kind === 'message') {
        this.stats.messagesReceived++;
        this.emit('message', e.message, e.frame);
      } else {
        this.stats.faults++;
        this.emit('fault', e);
      }
    });
    const onEnd = (why: string) => (err?: Error) =>
      this.markClosed(new Error(err?.message ? `${why}: ${err.message}` : why));
    stream.on('close', onEnd('port closed'));
    stream.on('end', onEnd('port closed'));
    stream.on('error', onEnd('port error'));
  }

  /** True once the underlying stream closed, ended or failed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Encode and write one message; returns false if the link is closed (nothing written). */
  send(m: Message, header: MessageHeader): boolean {
    if (this.closed) return false;
    let wire: Buffer | null = encodeMessage(m, header);
    this.stats.framesSent++;
    if (this.outbound) wire = this.outbound(wire);
    if (!wire) return true;
    this.stats.bytesSent += wire.length;
    this.enqueue(wire);
    return true;
  }

  // Frames sent in the same tick go out in one write: one syscall (and, on a serial port, one
  // thread-pool round trip) per burst instead of per frame.
  private enqueue(bytes: Buffer): void {
    this.pending.push(bytes);
    if (this.pending.length > 1) return;
    queueMicrotask(() => {
      const out = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [];
      if (!this.closed && !this.stream.destroyed) this.stream.write(out);
    });
  }

  /** Write raw bytes (idle fill, tests). */
  sendRaw(bytes: Uint8Array): void {
    if (this.closed) return;
    this.stats.bytesSent += bytes.length;
    this.enqueue(Buffer.from(bytes));
  }

  /** Stop listening; does not close the stream (its owner does). */
  detach(reason = 'link detached'): void {
    this.markClosed(new Error(reason));
  }

  private markClosed(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', err);
  }
}
