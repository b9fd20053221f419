/**
 * Input preparation for the learned summary network: reduce each trace to a fixed number of points
 * (bin averages) and normalize with constants fitted once on the training set, so that absolute
 * potential levels (rest, reset) stay informative. Also brings observations recorded with another
 * sampling rate, length or stimulus onset onto the grid an estimator was trained on, or refuses
 * with a message saying why.
 *
 * @example
 * const norm = fitTraceNormalization(trainBatch);
 * const x = prepareLearnedInput(trainBatch, { length: 250, ...norm }); // n x 250 Float32Array
 */
import { checkTraceBatch, type TraceBatch } from './traces.ts';

/** Affine normalization of potentials: `(v - center) / scale`. */
export interface TraceNormalization {
  center: number;
  scale: number;
}

/** What the learned summary network sees: `length` bin averages of the normalized trace. */
export interface LearnedInputSpec extends TraceNormalization {
  length: number;
}

/**
 * Average each trace over `length` equal bins spanning the whole recording (fractional samples at bin
 * edges are weighted by their overlap), giving n x length values. `length` may not exceed the
 * number of samples.
 */
export function binAverage(batch: TraceBatch, length: number): Float32Array {
  checkTraceBatch(batch);
  const { data, n, samples } = batch;
  if (!Number.isInteger(length) || length < 1 || length > samples) {
    throw new RangeError(`binAverage: length must be an integer in 1..${samples}, got ${length}`);
  }
  const out = new Float32Array(n * length);
  const f = samples / length;
  if (Number.isInteger(f)) {
    const inv = 1 / f;
    for (let i = 0; i < n; i++) {
      let k = i * samples;
      for (let j = 0; j < length; j++) {
        let s = 0;
        for (let m = 0; m < f; m++) s += data[k++];
        out[i * length + j] = s * inv;
      }
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const base = i * samples;
    for (let j = 0; j < length; j++) {
      const a = j * f;
      const b = (j + 1) * f;
      let s = 0;
      for (let k = Math.floor(a); k < Math.ceil(b) && k < samples; k++) {
        const w = Math.min(b, k + 1) - Math.max(a, k);
        s += w * data[base + k];
      }
      out[i * length + j] = s / f;
    }
  }
  return out;
}

/** Mean and standard deviation of every finite sample of the batch (scale at least 1e-6). */
export function fitTraceNormalization(batch: TraceBatch): TraceNormalization {
  checkTraceBatch(batch);
  let s = 0;
  let s2 = 0;
  let c = 0;
  for (let k = 0; k < batch.data.length; k++) {
    const v = batch.data[k];
    if (Number.isFinite(v)) {
      s += v;
      s2 += v * v;
      c++;
    }
  }
  if (c === 0) throw new RangeError('fitTraceNormalization: the batch holds no finite sample');
  const center = s / c;
  const scale = Math.max(1e-6, Math.sqrt(Math.max(0, s2 / c - center * center)));
  return { center, scale };
}

/** Bin-average to `spec.length` points and normalize: the network input, n x length, row-major. */
export function prepareLearnedInput(batch: TraceBatch, spec: LearnedInputSpec): Float32Array {
  if (!(spec.scale > 0)) throw new RangeError(`prepareLearnedInput: scale must be > 0, got ${spec.scale}`);
  const out = binAverage(batch, spec.length);
  const inv = 1 / spec.scale;
  for (let k = 0; k < out.length; k++) out[k] = (out[k] - spec.center) * inv;
  return out;
}

/** The time grid an estimator was trained on. */
export interface TraceGrid {
  samples: number;
  /** Samples per second. */
  sampleRate: number;
  /** Stimulus onset in us from the start of the recording. */
  onset: number;
}

/** Options of {@link conformObservation}. */
export interface ConformOptions {
  /** Refuse observations sampled more coarsely than this (samples/s). Default: half the grid's rate. */
  minSampleRate?: number;
  /** Name used in error messages, e.g. the file name. Default 'observation'. */
  what?: string;
}

/** An observation on the estimator's grid; `shift` (us) maps observation time to grid time: t_grid = t_obs - shift. */
export interface ConformedObservation {
  trace: Float32Array;
  shift: number;
  resampled: boolean;
}

/**
 * Put one recorded trace on the estimator's time grid. The stimulus onsets are aligned (the
 * recording may start earlier or later relative to its stimulus), then the grid times are read
 * off the recording: directly when rates match and the shift is a whole number of samples,
 * otherwise by linear interpolation (no anti-alias averaging, since the MADC samples
 * instantaneously and averaging would shrink the readout noise). Refuses, with a message giving
 * the numbers, recordings that do not cover the grid's span around the onset or whose rate is
 * below `minSampleRate`, and traces holding NaN.
 */
export function conformObservation(
  trace: Float32Array | Int16Array,
  recording: { sampleRate: number; onset: number },
  grid: TraceGrid,
  opts: ConformOptions = {},
): ConformedObservation {
  const what = opts.what ?? 'observation';
  const minRate = opts.minSampleRate ?? grid.sampleRate / 2;
  if (!(recording.sampleRate > 0))
    throw new RangeError(`${what}: sample rate must be > 0 samples/s, got ${recording.sampleRate}`);
  if (!Number.isFinite(recording.onset))
    throw new RangeError(`${what}: stimulus onset must be a number of us`);
  if (recording.sampleRate < minRate) {
    throw new RangeError(
      `${what}: sampled at ${fmtRate(recording.sampleRate)}, below the ${fmtRate(minRate)} this estimator needs (trained at ${fmtRate(grid.sampleRate)})`,
    );
  }
  for (let k = 0; k < trace.length; k++) {
    if (!Number.isFinite(trace[k])) throw new RangeError(`${what}: sample ${k} is not a finite number`);
  }
  const shift = recording.onset - grid.onset;
  const dtObs = 1e6 / recording.sampleRate;
  const dtGrid = 1e6 / grid.sampleRate;
  const obsEnd = (trace.length - 1) * dtObs;
  const needStart = shift;
  const needEnd = shift + (grid.samples - 1) * dtGrid;
  const tol = 0.5 * dtObs;
  if (needStart < -tol || needEnd > obsEnd + tol) {
    throw new RangeError(
      `${what}: the recording spans 0..${obsEnd.toFixed(3)} us with stimulus onset at ${recording.onset} us, ` +
        `but the estimator needs ${grid.onset} us before onset and ${((grid.samples - 1) * dtGrid - grid.onset).toFixed(3)} us after it`,
    );
  }
  const out = new Float32Array(grid.samples);
  const stepRatio = dtGrid / dtObs;
  const startIdx = shift / dtObs;
  const direct = Math.abs(stepRatio - 1) < 1e-9 && Math.abs(startIdx - Math.round(startIdx)) < 1e-6;
  if (direct) {
    const s = Math.round(startIdx);
    for (let j = 0; j < grid.samples; j++) out[j] = trace[Math.min(trace.length - 1, Math.max(0, s + j))];
  } else {
    for (let j = 0; j < grid.samples; j++) {
      const pos = Math.min(trace.length - 1, Math.max(0, startIdx + j * stepRatio));
      const k = Math.min(trace.length - 2, Math.floor(pos));
      const w = pos - k;
      out[j] = k < 0 ? trace[0] : trace[k] * (1 - w) + trace[k + 1] * w;
    }
  }
  return { trace: out, shift, resampled: !direct };
}

function fmtRate(r: number): string {
  return `${(r / 1e6).toPrecision(4)} MSa/s`;
}
