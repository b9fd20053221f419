/**
 * Expected coverage over held-out simulations: the fraction of true parameters that fall inside the
 * posterior's credible region at each credibility level. A calibrated posterior covers the truth
 * in a fraction alpha of cases at level alpha; the coverage error is the largest |coverage - alpha|.
 *
 * Two kinds of region (docs/pipeline.md):
 * - `hpd`: highest-posterior-density regions of the joint posterior, found with the estimator's
 *   log-density: theta* lies in the HPD region of level alpha iff the fraction of posterior samples
 *   with a higher density than theta* is at most alpha.
 * - `marginal`: per parameter, central intervals of the marginal posterior (quantiles
 *   (1-alpha)/2 and (1+alpha)/2 of the samples).
 *
 * `runCalibration` draws the posterior samples once per held-out observation and gives SBC ranks,
 * both coverage curves and the mean held-out log-density together.
 */
import { sbcRanks, type SbcResult } from './sbc.ts';
import {
  checkHeldOut,
  throwIfAborted,
  type BatchedPosterior,
  type DiagnosticsRunOptions,
  type HeldOut,
} from './types.ts';

/** Credibility levels of the coverage curves: 0.05, 0.10, ..., 0.95. */
export const DEFAULT_CREDIBILITY_LEVELS: readonly number[] = Array.from(
  { length: 19 },
  (_, i) => Math.round((i + 1) * 5) / 100,
);

/** Coverage at each credibility level, with its binomial standard error and the largest deviation. */
export interface CoverageCurve {
  levels: number[];
  coverage: number[];
  /** sqrt(alpha (1 - alpha) / nObs): the spread expected from a calibrated posterior. */
  standardError: number[];
  /** max |coverage - alpha| over the levels. */
  maxError: number;
  /** Signed coverage - alpha at the level of largest deviation (negative: overconfident). */
  worstSigned: number;
  nObs: number;
}

/**
 * Smallest HPD level containing theta*, per observation: the fraction of the N sample log-densities
 * above the true parameter's log-density (ties count half). `sampleLogProb` is nObs x N.
 */
export function hpdLevels(sampleLogProb: Float32Array, trueLogProb: Float32Array, n: number): Float64Array {
  const nObs = trueLogProb.length;
  if (sampleLogProb.length !== nObs * n)
    throw new RangeError(`hpdLevels: expected ${nObs} x ${n} log-densities, got ${sampleLogProb.length}`);
  const out = new Float64Array(nObs);
  for (let i = 0; i < nObs; i++) {
    const t = trueLogProb[i];
    let above = 0;
    for (let s = 0; s < n; s++) {
      const v = sampleLogProb[i * n + s];
      if (v > t) above++;
      else if (v === t) above += 0.5;
    }
    out[i] = above / n;
  }
  return out;
}

/** Smallest central-interval level containing theta*_d, from SBC ranks: |2 r / N - 1|. Result nObs x dim. */
export function marginalLevels(sbc: SbcResult): Float64Array {
  const out = new Float64Array(sbc.ranks.length);
  for (let k = 0; k < out.length; k++) out[k] = Math.abs((2 * sbc.ranks[k]) / sbc.nSamples - 1);
  return out;
}

/**
 * Coverage curve from per-observation levels (`levels[i]` is the smallest credibility level whose
 * region holds the truth). Pass `stride`/`offset` to read one column of an nObs x dim array.
 */
export function coverageCurve(
  levels: ArrayLike<number>,
  grid: readonly number[] = DEFAULT_CREDIBILITY_LEVELS,
  stride = 1,
  offset = 0,
): CoverageCurve {
  const nObs = Math.floor((levels.length - offset + stride - 1) / stride);
  if (nObs < 1) throw new RangeError('coverageCurve: no observations');
  const coverage: number[] = [];
  const standardError: number[] = [];
  let maxError = 0;
  let worstSigned = 0;
  for (const alpha of grid) {
    if (!(alpha > 0 && alpha < 1))
      throw new RangeError(`coverageCurve: credibility levels must lie in (0, 1), got ${alpha}`);
    let c = 0;
    for (let i = 0; i < nObs; i++) if (levels[offset + i * stride] <= alpha) c++;
    const cov = c / nObs;
    coverage.push(cov);
    standardError.push(Math.sqrt((alpha * (1 - alpha)) / nObs));
    if (Math.abs(cov - alpha) > maxError) {
      maxError = Math.abs(cov - alpha);
      worstSigned = cov - alpha;
    }
  }
  return { levels: [...grid], coverage, standardError, maxError, worstSigned, nObs };
}

/** Everything `runCalibration` measures for one estimator. */
export interface CalibrationResult {
  sbc: SbcResult;
  /** Joint HPD coverage (null when `hpd: false`). */
  hpd: CoverageCurve | null;
  /** Marginal central-interval coverage per parameter. */
  marginal: CoverageCurve[];
  /** Mean over held-out pairs of log q(theta* | x) (null when `hpd: false`). */
  meanLogProb: number | null;
  /** Per-observation HPD levels (for plots), or null. */
  hpdLevels: Float64Array | null;
}

/** Options of {@link runCalibration}. */
export interface CalibrationOptions {
  /** Posterior samples per held-out observation. Default 200. */
  nSamples?: number;
  /** Observations per posterior call. Default 64. */
  batch?: number;
  /** Also compute HPD coverage and held-out log-density through `logProb`. Default true. */
  hpd?: boolean;
  levels?: readonly number[];
}

/** SBC ranks, HPD and marginal coverage curves and held-out log-density from one pass of sampling. */
export async function runCalibration(
  post: BatchedPosterior,
  data: HeldOut,
  opts: CalibrationOptions = {},
  run: DiagnosticsRunOptions = {},
): Promise<CalibrationResult> {
  checkHeldOut(data, post);
  const n = opts.nSamples ?? 200;
  const batch = opts.batch ?? 64;
  const withHpd = opts.hpd ?? true;
  const dim = post.thetaDim;
  const ranks = new Int32Array(data.n * dim);
  const levels = new Float64Array(data.n);
  let sumLogProb = 0;
  for (let start = 0; start < data.n; start += batch) {
    throwIfAborted(run.signal);
    const b = Math.min(batch, data.n - start);
    const x = data.x.subarray(start * post.xDim, (start + b) * post.xDim);
    const theta = data.theta.subarray(start * dim, (start + b) * dim);
    const samples = await post.sample(x, n);
    ranks.set(sbcRanks(samples, theta, b, n, dim), start * dim);
    if (withHpd) {
      const lpSamples = await post.logProb(samples, x);
      const lpTrue = await post.logProb(theta, x);
      levels.set(hpdLevels(lpSamples, lpTrue, n), start);
      for (let i = 0; i < b; i++) sumLogProb += lpTrue[i];
    }
    run.onProgress?.({ done: start + b, total: data.n });
  }
  const sbc: SbcResult = { nObs: data.n, nSamples: n, thetaDim: dim, ranks };
  const marg = marginalLevels(sbc);
  const grid = opts.levels ?? DEFAULT_CREDIBILITY_LEVELS;
  return {
    sbc,
    hpd: withHpd ? coverageCurve(levels, grid) : null,
    marginal: Array.from({ length: dim }, (_, d) => coverageCurve(marg, grid, dim, d)),
    meanLogProb: withHpd ? sumLogProb / data.n : null,
    hpdLevels: withHpd ? levels : null,
  };
}
