/**
 * Shared shapes for batches of membrane traces and spike trains, and spike detection by threshold
 * crossing for recordings that come without spike times (imported files, raw hardware traces).
 *
 * Times are hardware microseconds from the start of the recording; sample k lies at
 * `k / sampleRate * 1e6` us. Potentials stay in the unit of the trace (MADC LSB for Int16 codes,
 * volts for Float32 traces).
 */

/** `n` traces of `samples` values each, row-major: MADC codes (Int16Array) or potentials (Float32Array). */
export interface TraceBatch {
  data: Int16Array | Float32Array;
  n: number;
  samples: number;
  /** Samples per second (hardware time). */
  sampleRate: number;
}

/** Spike times in microseconds, all rows concatenated; row i owns `times[offsets[i]..offsets[i+1])`. */
export interface SpikeTrains {
  times: Float32Array;
  offsets: Int32Array;
}

/** The step stimulus window in hardware microseconds. */
export interface StimulusWindow {
  onset: number;
  duration: number;
}

/** Check that a batch's array length matches n * samples and that the rate is positive. */
export function checkTraceBatch(batch: TraceBatch, what = 'traces'): void {
  if (!Number.isInteger(batch.n) || batch.n < 0)
    throw new RangeError(`${what}: n must be a non-negative integer, got ${batch.n}`);
  if (!Number.isInteger(batch.samples) || batch.samples < 1) {
    throw new RangeError(`${what}: samples must be a positive integer, got ${batch.samples}`);
  }
  if (batch.data.length !== batch.n * batch.samples) {
    throw new RangeError(
      `${what}: expected ${batch.n} x ${batch.samples} = ${batch.n * batch.samples} values, got ${batch.data.length}`,
    );
  }
  if (!(batch.sampleRate > 0) || !Number.isFinite(batch.sampleRate)) {
    throw new RangeError(
      `${what}: sampleRate must be a positive number of samples/s, got ${batch.sampleRate}`,
    );
  }
}

/** Check that spike trains describe exactly `n` rows with non-decreasing offsets. */
export function checkSpikeTrains(spikes: SpikeTrains, n: number): void {
  const { offsets, times } = spikes;
  if (offsets.length !== n + 1)
    throw new RangeError(`spikes: expected ${n + 1} offsets for ${n} rows, got ${offsets.length}`);
  if (offsets[0] !== 0 || offsets[n] !== times.length) {
    throw new RangeError(
      `spikes: offsets must start at 0 and end at ${times.length}, got ${offsets[0]}..${offsets[n]}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (offsets[i + 1] < offsets[i]) throw new RangeError(`spikes: offsets decrease at row ${i}`);
  }
}

/** Options of {@link detectSpikes}. */
export interface SpikeDetection {
  /** Upward crossing level, in the unit of the trace (e.g. MADC LSB). */
  threshold: number;
  /** The trace must fall this far below `threshold` before another spike counts. Default 0. */
  hysteresis?: number;
}

/**
 * Detect spikes as upward crossings of `threshold`; the time is interpolated linearly between the
 * two samples around the crossing. Samples that are NaN never count as crossings.
 *
 * @example
 * const spikes = detectSpikes(batch, { threshold: 600, hysteresis: 20 });
 */
export function detectSpikes(batch: TraceBatch, opts: SpikeDetection): SpikeTrains {
  checkTraceBatch(batch);
  const { threshold } = opts;
  const hysteresis = opts.hysteresis ?? 0;
  if (!Number.isFinite(threshold))
    throw new RangeError(`detectSpikes: threshold must be finite, got ${threshold}`);
  if (!(hysteresis >= 0)) throw new RangeError(`detectSpikes: hysteresis must be >= 0, got ${hysteresis}`);
  const { data, n, samples } = batch;
  const dt = 1e6 / batch.sampleRate;
  const rearm = threshold - hysteresis;
  const offsets = new Int32Array(n + 1);
  let times = new Float32Array(Math.max(16, n));
  let count = 0;
  for (let i = 0; i < n; i++) {
    const base = i * samples;
    // Armed only once the trace has been below the re-arm level: a trace starting above threshold is not a spike.
    let armed = false;
    let prev = data[base];
    if (prev < rearm) armed = true;
    for (let k = 1; k < samples; k++) {
      const v = data[base + k];
      if (armed && v >= threshold && prev < threshold) {
        const frac = (threshold - prev) / (v - prev);
        if (count === times.length) {
          const grown = new Float32Array(times.length * 2);
          grown.set(times);
          times = grown;
        }
        times[count++] = (k - 1 + frac) * dt;
        armed = false;
      } else if (!armed && v < rearm) {
        armed = true;
      }
      prev = v;
    }
    offsets[i + 1] = count;
  }
  return { times: times.slice(0, count), offsets };
}

/** Spike counts per row of a spike-train set. */
export function spikeCounts(spikes: SpikeTrains): Int32Array {
  const n = spikes.offsets.length - 1;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = spikes.offsets[i + 1] - spikes.offsets[i];
  return out;
}

/** Select rows of a trace batch (copy). */
export function selectTraceRows(batch: TraceBatch, rows: ArrayLike<number>): TraceBatch {
  const { samples } = batch;
  const data =
    batch.data instanceof Int16Array
      ? new Int16Array(rows.length * samples)
      : new Float32Array(rows.length * samples);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j];
    if (!(r >= 0 && r < batch.n))
      throw new RangeError(`selectTraceRows: row ${r} out of range 0..${batch.n - 1}`);
    data.set(batch.data.subarray(r * samples, (r + 1) * samples), j * samples);
  }
  return { data, n: rows.length, samples, sampleRate: batch.sampleRate };
}

/** Select rows of a spike-train set (copy). */
export function selectSpikeRows(spikes: SpikeTrains, rows: ArrayLike<number>): SpikeTrains {
  const offsets = new Int32Array(rows.length + 1);
  let total = 0;
  for (let j = 0; j < rows.length; j++) {
    total += spikes.offsets[rows[j] + 1] - spikes.offsets[rows[j]];
    offsets[j + 1] = total;
  }
  const times = new Float32Array(total);
  for (let j = 0; j < rows.length; j++) {
    times.set(spikes.times.subarray(spikes.offsets[rows[j]], spikes.offsets[rows[j] + 1]), offsets[j]);
  }
  return { times, offsets };
}
