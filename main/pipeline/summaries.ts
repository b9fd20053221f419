/**
 * Handcrafted summary statistics of membrane recordings under a step stimulus, batched over many
 * traces (one pass per trace, no allocation per trace). Every statistic has a defined value for
 * traces with no spike or one spike; the exact definitions and units are in
 * docs/summary-statistics.md.
 *
 * @example
 * const s = computeSummaries(
 *   { data: result.codes, n: result.n, samples: result.samples, sampleRate: result.sampleRate },
 *   { times: result.spikeTimes, offsets: result.spikeOffsets },
 *   { stimulus: { onset: 10, duration: 100 } },
 * );
 * s.values[i * SUMMARY_NAMES.length + SUMMARY_INDEX.spike_count];
 */
import {
  checkSpikeTrains,
  checkTraceBatch,
  type SpikeTrains,
  type StimulusWindow,
  type TraceBatch,
} from './traces.ts';

/** Names of the statistics, in column order. */
export const SUMMARY_NAMES = [
  'spike_count',
  'isi_mean',
  'isi_cv',
  'first_spike_latency',
  'adaptation_index',
  'late_early_ratio',
  'v_mean_stim',
  'v_std_stim',
  'v_mean_rest',
  'v_std_rest',
  'ahp_fast',
  'ahp_slow',
  'spike_amplitude',
] as const;

export type SummaryName = (typeof SUMMARY_NAMES)[number];

/** Column index of each statistic. */
export const SUMMARY_INDEX: Readonly<Record<SummaryName, number>> = Object.fromEntries(
  SUMMARY_NAMES.map((name, i) => [name, i]),
) as Record<SummaryName, number>;

/** Unit of each statistic: `us` hardware microseconds, `trace` the potential unit of the input, `1` dimensionless. */
export const SUMMARY_UNITS: Readonly<Record<SummaryName, 'count' | 'us' | 'trace' | '1'>> = {
  spike_count: 'count',
  isi_mean: 'us',
  isi_cv: '1',
  first_spike_latency: 'us',
  adaptation_index: '1',
  late_early_ratio: '1',
  v_mean_stim: 'trace',
  v_std_stim: 'trace',
  v_mean_rest: 'trace',
  v_std_rest: 'trace',
  ahp_fast: 'trace',
  ahp_slow: 'trace',
  spike_amplitude: 'trace',
};

/** Per-trace flag bits of {@link SummaryResult.flags}. */
export const TRACE_FLAGS = {
  /** The trace (or one of its spike times) holds NaN or infinity: every statistic is NaN. */
  nonFinite: 1,
  /** At least one sample sits at a readout limit (code 0 or 1023 by default): statistics are computed but biased. */
  saturated: 2,
} as const;

/** Options of {@link computeSummaries}. */
export interface SummaryOptions {
  stimulus: StimulusWindow;
  /** Length of the fast-trough window after each spike, us. Default 2. */
  fastWindow?: number;
  /** Half-width of the window around each spike time searched for its peak, us. Default 0.3. */
  peakWindow?: number;
  /**
   * Readout limits flagged as saturation, in trace units. Default `{ low: 0, high: 1023 }` for Int16
   * codes and none for Float32 traces; `null` disables the check.
   */
  saturation?: { low: number; high: number } | null;
}

/** Statistics of `n` traces: `values` is n x SUMMARY_NAMES.length, row-major. */
export interface SummaryResult {
  names: readonly SummaryName[];
  n: number;
  values: Float32Array;
  /** Bitwise OR of {@link TRACE_FLAGS} per trace; 0 for a clean trace. */
  flags: Uint8Array;
}

const NS = SUMMARY_NAMES.length;

/**
 * Compute the handcrafted statistics of every trace. Spikes are taken from `spikes` (as reported
 * by a backend or found by `detectSpikes`); only spikes inside the stimulus window count.
 * Throws a RangeError naming the problem for inconsistent shapes or a stimulus window that leaves
 * no sample before onset or none inside the stimulus.
 */
