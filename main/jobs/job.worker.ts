/**
 * Worker-thread host for one job: imports the job's module, runs its function with a context
 * (progress, abort signal) and posts progress, the result or the error back to the runner.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { useRunGate } from '../graph/run-gate.mjs';
import type { JobFunction, JobProgressReport } from './types.ts';

interface WorkerInput {
  module: string;
  export: string;
  params: unknown;
  /** The run gate through which the runner stops this thread between native calls. */
  gate: SharedArrayBuffer;
}

const port = parentPort!;
const input = workerData as WorkerInput;
useRunGate(input.gate);
const controller = new AbortController();

port.on('message', (msg: { type: string }) => {
  if (msg.type === 'cancel') controller.abort(new Error('cancelled'));
});

function collectTransfers(value: unknown, out: ArrayBuffer[], depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    if (buf instanceof ArrayBuffer && !out.includes(buf) && value.byteLength === buf.byteLength)
      out.push(buf);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectTransfers(v, out, depth + 1);
}

try {
  const mod = (await import(pathToFileURL(input.module).href)) as Record<string, unknown>;
  const fn = mod[input.export] as JobFunction | undefined;
  if (typeof fn !== 'function')
    throw new Error(`job module ${input.module} has no function '${input.export}'`);
  const result = await fn(input.params, {
    signal: controller.signal,
    progress: (report: JobProgressReport) => port.postMessage({ type: 'progress', report }),
  });
  const transfers: ArrayBuffer[] = [];
  collectTransfers(result, transfers);
  port.postMessage({ type: 'done', result }, transfers);
} catch (err) {
  const e = err as Error;
  port.postMessage({
    type: controller.signal.aborted ? 'cancelled' : 'error',
    message: e?.message ?? String(err),
    stack: e?.stack,
  });
}
