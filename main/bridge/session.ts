/**
 * The host side of the protocol's request/response rules over one connected link: request ids,
 * timeouts and retransmission of control requests (one at a time), the handshake with its version
 * check, and runs: a sliding window of RUN requests in flight, each collected by a RunCollector
 * (numbered chunks, spike frames, RUN_DONE, selective RESEND). One operation (a control request
 * or a batch of runs) is active at a time; the driver serializes callers.
 */

import { FrameFlag, PROTOCOL_VERSION, frameTypeName, type Frame } from './frame.ts';
import { crc32 } from './crc32.ts';
import { ErrorCode, KIND_TYPE, errorCodeName, type Message, type MessageKind } from './messages.ts';
import type { FrameLink } from './link.ts';
import type { LinkEvent } from './streams.ts';
import { BridgeError } from './errors.ts';

/** Timing and retry limits of a session (defaults as in docs/bridge-protocol.md, "Limits"). */
export interface SessionOptions {
  /** Reply timeout of a control request (HELLO, GET_INFO, CONFIGURE, SET_STIMULUS, PING), ms; default 500. */
  requestTimeoutMs?: number;
  /** Attempts per control request, the first included; default 5. */
  maxAttempts?: number;
  /** A run fails over to retransmission after this long without any frame of it, ms; default 2000. */
  runTimeoutMs?: number;
  /** Retransmission requests (RESEND or repeated RUN) per run before it is given up; default 10. */
  maxRunRetries?: number;
}

/** Fields of HELLO_REPLY. */
export type HelloReply = Extract<Message, { kind: 'helloReply' }>;
/** Fields of INFO_REPLY. */
export type InfoReply = Extract<Message, { kind: 'infoReply' }>;

/** What a completed run returns. */
export interface RunData {
  codes: Int16Array;
  spikeTimes: Float32Array;
  /** Retransmission requests the run needed. */
  retries: number;
}

/** Parameters of one RUN, with the circuit's configuration inline. */
export interface RunParams {
  circuit: number;
  duration: number;
  seed: number;
  row: number;
  ids: Uint8Array;
  values: Uint16Array;
}

interface Waiter {
  onMessage(m: Message, f: Frame): void;
  onNack(): void;
  onFault(e: Extract<LinkEvent, { kind: 'fault' }>): void;
  onClose(err: BridgeError): void;
}

type Of<K extends MessageKind> = Extract<Message, { kind: K }>;

const DEFAULTS: Required<SessionOptions> = {
  requestTimeoutMs: 500,
  maxAttempts: 5,
  runTimeoutMs: 2000,
  maxRunRetries: 10,
};

/** Most sequence numbers one RESEND asks for (keeps it far below MAX_PAYLOAD). */
const MAX_RESEND_SEQS = 512;

/** Protocol state of one connection. */
export class Session {
  readonly opts: Required<SessionOptions>;
  private waiter?: Waiter;
  private closeError?: BridgeError;
  private nextId = 1 + Math.floor(Math.random() * 0xfffe);
  /** Set after the handshake; bounds what a run accepts. */
  hello?: HelloReply;
  /** Control retransmissions and run retransmission requests so far. */
  retransmissions = 0;

  constructor(
    readonly link: FrameLink,
    readonly label: string,
    options: SessionOptions = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    link.on('message', (m, f) => (m.kind === 'nack' ? this.waiter?.onNack() : this.waiter?.onMessage(m, f)));
    link.on('fault', (e) => this.waiter?.onFault(e));
    link.on('close', (err) => {
      this.closeError = new BridgeError('disconnected', `device disconnected (${label}: ${err.message})`);
      this.waiter?.onClose(this.closeError);
    });
  }

  /** True while the link is open. */
  get open(): boolean {
    return !this.closeError && !this.link.isClosed;
  }

  private newRequestId(): number {
    const id = this.nextId;
    this.nextId = id >= 0xffff ? 1 : id + 1;
    return id;
  }

  private ensureOpen(): void {
    if (this.closeError) throw this.closeError;
    if (this.link.isClosed) throw new BridgeError('disconnected', `device disconnected (${this.label})`);
  }

