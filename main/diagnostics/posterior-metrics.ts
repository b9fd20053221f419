/**
 * Per-observation posterior metrics: marginal moments and quantiles, posterior contraction
 * (1 - posterior variance / prior variance), and, when the true parameters are known (held-out
 * simulations), the error of the posterior mean and whether the truth lies in the central 90%
 * interval.
 */
import { columnMoments, sortedColumn, sortedQuantile } from './stats.ts';

/** Marginal summary of posterior samples, one entry per parameter. */
export interface PosteriorSummary {
  mean: number[];
  std: number[];
  q05: number[];
  q50: number[];
  q95: number[];
}

/** Summarize `n` samples of `dim` parameters (row-major), starting at row `offset / dim`. */
export function summarizeSamples(
  samples: Float32Array,
  n: number,
  dim: number,
  offset = 0,
): PosteriorSummary {
  if (offset + n * dim > samples.length) {
    throw new RangeError(
      `summarizeSamples: need ${n} x ${dim} values from offset ${offset}, array has ${samples.length}`,
    );
  }
  const { mean, variance } = columnMoments(samples, n, dim, offset);
  const out: PosteriorSummary = {
    mean: [...mean],
    std: [...variance].map(Math.sqrt),
    q05: [],
    q50: [],
    q95: [],
  };
  for (let d = 0; d < dim; d++) {
    const col = sortedColumn(samples, n, dim, d, offset);
    out.q05.push(sortedQuantile(col, 0.05));
    out.q50.push(sortedQuantile(col, 0.5));
    out.q95.push(sortedQuantile(col, 0.95));
  }
  return out;
}

/** Variance of a uniform distribution on each interval [low, high]: (high - low)^2 / 12. */
export function boxVariance(bounds: { low: readonly number[]; high: readonly number[] }): number[] {
  return bounds.low.map((lo, d) => (bounds.high[d] - lo) ** 2 / 12);
}

/** Posterior contraction per parameter: 1 - posterior variance / prior variance (1: pinned down, 0: nothing learned). */
export function contraction(posteriorStd: readonly number[], priorVariance: readonly number[]): number[] {
  if (posteriorStd.length !== priorVariance.length) {
    throw new RangeError(
      `contraction: ${posteriorStd.length} posterior stds but ${priorVariance.length} prior variances`,
    );
  }
  return posteriorStd.map((s, d) => {
    if (!(priorVariance[d] > 0))
      throw new RangeError(`contraction: prior variance of parameter ${d} must be > 0`);
    return 1 - (s * s) / priorVariance[d];
  });
}

/** How the posterior relates to known true parameters. */
export interface TruthCheck {
  /** Posterior mean minus true value. */
  error: number[];
  /** error / prior standard deviation. */
  normalizedError: number[];
  /** error / posterior standard deviation. */
  zScore: number[];
  /** The true value lies in the central 90% interval [q05, q95]. */
  inside90: boolean[];
}

/** Compare a posterior summary with the true parameters. */
export function checkTruth(
  summary: PosteriorSummary,
  thetaTrue: ArrayLike<number>,
  priorVariance: readonly number[],
): TruthCheck {
  const dim = summary.mean.length;
  if (thetaTrue.length !== dim)
    throw new RangeError(`checkTruth: expected ${dim} true values, got ${thetaTrue.length}`);
  const error = summary.mean.map((m, d) => m - thetaTrue[d]);
  return {
    error,
    normalizedError: error.map((e, d) => e / Math.sqrt(priorVariance[d])),
    zScore: error.map((e, d) =>
      summary.std[d] > 0 ? e / summary.std[d] : e === 0 ? 0 : Infinity * Math.sign(e),
    ),
    inside90: summary.q05.map((lo, d) => thetaTrue[d] >= lo && thetaTrue[d] <= summary.q95[d]),
  };
}
