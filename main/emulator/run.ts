/**
 * Batch driver shared by both kernels: validates the request, walks it in chunks of rows (bounded
 * memory for coefficients and spike buffers), reports progress, honours cancellation between
 * chunks and assembles the `SimulationResult`.
 */
import {
  traceBuffer,
  type SimulateOptions,
  type SimulationRequest,
  type SimulationResult,
} from './backend.ts';
import type { ChunkSpikes } from './kernel.ts';
import { prepareLanes, resolveRequest, type ResolvedRequest } from './prepare.ts';

/** Runs rows [start, start + count) whose coefficients `lanes` holds (lane 0 = row start); writes their codes. */
export type ChunkRunner = (
  r: ResolvedRequest,
  lanes: Float32Array,
  start: number,
  count: number,
  codes: Int16Array,
) => Promise<ChunkSpikes>;

/** Rows per chunk of the native kernel (progress, cancellation and spike buffers are per chunk; about 35 ms of work on the default protocol). */
export const DEFAULT_CHUNK_ROWS = 8192;
/** Rows of the first chunk at most. */
const FIRST_CHUNK_ROWS = 1024;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const err = new Error(reason instanceof Error ? reason.message : 'simulation cancelled');
  err.name = 'AbortError';
  return err;
}

/** Simulate a whole request with `runChunk`, chunk by chunk. Rejects with an AbortError when cancelled. */
export async function runBatch(
  req: SimulationRequest,
  runChunk: ChunkRunner,
  options: SimulateOptions = {},
  chunkRows = DEFAULT_CHUNK_ROWS,
): Promise<SimulationResult> {
  const r = resolveRequest(req);
  const { n, samples } = r;
  // The kernel writes every code before the result is returned (a cancelled or failed batch
  // returns nothing), so the traces need no zero-filling. For 10,000 default traces (20 MB) this
  // saved 2-3 ms of a 38 ms simulation here (median of 30); a caller's reused buffer saves the
  // page faults as well (docs/emulator.md).
  const codes = traceBuffer(n, samples, options.codes);
  const spikeCounts = new Int32Array(n);
  const parts: Float32Array[] = [];
  const { signal, onProgress } = options;
  // Coefficients are prepared (and each row validated, errors naming the row) one chunk ahead:
  // the native kernel runs chunk k on its own threads while this thread prepares chunk k + 1.
  // A bad row in a later chunk still rejects the whole request; nothing is returned or written.
  // The first chunk is small, so little preparation happens before the kernel starts.
  // A tail shorter than a quarter chunk joins the chunk before it: one thread join and one
  // hand-off fewer, and no small last chunk that leaves a core idle.
  const chunkEnd = (start: number) => {
    const end = Math.min(n, start + (start === 0 ? Math.min(chunkRows, FIRST_CHUNK_ROWS) : chunkRows));
    return start > 0 && n - end < chunkRows / 4 ? n : end;
  };
  let lanes = prepareLanes(r, 0, chunkEnd(0));
  for (let start = 0; start < n; start = chunkEnd(start)) {
    if (signal?.aborted) throw abortError(signal);
    const end = chunkEnd(start);
    const running = runChunk(r, lanes, start, end - start, codes.subarray(start * samples, end * samples));
    let next: Float32Array | undefined;
    try {
      if (end < n) next = prepareLanes(r, end, chunkEnd(end));
    } catch (err) {
      await running.catch(() => undefined);
      throw err;
    }
    const res = await running;
    spikeCounts.set(res.counts, start);
    parts.push(res.times);
    onProgress?.({ done: end, total: n });
    if (next) lanes = next;
  }
  if (signal?.aborted) throw abortError(signal);
  const spikeOffsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) spikeOffsets[i + 1] = spikeOffsets[i] + spikeCounts[i];
  const spikeTimes = new Float32Array(spikeOffsets[n]);
  let off = 0;
  for (const p of parts) {
    spikeTimes.set(p, off);
    off += p.length;
  }
  return { n, samples, sampleRate: r.sampleRate, codes, spikeCounts, spikeTimes, spikeOffsets };
}