  /**
   * Send a control request and wait for its reply of kind `expect`. Retransmits (same request id,
   * RETRANSMIT flag) on timeout or NACK, up to `maxAttempts`; an ERROR reply rejects at once.
   */
  async request<K extends MessageKind>(m: Message, expect: K): Promise<Of<K>> {
    this.ensureOpen();
    const what = frameTypeName(KIND_TYPE[m.kind]);
    const requestId = this.newRequestId();
    const { requestTimeoutMs, maxAttempts } = this.opts;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) this.retransmissions++;
      const outcome = await new Promise<Of<K> | 'retry'>((resolve, reject) => {
        const finish = (fn: () => void) => {
          clearTimeout(timer);
          this.waiter = undefined;
          fn();
        };
        const timer = setTimeout(() => finish(() => resolve('retry')), requestTimeoutMs);
        this.waiter = {
          onMessage: (msg, frame) => {
            if (frame.requestId !== requestId) return;
            if (msg.kind === expect) finish(() => resolve(msg as Of<K>));
            else if (msg.kind === 'error') finish(() => reject(deviceError(msg, what, this.label)));
          },
          onNack: () => finish(() => resolve('retry')),
          onFault: (e) => {
            if (e.fault === 'version' && e.frame && e.frame.requestId === requestId) {
              const v = e.frame.version !== PROTOCOL_VERSION ? e.frame.version : e.frame.payload[0];
              finish(() => reject(versionError(this.label, v)));
            }
          },
          onClose: (err) => finish(() => reject(err)),
        };
        this.link.send(m, { requestId, flags: attempt > 1 ? FrameFlag.RETRANSMIT : 0 });
      });
      if (outcome !== 'retry') return outcome;
    }
    throw new BridgeError(
      'timeout',
      `no reply from the device on ${this.label} to ${what} after ${maxAttempts} attempts (${requestTimeoutMs} ms each)`,
    );
  }

  /** HELLO exchange; refuses a device of another protocol version with a message naming both. */
  async handshake(): Promise<HelloReply> {
    try {
      const hello = await this.request(
        { kind: 'hello', minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION },
        'helloReply',
      );
      this.hello = hello;
      return hello;
    } catch (err) {
      if (err instanceof BridgeError && err.deviceCode === 'UNSUPPORTED_VERSION') {
        throw new BridgeError(
          'version',
          `device on ${this.label} refused bridge protocol version ${PROTOCOL_VERSION}: ${err.message}`,
        );
      }
      throw err;
    }
  }

  /**
   * Run `rows` with up to `window` RUN requests outstanding (a sliding window over the rows, so
   * link latency overlaps with the device's work) and call `onRow` for each completed row in
   * order. Missing or corrupt frames are asked for again with RESEND; a lost RUN or RUN_DONE is
   * recovered by repeating RUN (the device replays a finished run, it never reruns it). A row is
   * delivered only complete and checksum-verified; any unrecoverable failure rejects.
   */
  runMany(
    rows: readonly RunParams[],
    onRow: (index: number, data: RunData) => void,
    options: { window?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    this.ensureOpen();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const hello = this.hello!;
    const window = Math.max(1, Math.min(options.window ?? hello.window, hello.window));
    const limits = {
      chunkSamples: Math.max(1, hello.chunkSamples),
      maxSamples: hello.maxSamples,
      maxFrames: Math.ceil(hello.maxSamples / Math.max(1, hello.chunkSamples)) + 256,
    };
    return new Promise<void>((resolve, reject) => {
      const active = new Map<number, RunCollector>();
      const results: (RunData | undefined)[] = [];
      let order = 0; // send order of run requests
      let next = 0; // next row to send
      let delivered = 0; // rows handed to onRow
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(onIdle, this.opts.runTimeoutMs);
      };
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.waiter = undefined;
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          for (const id of active.keys()) this.link.send({ kind: 'abort' }, { requestId: id });
          reject(err);
        } else resolve();
      };
      const pump = () => {
        while (delivered < rows.length && results[delivered]) {
          const data = results[delivered]!;
          results[delivered] = undefined;
          try {
            onRow(delivered++, data);
          } catch (err) {
            return finish(err as Error);
          }
        }
        if (delivered === rows.length) return finish();
        // Sliding window: never more than `window` rows beyond the oldest undelivered one.
        while (next < rows.length && next < delivered + window) {
          const index = next++;
          const c = new RunCollector(
            this,
            rows[index],
            index,
            limits,
            {
              done: (data) => {
                active.delete(c.requestId);
                results[index] = data;
                pump();
              },
              fail: (err) => finish(err),
            },
            () => ++order,
          );
          active.set(c.requestId, c);
          c.start();
        }
        arm();
      };
      const onIdle = () => {
        // Nothing arrived for a while: every outstanding run asks again (RESEND or repeated RUN).
        for (const c of [...active.values()]) if (!settled) c.onIdle();
        if (!settled) arm();
      };
      const onAbort = () => finish(abortReason(signal!));
      this.waiter = {
        onMessage: (m, f) => {
          const c = active.get(f.requestId);
          if (!c) return;
          arm();
          c.onMessage(m, f);
          // The device answers in order: a first answer to a later RUN means every earlier
          // request has been answered in full, so a run still waiting lost its reply (or its
          // request). Ask again now rather than after the idle timeout.
          if ((f.flags & FrameFlag.RETRANSMIT) === 0) {
            for (const other of [...active.values()]) {
              if (!settled && other !== c && other.waitingSince(c.firstSent)) other.onIdle();
            }
          }
        },
        onNack: () => {
          for (const c of [...active.values()]) if (!settled) c.onNack();
        },
        onFault: () => {},
        onClose: (err) => finish(err),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      pump();
    });
  }

  /** Allocate a request id (for collectors). */
  allocateRequestId(): number {
    return this.newRequestId();
  }
}

