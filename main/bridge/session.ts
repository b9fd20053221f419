/**
 * The host side of the protocol's request/response rules over one connected link: request ids,
 * timeouts and retransmission of control requests, the handshake with its version check, and the
 * collection of one run (numbered chunks, spike frames, RUN_DONE, selective RESEND). One operation
 * is in flight at a time (stop-and-wait); the driver serializes callers.
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

/** Parameters of one RUN. */
export interface RunParams {
  circuit: number;
  duration: number;
  seed: number;
  row: number;
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
   * Run once and collect the whole reply. Missing or corrupt frames are asked for again with
   * RESEND; a lost RUN or RUN_DONE is recovered by repeating RUN (the device replays a finished
   * run, it never reruns it). Resolves only with a complete, checksum-verified trace.
   */
  run(p: RunParams, signal?: AbortSignal): Promise<RunData> {
    this.ensureOpen();
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const hello = this.hello!;
    const chunkSamples = Math.max(1, hello.chunkSamples);
    const maxFrames = Math.ceil(hello.maxSamples / chunkSamples) + 256;
    const requestId = this.newRequestId();
    const runMsg: Message = { kind: 'run', ...p };
    const what = `run of row ${p.row} on circuit ${p.circuit}`;
    const chunks = new Map<number, Of<'traceChunk'>>();
    const spikes = new Map<number, Float32Array>();
    let done: Of<'runDone'> | undefined;
    let heard = false;
    let retries = 0;

    return new Promise<RunData>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(onTimeout, this.opts.runTimeoutMs);
      };
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.waiter = undefined;
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const fail = (err: Error) => finish(() => reject(err));
      const budget = (why: string): boolean => {
        retries++;
        this.retransmissions++;
        if (retries <= this.opts.maxRunRetries) return true;
        fail(
          new BridgeError(
            'incomplete',
            `${what} could not be completed: ${why} after ${this.opts.maxRunRetries} retransmission requests`,
          ),
        );
        return false;
      };
      const missing = (): number[] => {
        const out: number[] = [];
        const total = done!.chunks + done!.spikeFrames;
        for (let s = 0; s < total; s++) if (s < done!.chunks ? !chunks.has(s) : !spikes.has(s)) out.push(s);
        return out;
      };
      const repeatRun = (why: string) => {
        if (!budget(why)) return;
        this.link.send(runMsg, { requestId, flags: FrameFlag.RETRANSMIT });
        arm();
      };
      const progress = (): void => {
        const gaps = missing();
        if (gaps.length === 0) return complete();
        if (!budget(`frames ${listSeqs(gaps)} missing`)) return;
        this.link.send({ kind: 'resend', seqs: gaps.slice(0, MAX_RESEND_SEQS) }, { requestId });
        arm();
      };
      const complete = (): void => {
        const d = done!;
        const codes = new Int16Array(d.samples);
        let filled = 0;
        for (let s = 0; s < d.chunks; s++) {
          const c = chunks.get(s)!;
          if (c.offset !== filled || filled + c.codes.length > d.samples) {
            return fail(
              new BridgeError(
                'protocol',
                `${what}: chunk ${s} starts at sample ${c.offset}, expected ${filled} (of ${d.samples})`,
              ),
            );
          }
          codes.set(c.codes, filled);
          filled += c.codes.length;
        }
        if (filled !== d.samples) {
          return fail(
            new BridgeError(
              'protocol',
              `${what}: chunks carry ${filled} samples, RUN_DONE announces ${d.samples}`,
            ),
          );
        }
        if (crc32(new Uint8Array(codes.buffer)) !== d.traceCrc) {
          // Every frame passed its CRC yet the trace does not: ask for the whole trace again.
          chunks.clear();
          return progress();
        }
        const parts = [...Array(d.spikeFrames).keys()].map((j) => spikes.get(d.chunks + j)!);
        const count = parts.reduce((a, t) => a + t.length, 0);
        if (count !== d.spikes) {
          return fail(
            new BridgeError(
              'protocol',
              `${what}: spike frames carry ${count} spikes, RUN_DONE announces ${d.spikes}`,
            ),
          );
        }
        const spikeTimes = new Float32Array(count);
        let k = 0;
        for (const t of parts) {
          spikeTimes.set(t, k);
          k += t.length;
        }
        finish(() => resolve({ codes, spikeTimes, retries }));
      };
      const onTimeout = () => {
        if (done) progress();
        else repeatRun(heard ? 'no RUN_DONE received' : 'no reply to RUN');
      };
      const onAbort = () => {
        this.link.send({ kind: 'abort' }, { requestId });
        fail(abortReason(signal!));
      };

      this.waiter = {
        onMessage: (m, f) => {
          if (f.requestId !== requestId) return;
          heard = true;
          arm();
          switch (m.kind) {
            case 'traceChunk':
              if (f.seq < maxFrames && m.offset + m.codes.length <= hello.maxSamples) chunks.set(f.seq, m);
              break;
            case 'spikes':
              if (f.seq < maxFrames) spikes.set(f.seq, m.times);
              break;
            case 'runDone':
              if (m.samples > hello.maxSamples || m.chunks + m.spikeFrames > maxFrames) {
                return fail(
                  new BridgeError(
                    'protocol',
                    `${what}: RUN_DONE announces ${m.samples} samples in ${m.chunks} chunks, beyond the device's limits`,
                  ),
                );
              }
              done = m;
              progress();
              break;
            case 'error':
              if (m.code === ErrorCode.UNKNOWN_RUN) repeatRun('the device lost the run');
              else fail(deviceError(m, 'RUN', this.label));
              break;
            default:
              break;
          }
        },
        onNack: () => {
          if (done) progress();
          else repeatRun('frames to the device were corrupted');
        },
        onFault: () => {},
        onClose: (err) => fail(err),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.link.send(runMsg, { requestId });
      arm();
    });
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
