/**
 * The embedded AdEx / BrainScaleS-2 emulator: `createEmulator()` returns a `SimulationBackend`
 * running the native kernel when the addon is built, else the TypeScript kernel (with a one-time
 * warning). Also re-exports the parameter definitions, chip instances and readout conversions.
 *
 * @example
 * const emu = createEmulator();
 * const res = await emu.simulate({
 *   theta, paramNames: INFERRED_PARAMETERS.map((p) => p.name), space: 'model', mode: 'hardware',
 *   stimulus: DEFAULT_EXPERIMENT.stimulus, duration: DEFAULT_EXPERIMENT.duration, seed: 1,
 * });
 */
import os from 'node:os';
import type {
  BackendInfo,
  SimulateOptions,
  SimulationBackend,
  SimulationRequest,
  SimulationResult,
} from './backend.ts';
import { CIRCUITS } from './chip.ts';
import { simulateLanesTs } from './kernel.ts';
import { loadNative, simulateLanesNative } from './native.ts';
import { DEFAULT_EXPERIMENT } from './parameters.ts';
import { DEFAULT_CHUNK_ROWS, runBatch, type ChunkRunner } from './run.ts';

export * from './backend.ts';
export * from './parameters.ts';
export { createChip, CIRCUITS, type Chip } from './chip.ts';
export {
  codesToVolts,
  codesToMillivolts,
  millivoltsToLsb,
  MADC_LSB_PER_MV,
  MADC_MV_AT_ZERO,
  MADC_VOLTS_PER_LSB,
  MADC_READOUT_NOISE_LSB,
  MADC_USABLE_RANGE,
} from './madc.ts';
export { MEMBRANE_NOISE_MV } from './prepare.ts';
export { samplePrior } from './prior.ts';

/** Which kernel to run. `auto`: native when built, else TypeScript with a warning. */
export type KernelChoice = 'auto' | 'native' | 'typescript';

export interface EmulatorOptions {
  kernel?: KernelChoice;
  /** Threads of the native kernel (default: all cores). The TypeScript kernel runs on one. */
  threads?: number;
  /** Native kernel build: `auto` (AVX2 where available) or `generic` (the portable build). */
  nativeIsa?: 'auto' | 'generic';
  /** Rows per chunk: progress, cancellation and spike buffers are per chunk (default 4096 native, 128 TypeScript). */
  chunkRows?: number;
  /** Where the one-time fallback warning goes (default: console.warn). */
  warn?: (message: string) => void;
}

let warned = false;

/** Rows per chunk of the TypeScript kernel (about 0.1-0.3 s of work between event-loop turns). */
const TS_CHUNK_ROWS = 128;

/** Create the emulator backend. Throws when `kernel: 'native'` is asked for and the addon is not built. */
export function createEmulator(options: EmulatorOptions = {}): SimulationBackend {
  const choice = options.kernel ?? 'auto';
  if (choice !== 'auto' && choice !== 'native' && choice !== 'typescript') {
    throw new RangeError(`kernel must be 'auto', 'native' or 'typescript', got '${String(choice)}'`);
  }
  const threads = options.threads ?? Math.max(1, os.availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new RangeError(`threads must be an integer in 1..256, got ${threads}`);
  }
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) {
    throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
  }
  const forceGeneric = options.nativeIsa === 'generic';
  let kernel: 'native' | 'typescript' = 'typescript';
  let runner: ChunkRunner = async (r, lanes, start, count, codes) => {
    const res = simulateLanesTs(r, lanes, start, count, codes);
    await new Promise((resolve) => setImmediate(resolve)); // let progress and Ctrl-C through
    return res;
  };
  let isa = 'javascript';
  if (choice !== 'typescript') {
    const { addon, error } = loadNative();
    if (addon) {
      kernel = 'native';
      isa = forceGeneric ? 'generic' : addon.isa();
      runner = (r, lanes, start, count, codes) =>
        simulateLanesNative(addon, threads, forceGeneric, r, lanes, start, count, codes);
    } else if (choice === 'native') {
      throw new Error(`${error}; build it with 'node scripts/build-native.mjs'`);
    } else if (!warned) {
      warned = true;
      (options.warn ?? console.warn)(`${error}; using the slower TypeScript kernel`);
    }
  }
  const usedThreads = kernel === 'native' ? threads : 1;
  const info: BackendInfo = {
    kind: 'emulator',
    id: `emulator (${kernel}, ${usedThreads} thread${usedThreads > 1 ? 's' : ''})`,
    circuits: CIRCUITS,
    sampleRate: DEFAULT_EXPERIMENT.sampleRate,
    details: { kernel, threads: usedThreads, isa },
  };
  return {
    info: () => ({ ...info, details: { ...info.details } }),
    simulate: (request: SimulationRequest, opts?: SimulateOptions): Promise<SimulationResult> =>
      // The TypeScript kernel runs on the calling thread: small chunks keep the event loop responsive.
      runBatch(request, runner, opts, options.chunkRows ?? (kernel === 'native' ? chunkRows : TS_CHUNK_ROWS)),
  };
}