interface RunLimits {
  chunkSamples: number;
  maxSamples: number;
  maxFrames: number;
}

/** Collects the reply of one RUN: chunks and spike frames by sequence number, then RUN_DONE. */
class RunCollector {
  readonly requestId: number;
  private readonly chunks = new Map<number, Of<'traceChunk'>>();
  private readonly spikes = new Map<number, Float32Array>();
  private done?: Of<'runDone'>;
  private heard = false;
  private retries = 0;
  private finished = false;
  private readonly what: string;
  private readonly msg: Message;
  /** Send order of the first RUN and of the latest request (RUN, repeated RUN or RESEND). */
  firstSent = 0;
  sentAt = 0;
  /** Whether the final frame (RUN_DONE or ERROR) answering the latest request has arrived. */
  answered = false;

  constructor(
    private readonly session: Session,
    p: RunParams,
    index: number,
    private readonly limits: RunLimits,
    private readonly out: { done: (d: RunData) => void; fail: (e: Error) => void },
    private readonly stamp: () => number,
  ) {
    this.requestId = session.allocateRequestId();
    this.what = `run of row ${index} on circuit ${p.circuit}`;
    this.msg = { kind: 'run', ...p };
  }

  start(): void {
    this.send(this.msg, 0);
    this.firstSent = this.sentAt;
  }

  /** Whether this run is still waiting for the frames of a request sent before `order`. */
  waitingSince(order: number): boolean {
    return !this.finished && !this.answered && this.sentAt < order;
  }

  private send(m: Message, flags: number): void {
    this.sentAt = this.stamp();
    this.answered = false;
    this.session.link.send(m, { requestId: this.requestId, flags });
  }

  onMessage(m: Message, f: Frame): void {
    if (this.finished) return;
    this.heard = true;
    if (m.kind === 'runDone' || m.kind === 'error') this.answered = true;
    switch (m.kind) {
      case 'traceChunk':
        if (f.seq < this.limits.maxFrames && m.offset + m.codes.length <= this.limits.maxSamples)
          this.chunks.set(f.seq, m);
        break;
      case 'spikes':
        if (f.seq < this.limits.maxFrames) this.spikes.set(f.seq, m.times);
        break;
      case 'runDone':
        if (m.samples > this.limits.maxSamples || m.chunks + m.spikeFrames > this.limits.maxFrames) {
          return this.fail(
            new BridgeError(
              'protocol',
              `${this.what}: RUN_DONE announces ${m.samples} samples in ${m.chunks} chunks, beyond the device's limits`,
            ),
          );
        }
        this.done = m;
        this.progress();
        break;
      case 'error':
        if (m.code === ErrorCode.UNKNOWN_RUN) {
          // The device no longer holds this run: run it again from scratch.
          this.chunks.clear();
          this.spikes.clear();
          this.done = undefined;
          this.repeatRun('the device lost the run');
        } else this.fail(deviceError(m, 'RUN', this.session.label));
        break;
      default:
        break;
    }
  }

