/**
 * Posterior-predictive metrics: how well traces simulated from posterior samples reproduce an
 * observed recording, as spike-count error, trace error (root-mean-square difference in trace
 * units) and a per-statistic agreement table.
 */
import { sortedQuantile } from './stats.ts';

/** Spike-count agreement of M predictive simulations with the observation. */
export interface SpikeCountError {
  /** Mean over predictive simulations of |count - observed|. */
  meanAbsolute: number;
  /** Mean predictive count minus observed count. */
  bias: number;
  predictiveMean: number;
  predictiveStd: number;
}

/** Compare predictive spike counts with the observed count. */
export function spikeCountError(predicted: ArrayLike<number>, observed: number): SpikeCountError {
  const m = predicted.length;
  if (m === 0) throw new RangeError('spikeCountError: no predictive simulations');
  let s = 0;
  let s2 = 0;
  let abs = 0;
  for (let i = 0; i < m; i++) {
    s += predicted[i];
    s2 += predicted[i] * predicted[i];
    abs += Math.abs(predicted[i] - observed);
  }
  const mean = s / m;
  return {
    meanAbsolute: abs / m,
    bias: mean - observed,
    predictiveMean: mean,
    predictiveStd: Math.sqrt(Math.max(0, s2 / m - mean * mean)),
  };
}

/** Trace agreement of M predictive simulations with the observation. */
export interface TraceError {
  /** Mean over predictive traces of the RMS difference to the observed trace (trace units). */
  meanRmse: number;
  /** RMS difference between the pointwise predictive mean trace and the observed trace. */
  meanTraceRmse: number;
  /** Per predictive trace RMS difference (NaN for traces with non-finite samples, which are skipped). */
  rmse: Float64Array;
  /** Number of predictive traces used. */
  used: number;
}

/**
 * RMS differences between each of `m` predictive traces (row-major, `samples` each, optionally only
 * the sample range [from, to)) and the observed trace.
 */
export function traceError(
  predicted: Float32Array | Int16Array,
  m: number,
  observed: Float32Array | Int16Array,
  range: { from?: number; to?: number } = {},
): TraceError {
  const samples = observed.length;
  if (predicted.length !== m * samples) {
    throw new RangeError(
      `traceError: expected ${m} x ${samples} predictive samples, got ${predicted.length}`,
    );
  }
  const from = range.from ?? 0;
  const to = range.to ?? samples;
  if (!(from >= 0 && to <= samples && to > from))
    throw new RangeError(`traceError: bad sample range [${from}, ${to}) for ${samples} samples`);
  const len = to - from;
  const rmse = new Float64Array(m);
  const meanTrace = new Float64Array(len);
  let used = 0;
  let sum = 0;
  for (let i = 0; i < m; i++) {
    let e = 0;
    const base = i * samples;
    for (let k = from; k < to; k++) {
      const d = predicted[base + k] - observed[k];
      e += d * d;
    }
    if (!Number.isFinite(e)) {
      rmse[i] = NaN;
      continue;
    }
    rmse[i] = Math.sqrt(e / len);
    sum += rmse[i];
    used++;
    for (let k = from; k < to; k++) meanTrace[k - from] += predicted[base + k];
  }
  if (used === 0) throw new RangeError('traceError: no predictive trace is finite');
  let e = 0;
  for (let k = from; k < to; k++) {
    const d = meanTrace[k - from] / used - observed[k];
    e += d * d;
  }
  return { meanRmse: sum / used, meanTraceRmse: Math.sqrt(e / len), rmse, used };
}

/** One row of the summary agreement table. */
export interface SummaryAgreementRow {
  name: string;
  observed: number;
  mean: number;
  std: number;
  q05: number;
  q50: number;
  q95: number;
  /** (observed - mean) / std (0 when both agree exactly, +-Infinity when std is 0 and they differ). */
  z: number;
  /** Observed value inside the central 90% predictive interval. */
  inside90: boolean;
}

/** Compare each statistic of M predictive simulations (M x S row-major; rows with NaN skipped) with the observed one. */
export function summaryAgreement(
  predicted: Float32Array,
  observed: ArrayLike<number>,
  names: readonly string[],
): SummaryAgreementRow[] {
  const s = names.length;
  if (observed.length !== s)
    throw new RangeError(`summaryAgreement: ${names.length} names but ${observed.length} observed values`);
  if (predicted.length % s !== 0)
    throw new RangeError(`summaryAgreement: ${predicted.length} values is not a multiple of ${s} statistics`);
  const m = predicted.length / s;
  const rows: SummaryAgreementRow[] = [];
  const col = new Float64Array(m);
  for (let j = 0; j < s; j++) {
    let c = 0;
    for (let i = 0; i < m; i++) {
      const v = predicted[i * s + j];
      if (Number.isFinite(v)) col[c++] = v;
    }
    const vals = col.subarray(0, c).sort();
    let mean = 0;
    for (const v of vals) mean += v;
    mean /= c || 1;
    let v2 = 0;
    for (const v of vals) v2 += (v - mean) ** 2;
    const std = Math.sqrt(v2 / (c || 1));
    const obs = observed[j];
    const diff = obs - mean;
    const q05 = sortedQuantile(vals, 0.05);
    const q95 = sortedQuantile(vals, 0.95);
    rows.push({
      name: names[j],
      observed: obs,
      mean: c ? mean : NaN,
      std: c ? std : NaN,
      q05,
      q50: sortedQuantile(vals, 0.5),
      q95,
      z: std > 0 ? diff / std : diff === 0 ? 0 : Math.sign(diff) * Infinity,
      inside90: obs >= q05 && obs <= q95,
    });
  }
  return rows;
}
