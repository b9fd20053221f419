/**
 * The contract every simulation backend fulfils: the embedded emulator (native or TypeScript
 * kernel) and the serial hardware bridge. Pipelines (simulation sets, observations,
 * posterior-predictive checks) are written against this interface only, so they run unchanged
 * against either.
 *
 * Shapes: `n` rows (one simulated neuron each) of `nParams` parameters in row-major Float32Array.
 * Traces are MADC codes, `n * samples` Int16 values, row-major.
 */

/** Where parameter rows live: biological-equivalent model units, or CapMem LSB (0..1022). */
export type ParamSpace = 'model' | 'capmem';

/** `ideal`: no mismatch, no noise. `hardware`: fixed-pattern mismatch, temporal noise, readout effects. */
export type EmulatorMode = 'ideal' | 'hardware';

/** One piece of a piecewise-constant stimulus current. Times in hardware microseconds. */
export interface CurrentSegment {
  /** Start time in microseconds (hardware time), relative to the start of the recording. */
  start: number;
  /** Current amplitude, in the unit of the parameter space (pA model-equivalent, or CapMem LSB of i_offset). */
  amplitude: number;
}

/** A stimulus protocol: a step (the default) or any piecewise-constant current. */
export type StimulusProtocol =
  | { kind: 'step'; onset: number; duration: number; amplitude: number }
  | { kind: 'piecewise'; segments: CurrentSegment[] };

/** Everything about one simulation run except the per-row parameters. */
export interface SimulationRequest {
  /** n * nParams parameter rows, row-major, in `space` units, in the order of `paramNames`. */
  theta: Float32Array;
  /** Names of the columns of `theta`; parameters not listed take the experiment's fixed values. */
  paramNames: readonly string[];
  space: ParamSpace;
  mode: EmulatorMode;
  /** Values of the non-inferred parameters (same space as theta), by name; unlisted ones take defaults. */
  fixed?: Readonly<Record<string, number>>;
  stimulus: StimulusProtocol;
  /** Recording length in hardware microseconds. */
  duration: number;
  /** Integration step in hardware microseconds (must divide the MADC sample period); emulator default 0.05. */
  dt?: number;
  /** Seed of the chip instance (fixed-pattern mismatch) in hardware mode. */
  chipSeed?: number;
  /** Circuit index (0..511) per row; default circuit 0 for every row. */
  circuits?: Int32Array;
  /** Seed of the temporal noise; a given seed gives the same traces whatever the batch split. */
  seed: number;
  /** Index of the first row within the whole experiment (keeps noise streams independent of batching). */
  rowOffset?: number;
}

export interface SimulationResult {
  n: number;
  /** Samples per trace. */
  samples: number;
  /** MADC sampling rate in samples per second (hardware time). */
  sampleRate: number;
  /** n * samples MADC codes (10-bit, 0..1023), row-major. */
  codes: Int16Array;
  /** Spike count per row. */
  spikeCounts: Int32Array;
  /** Spike times in microseconds, all rows concatenated; row i owns spikeTimes[spikeOffsets[i]..spikeOffsets[i+1]). */
  spikeTimes: Float32Array;
  spikeOffsets: Int32Array;
}

export interface SimulationProgress {
  done: number;
  total: number;
}

export interface SimulateOptions {
  onProgress?: (p: SimulationProgress) => void;
  signal?: AbortSignal;
  /**
   * Write the traces into this buffer (at least n * samples values) instead of a fresh one; the
   * result's `codes` is then its first n * samples values. For callers that simulate batch after
   * batch and are done with each batch's traces before the next (the `simulate` command, which
   * streams them to x.npy): a fresh 20 MB buffer per 10,000 traces costs the kernel's page
   * faults and zeroing every time. Its contents are undefined after a cancelled or failed batch.
   */
  codes?: Int16Array;
}

/**
 * The trace buffer of a batch of n rows of `samples` values: a view of the caller's `provided`
 * buffer when given (checked to be an Int16Array large enough), else a fresh one. The fresh one is
 * not zero-filled (every backend writes every code before it returns a result) and has its own
 * memory (transferable, never Node's shared pool).
 */
export function traceBuffer(n: number, samples: number, provided?: Int16Array): Int16Array {
  const need = n * samples;
  if (provided !== undefined) {
    if (!(provided instanceof Int16Array)) {
      throw new TypeError(
        `options.codes must be an Int16Array, got ${Object.prototype.toString.call(provided)}`,
      );
    }
    if (provided.length < need) {
      throw new RangeError(
        `options.codes holds ${provided.length} values, but ${n} rows of ${samples} samples need ${need}`,
      );
    }
    return provided.subarray(0, need);
  }
  try {
    const bytes = Buffer.allocUnsafeSlow(need * 2);
    return new Int16Array(bytes.buffer, bytes.byteOffset, need);
  } catch {
    throw new RangeError(
      `n = ${n} rows of ${samples} samples need ${((need * 2) / 2 ** 20).toFixed(0)} MiB of traces, more than this process can allocate; split the batch`,
    );
  }
}

/** What a backend says about itself (shown in the UI and stored with results). */
export interface BackendInfo {
  kind: 'emulator' | 'hardware';
  /** e.g. 'emulator (native, 2 threads)' or the device id of a bridge board. */
  id: string;
  circuits: number;
  /** MADC sampling rate, samples/s. */
  sampleRate: number;
  details: Record<string, string | number | boolean>;
}

export interface SimulationBackend {
  info(): BackendInfo;
  simulate(request: SimulationRequest, options?: SimulateOptions): Promise<SimulationResult>;
}
