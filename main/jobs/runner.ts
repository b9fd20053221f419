/**
 * Runs long work (simulation batches, training, diagnostics) in worker threads so the main thread
 * stays responsive. Each job reports progress (fraction, rate, ETA, message), can be cancelled, and
 * resolves with its result or rejects with its error message.
 *
 * @example
 * const runner = new JobRunner();
 * runner.on('status', (s: JobStatus) => console.log(s.kind, s.fraction));
 * const { id, result } = runner.start({ kind: 'simulate', label: 'Simulate 10k', module, export: 'simulateJob', params });
 * await result;
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { closeRunGate, createRunGate } from '../graph/run-gate.mjs';
import { appRoot } from '../paths.ts';
import type { JobProgressReport, JobStatus } from './types.ts';

export interface JobSpec {
  kind: string;
  /** Shown in the UI, e.g. 'Simulate 50,000 traces'. */
  label: string;
  /** Absolute path of the TypeScript module that exports the job function. */
  module: string;
  /** Name of the exported job function. */
  export: string;
  /** Structured-cloneable parameters. */
  params: unknown;
}

/** A job that ended without a result: cancelled by the user, or failed with a message. */
export class JobError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = cancelled ? 'JobCancelled' : 'JobError';
  }
}

interface Running {
  status: JobStatus;
  worker: Worker;
  /** Counts the native calls (onnxruntime, emulator kernel) in progress for the job (run-gate.mjs). */
  gate: SharedArrayBuffer;
  lastEmit: number;
  killTimer?: NodeJS.Timeout;
  stopping?: boolean;
}

/** Seconds a cancelled job gets to stop by itself before its worker is terminated. */
const CANCEL_GRACE_MS = 3000;
/** How often a job's thread is checked for native calls in progress while it is being stopped. */
const STOP_POLL_MS = 10;
/** Minimum interval between forwarded progress events per job. */
const PROGRESS_INTERVAL_MS = 100;
/** Finished jobs kept for `list()`. */
const HISTORY = 50;

export class JobRunner extends EventEmitter {
  private readonly jobs = new Map<string, Running>();
  private readonly finished: JobStatus[] = [];
  private readonly bootstrap: string;

  constructor(options: { bootstrap?: string } = {}) {
    super();
    this.bootstrap = options.bootstrap ?? path.join(appRoot(), 'main', 'jobs', 'worker-bootstrap.mjs');
  }

  /** Start a job in a new worker thread; `result` settles when it ends. */
  start<R = unknown>(spec: JobSpec): { id: string; result: Promise<R> } {
    const id = randomUUID();
    const status: JobStatus = {
      id,
      kind: spec.kind,
      label: spec.label,
      state: 'running',
      fraction: 0,
      startedAt: Date.now(),
    };
    const gate = createRunGate();
    const worker = new Worker(this.bootstrap, {
      workerData: { module: spec.module, export: spec.export, params: spec.params, gate },
    });
    const job: Running = { status, worker, gate, lastEmit: 0 };
    this.jobs.set(id, job);
    this.emitStatus(job, true);

    const result = new Promise<R>((resolve, reject) => {
      let settled = false;
      const finish = (state: JobStatus['state'], error?: string) => {
        if (settled) return false;
        settled = true;
        if (job.killTimer) clearTimeout(job.killTimer);
        status.state = state;
        status.endedAt = Date.now();
        if (state === 'done') status.fraction = 1;
        if (error) status.error = error;
        status.eta = undefined;
        this.jobs.delete(id);
        this.finished.unshift({ ...status });
        this.finished.length = Math.min(this.finished.length, HISTORY);
        this.emitStatus(job, true);
        this.stop(job);
        return true;
      };
      worker.on(
        'message',
        (msg: { type: string; report?: JobProgressReport; result?: R; message?: string }) => {
          if (msg.type === 'progress' && msg.report) {
            this.applyProgress(job, msg.report);
          } else if (msg.type === 'done') {
            if (finish('done')) resolve(msg.result as R);
          } else if (msg.type === 'cancelled') {
            if (finish('cancelled', 'cancelled')) reject(new JobError(`${spec.label}: cancelled`, true));
          } else if (msg.type === 'error') {
            const m = msg.message ?? 'unknown error';
            if (finish('failed', m)) reject(new JobError(m, false));
          }
        },
      );
      worker.on('error', (err) => {
        if (finish('failed', err.message)) reject(new JobError(err.message, false));
      });
      worker.on('exit', (code) => {
        const cancelled = status.state === 'running' && this.cancelRequested.has(id);
        if (cancelled) {
          if (finish('cancelled', 'cancelled')) reject(new JobError(`${spec.label}: cancelled`, true));
        } else if (finish('failed', `worker stopped unexpectedly (exit code ${code})`)) {
          reject(new JobError(`${spec.label}: worker stopped unexpectedly (exit code ${code})`, false));
        }
        this.cancelRequested.delete(id);
      });
    });
    result.catch(() => undefined); // callers that only watch events must not see unhandled rejections
    return { id, result };
  }

