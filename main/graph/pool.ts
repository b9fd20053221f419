/**
 * Single-threaded onnxruntime sessions in worker threads, run side by side. Each worker creates
 * the session of a model when it first runs it (about 0.1 s for an estimator graph) and runs
 * what it is sent one run at a time; `run` sends each run to the worker with the fewest runs
 * waiting. For many independent runs of a small model this beats one session
 * with several intra-op threads: each worker keeps its core busy through the model's small
 * elementwise nodes, which onnxruntime runs on one thread anyway, and no thread waits for another
 * between nodes (docs/graph.md, "Session pools").
 *
 * The workers do not keep the process alive while they have nothing to do.
 *
 * @example
 * const pool = await SessionPool.create({ sampler: bytes }, { workers: 2 });
 * const out = await pool.run('sampler', { x: { data: x, dims: [16, 20] } });  // out.theta.data
 * await pool.close();
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { appRoot } from '../paths.ts';
import { arrayDtype, sessionOptions, type TypedArray } from './runtime.ts';
import { runGateBuffer } from './run-gate.mjs';
import { GraphError } from './tensor.ts';

/** A tensor sent to or received from a worker. */
export interface PoolTensor {
  data: TypedArray;
  dims: readonly number[];
}

interface Pending {
  resolve: (out: Record<string, PoolTensor>) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

type WorkerMessage =
  { type: 'ready' } | { type: 'result'; id: number; outputs?: Record<string, PoolTensor>; error?: string };

/**
 * A rejected run. Marked as handled, like every run's result: callers with several runs in flight
 * await them in order, and one refused early must not count as an unhandled rejection meanwhile.
 */
function refused(err: Error): Promise<never> {
  const p = Promise.reject(err);
  p.catch(() => undefined);
  return p;
}

/** Path of the workers' script (a plain module next to this one in the installation). */
const WORKER_SCRIPT = (): string => path.join(appRoot(), 'main', 'graph', 'session-worker.mjs');

export class SessionPool {
  private nextId = 0;
  /** One promise per run sent and not yet ended, settling when it ends. */
  private readonly running = new Set<Promise<void>>();
  /** Why the pool cannot run any more (a worker stopped, or `close` was called). */
  private stopped: string | null = null;

  private constructor(
    private readonly slots: Slot[],
    readonly models: readonly string[],
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (msg: WorkerMessage) => {
        if (msg.type !== 'result') return;
        const p = slot.pending.get(msg.id);
        if (!p) return;
        slot.pending.delete(msg.id);
        if (slot.pending.size === 0) slot.worker.unref();
        if (msg.error !== undefined) p.reject(new GraphError(`onnxruntime: ${msg.error}`));
        else p.resolve(msg.outputs!);
      });
      const fail = (reason: string) => {
        this.stopped ??= reason;
        for (const p of slot.pending.values()) p.reject(new GraphError(this.stopped));
        slot.pending.clear();
      };
      slot.worker.on('error', (err) => fail(`a session worker failed: ${err.message}`));
      slot.worker.on('exit', (code) => fail(`a session worker stopped (exit code ${code})`));
    }
  }

  /**
   * Starts `workers` worker threads for the models (sessions with `threads` intra-op threads
   * each, default 1) and resolves when all of them have loaded onnxruntime. A model onnxruntime
   * cannot load fails its runs.
   * @throws GraphError when a worker cannot start.
   */
  static async create(
    models: Record<string, Uint8Array>,
    opts: { workers: number; threads?: number },
  ): Promise<SessionPool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${opts.workers}`);
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const script = WORKER_SCRIPT();
    // Exactly the models' bytes (a Buffer may be a view of a larger one, which would be cloned whole).
    const bytes = Object.fromEntries(Object.entries(models).map(([k, v]) => [k, new Uint8Array(v)]));
    const workers = Array.from(
      { length: opts.workers },
      () =>
        new Worker(script, {
          // The workers count their runs in this thread's run gate, if it has one (run-gate.mjs).
          workerData: { models: bytes, options: sessionOptions(threads), gate: runGateBuffer() },
        }),
    );
    const started = workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const onMessage = (msg: WorkerMessage) => {
            if (msg.type !== 'ready') return;
            resolve();
            w.off('message', onMessage);
            w.off('error', onError);
            w.off('exit', onExit);
          };
          const onError = (err: Error) =>
            reject(new GraphError(`a session worker could not start: ${err.message}`));
          const onExit = (code: number) =>
            reject(new GraphError(`a session worker stopped while starting (exit code ${code})`));
          w.on('message', onMessage);
          w.once('error', onError);
          w.once('exit', onExit);
        }),
    );
    try {
      await Promise.all(started);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    for (const w of workers) w.unref();
    return new SessionPool(
      workers.map((worker) => ({ worker, pending: new Map() })),
      Object.keys(models),
    );
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** False once a worker has stopped or the pool was closed; its runs then fail. */
  get usable(): boolean {
    return this.stopped === null;
  }

  /**
   * Runs `model` on the least busy worker. Feeds are copied to the worker, except the arrays
   * listed in `handOver`, whose buffers are moved (the caller must not use them afterwards; each
   * must own its whole buffer).
   * @throws GraphError (as a rejection) for an unknown model, an onnxruntime error, or a stopped pool.
   */
  run(
    model: string,
    feeds: Record<string, PoolTensor>,
    handOver: readonly TypedArray[] = [],
  ): Promise<Record<string, PoolTensor>> {
    if (this.stopped !== null) return refused(new GraphError(this.stopped));
    if (!this.models.includes(model))
      return refused(new GraphError(`unknown model ${model}; the pool has ${this.models.join(', ')}`));
    // onnxruntime's tensor type names are the dtype names.
    const message: Record<string, { type: string; data: TypedArray; dims: number[] }> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, f] of Object.entries(feeds)) {
      const own =
        handOver.includes(f.data) &&
        f.data.byteOffset === 0 &&
        f.data.byteLength === f.data.buffer.byteLength &&
        f.data.buffer instanceof ArrayBuffer;
      // slice() copies exactly the view: posting a view would copy its whole buffer.
      const data = own ? f.data : f.data.slice();
      if (own) transfer.push(data.buffer as ArrayBuffer);
      message[name] = { type: arrayDtype(data), data, dims: [...f.dims] };
    }
    let slot = this.slots[0];
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    const result = new Promise<Record<string, PoolTensor>>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, model, feeds: message }, transfer);
    });
    // Also marks the run's failure as handled: a caller may await earlier runs first.
    const ended = result.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(ended);
    void ended.then(() => this.running.delete(ended));
    return result;
  }

  /**
   * Stops the workers once the runs they were sent have ended; later runs are refused. (A worker
   * stopped inside an onnxruntime run would take the whole process down with it.)
   */
  async close(): Promise<void> {
    this.stopped ??= 'the session pool was closed';
    await Promise.all(this.running);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