export function computeSummaries(
  batch: TraceBatch,
  spikes: SpikeTrains,
  opts: SummaryOptions,
): SummaryResult {
  checkTraceBatch(batch);
  checkSpikeTrains(spikes, batch.n);
  const { data, n, samples, sampleRate } = batch;
  const { onset, duration } = opts.stimulus;
  const dtUs = 1e6 / sampleRate;
  if (!(onset > 0) || !(duration > 0)) {
    throw new RangeError(
      `summaries: stimulus onset and duration must be > 0 us, got onset ${onset}, duration ${duration}`,
    );
  }
  const offset = onset + duration;
  // Samples [0, kOn) are before the stimulus, [kOn, kOff) during it.
  const kOn = Math.min(samples, Math.ceil(onset / dtUs - 1e-9));
  const kOff = Math.min(samples, Math.ceil(offset / dtUs - 1e-9));
  if (kOn < 1)
    throw new RangeError(
      `summaries: no sample before stimulus onset (${onset} us at ${sampleRate} samples/s)`,
    );
  if (kOff <= kOn) {
    throw new RangeError(
      `summaries: the recording (${(samples * dtUs).toFixed(3)} us) ends before the stimulus starts (${onset} us)`,
    );
  }
  const fastWindow = opts.fastWindow ?? 2;
  const peakWindow = opts.peakWindow ?? 0.3;
  if (!(fastWindow > 0) || !(peakWindow >= 0)) {
    throw new RangeError(
      `summaries: fastWindow must be > 0 and peakWindow >= 0, got ${fastWindow}, ${peakWindow}`,
    );
  }
  const sat =
    opts.saturation === undefined
      ? data instanceof Int16Array
        ? { low: 0, high: 1023 }
        : null
      : opts.saturation;
  const satLow = sat ? sat.low : -Infinity;
  const satHigh = sat ? sat.high : Infinity;
  const half = onset + duration / 2;
  const values = new Float32Array(n * NS);
  const flags = new Uint8Array(n);
  const sampleAt = (t: number): number => Math.round(t / dtUs);

  for (let i = 0; i < n; i++) {
    const base = i * samples;
    const out = i * NS;
    // Potential statistics and trace checks in one pass.
    let flag = 0;
    let sumR = 0;
    let sumR2 = 0;
    for (let k = 0; k < kOn; k++) {
      const v = data[base + k];
      sumR += v;
      sumR2 += v * v;
    }
    let sumS = 0;
    let sumS2 = 0;
    for (let k = kOn; k < kOff; k++) {
      const v = data[base + k];
      sumS += v;
      sumS2 += v * v;
    }
    let satHit = false;
    if (sat) {
      for (let k = 0; k < samples; k++) {
        const v = data[base + k];
        if (v <= satLow || v >= satHigh) {
          satHit = true;
          break;
        }
      }
    }
    const s0 = spikes.offsets[i];
    const s1 = spikes.offsets[i + 1];
    let finite = Number.isFinite(sumR + sumR2 + sumS + sumS2);
    if (finite && !(data instanceof Int16Array)) {
      for (let k = kOff; k < samples; k++) if (!Number.isFinite(data[base + k])) finite = false;
    }
    for (let j = s0; j < s1; j++) if (!Number.isFinite(spikes.times[j])) finite = false;
    if (satHit) flag |= 2;
    if (!finite) {
      flags[i] = flag | 1;
      values.fill(NaN, out, out + NS);
      continue;
    }
    flags[i] = flag;
    const restMean = sumR / kOn;
    const stimMean = sumS / (kOff - kOn);
    values[out + 6] = stimMean;
    values[out + 7] = Math.sqrt(Math.max(0, sumS2 / (kOff - kOn) - stimMean * stimMean));
    values[out + 8] = restMean;
    values[out + 9] = Math.sqrt(Math.max(0, sumR2 / kOn - restMean * restMean));

    // Spikes inside the stimulus window [onset, offset).
    let first = s0;
    while (first < s1 && spikes.times[first] < onset) first++;
    let last = first;
    while (last < s1 && spikes.times[last] < offset) last++;
    const count = last - first;
    values[out + 0] = count;
    values[out + 3] = count > 0 ? spikes.times[first] - onset : duration;
    let early = 0;
    for (let j = first; j < last; j++) if (spikes.times[j] < half) early++;
    values[out + 5] = (count - early + 1) / (early + 1);
    if (count >= 2) {
      const m = count - 1;
      let sum = 0;
      let sum2 = 0;
      let adapt = 0;
      let prevIsi = 0;
      for (let j = first + 1; j < last; j++) {
        const isi = spikes.times[j] - spikes.times[j - 1];
        sum += isi;
        sum2 += isi * isi;
        if (j > first + 1 && isi + prevIsi > 0) adapt += (isi - prevIsi) / (isi + prevIsi);
        prevIsi = isi;
      }
      const mean = sum / m;
      values[out + 1] = mean;
      values[out + 2] = mean > 0 ? Math.sqrt(Math.max(0, sum2 / m - mean * mean)) / mean : 0;
      values[out + 4] = m >= 2 ? adapt / (m - 1) : 0;
    } else {
      values[out + 1] = duration;
      values[out + 2] = 0;
      values[out + 4] = 0;
    }

    // Troughs and peaks around each counted spike, as depths/heights relative to the rest mean.
    if (count > 0) {
      let fastSum = 0;
      let slowSum = 0;
      let peakSum = 0;
      for (let j = first; j < last; j++) {
        const t = spikes.times[j];
        const tNext = j + 1 < s1 ? spikes.times[j + 1] : offset;
        const kSpike = Math.min(samples - 1, sampleAt(t));
        const kFastEnd = Math.min(samples, Math.max(kSpike + 1, sampleAt(Math.min(t + fastWindow, tNext))));
        const kNext = Math.min(samples, Math.max(kFastEnd, sampleAt(tNext)));
        let fastMin = Infinity;
        for (let k = kSpike; k < kFastEnd; k++) if (data[base + k] < fastMin) fastMin = data[base + k];
        let slowMin = Infinity;
        for (let k = kFastEnd; k < kNext; k++) if (data[base + k] < slowMin) slowMin = data[base + k];
        if (slowMin === Infinity) slowMin = fastMin;
        const kPeak0 = Math.max(0, sampleAt(t - peakWindow));
        const kPeak1 = Math.min(samples - 1, Math.max(kPeak0, sampleAt(t + peakWindow)));
        let peak = -Infinity;
        for (let k = kPeak0; k <= kPeak1; k++) if (data[base + k] > peak) peak = data[base + k];
        fastSum += restMean - fastMin;
        slowSum += restMean - slowMin;
        peakSum += peak - restMean;
      }
      values[out + 10] = fastSum / count;
      values[out + 11] = slowSum / count;
      values[out + 12] = peakSum / count;
    }
    // With no spike the trough depths and amplitude stay 0.
  }
  return { names: SUMMARY_NAMES, n, values, flags };
}

/**
 * Throw an Error naming each problem when a single observation's statistics cannot be used for
 * inference (non-finite samples or spike times, saturated readout). `what` names the observation.
 */
export function assertUsableSummaries(result: SummaryResult, what: string): void {
  for (let i = 0; i < result.n; i++) {
    const f = result.flags[i];
    const row = result.n > 1 ? ` (row ${i})` : '';
    if (f & TRACE_FLAGS.nonFinite)
      throw new Error(`${what}${row}: the trace or its spike times contain NaN or infinite values`);
    if (f & TRACE_FLAGS.saturated) {
      throw new Error(
        `${what}${row}: the readout saturates (samples at the ADC limits); statistics would be biased`,
      );
    }
  }
}