  private readonly cancelRequested = new Set<string>();

  /** Ask a job to stop; its worker is terminated if it does not stop within a few seconds. */
  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.cancelRequested.add(id);
    job.status.message = 'cancelling…';
    this.emitStatus(job, true);
    job.worker.postMessage({ type: 'cancel' });
    job.killTimer = setTimeout(() => this.stop(job), CANCEL_GRACE_MS);
    return true;
  }

  /**
   * Stops a job's worker thread, between native calls (onnxruntime runs, emulator kernel calls):
   * a thread stopped inside one aborts the whole process. Closing the job's run gate keeps new
   * calls from starting (they fail with an error), and the thread is stopped once the calls in
   * progress, in it and in its session workers, have ended.
   */
  private stop(job: Running): void {
    if (job.stopping) return;
    job.stopping = true;
    const attempt = () => {
      if (closeRunGate(job.gate)) void job.worker.terminate();
      else setTimeout(attempt, STOP_POLL_MS);
    };
    attempt();
  }

  /** Running jobs first, then recently finished ones. */
  list(): JobStatus[] {
    return [...[...this.jobs.values()].map((j) => ({ ...j.status })), ...this.finished];
  }

  get(id: string): JobStatus | undefined {
    const j = this.jobs.get(id);
    return j ? { ...j.status } : this.finished.find((s) => s.id === id);
  }

  /**
   * Cancel everything (on shutdown) and wait for the workers to end: a job that honours
   * cancellation stops by itself (and cleans up), the others are stopped after the grace period,
   * between native calls (see `stop`).
   */
  async shutdown(): Promise<void> {
    const ended = [...this.jobs.values()].map(
      (j) => new Promise<void>((resolve) => j.worker.once('exit', () => resolve())),
    );
    for (const id of [...this.jobs.keys()]) this.cancel(id);
    await Promise.all(ended);
  }

  private applyProgress(job: Running, r: JobProgressReport): void {
    const s = job.status;
    if (r.done !== undefined) s.done = r.done;
    if (r.total !== undefined) s.total = r.total;
    if (r.unit !== undefined) s.unit = r.unit;
    if (r.message !== undefined) s.message = r.message;
    if (r.data !== undefined) s.data = r.data;
    if (r.fraction !== undefined) s.fraction = Math.min(1, Math.max(0, r.fraction));
    else if (s.done !== undefined && s.total) s.fraction = Math.min(1, s.done / s.total);
    const elapsed = (Date.now() - s.startedAt) / 1000;
    if (s.done !== undefined && elapsed > 0) s.rate = s.done / elapsed;
    if (s.fraction > 0 && s.fraction < 1) s.eta = (elapsed * (1 - s.fraction)) / s.fraction;
    this.emitStatus(job, false);
  }

  private emitStatus(job: Running, force: boolean): void {
    const now = Date.now();
    if (!force && now - job.lastEmit < PROGRESS_INTERVAL_MS) return;
    job.lastEmit = now;
    this.emit('status', { ...job.status });
  }
}