  onIdle(): void {
    if (this.finished) return;
    if (this.done) this.progress();
    else this.repeatRun(this.heard ? 'no RUN_DONE received' : 'no reply to RUN');
  }

  /** The device rejected a damaged frame: ours may have been the RUN or the RESEND. */
  onNack(): void {
    if (this.finished) return;
    if (this.done) this.progress();
    else if (!this.heard) this.repeatRun('the RUN reached the device damaged');
  }

  private fail(err: Error): void {
    this.finished = true;
    this.out.fail(err);
  }

  private budget(why: string): boolean {
    this.retries++;
    this.session.retransmissions++;
    if (this.retries <= this.session.opts.maxRunRetries) return true;
    this.fail(
      new BridgeError(
        'incomplete',
        `${this.what} could not be completed: ${why} after ${this.session.opts.maxRunRetries} retransmission requests`,
      ),
    );
    return false;
  }

  private repeatRun(why: string): void {
    if (!this.budget(why)) return;
    this.send(this.msg, FrameFlag.RETRANSMIT);
  }

  private missing(): number[] {
    const d = this.done!;
    const out: number[] = [];
    for (let s = 0; s < d.chunks + d.spikeFrames; s++) {
      if (s < d.chunks ? !this.chunks.has(s) : !this.spikes.has(s)) out.push(s);
    }
    return out;
  }

  private progress(): void {
    const gaps = this.missing();
    if (gaps.length === 0) return this.complete();
    if (!this.budget(`frames ${listSeqs(gaps)} missing`)) return;
    this.send({ kind: 'resend', seqs: gaps.slice(0, MAX_RESEND_SEQS) }, 0);
  }

  private complete(): void {
    const d = this.done!;
    const codes = new Int16Array(d.samples);
    let filled = 0;
    for (let s = 0; s < d.chunks; s++) {
      const c = this.chunks.get(s)!;
      if (c.offset !== filled || filled + c.codes.length > d.samples) {
        return this.fail(
          new BridgeError(
            'protocol',
            `${this.what}: chunk ${s} starts at sample ${c.offset}, expected ${filled} (of ${d.samples})`,
          ),
        );
      }
      codes.set(c.codes, filled);
      filled += c.codes.length;
    }
    if (filled !== d.samples) {
      return this.fail(
        new BridgeError(
          'protocol',
          `${this.what}: chunks carry ${filled} samples, RUN_DONE announces ${d.samples}`,
        ),
      );
    }
    if (crc32(new Uint8Array(codes.buffer)) !== d.traceCrc) {
      // Every frame passed its CRC yet the trace does not: ask for the whole trace again.
      this.chunks.clear();
      return this.progress();
    }
    const parts = Array.from({ length: d.spikeFrames }, (_, j) => this.spikes.get(d.chunks + j)!);
    const count = parts.reduce((a, t) => a + t.length, 0);
    if (count !== d.spikes) {
      return this.fail(
        new BridgeError(
          'protocol',
          `${this.what}: spike frames carry ${count} spikes, RUN_DONE announces ${d.spikes}`,
        ),
      );
    }
    const spikeTimes = new Float32Array(count);
    let k = 0;
    for (const t of parts) {
      spikeTimes.set(t, k);
      k += t.length;
    }
    this.finished = true;
    this.out.done({ codes, spikeTimes, retries: this.retries });
  }
}

function listSeqs(seqs: number[]): string {
  return seqs.length <= 8 ? seqs.join(', ') : `${seqs.slice(0, 8).join(', ')} and ${seqs.length - 8} more`;
}

function deviceError(m: Of<'error'>, what: string, label: string): BridgeError {
  const name = errorCodeName(m.code);
  return new BridgeError(
    'device',
    `device on ${label} rejected ${what}: ${name}${m.message ? ` (${m.message})` : ''}`,
    name,
  );
}

function versionError(label: string, deviceVersion: number): BridgeError {
  return new BridgeError(
    'version',
    `device on ${label} speaks bridge protocol version ${deviceVersion}, this workbench speaks version ${PROTOCOL_VERSION}; update the firmware or the workbench`,
  );
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('run aborted');
}
