/**
 * Small statistics toolkit for the diagnostics: chi-square and Kolmogorov-Smirnov tail
 * probabilities, quantiles, and per-column moments of row-major sample arrays.
 */

/** log Gamma(x) for x > 0: recursion up to x >= 10, then the Stirling series (absolute error below 1e-13). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  let shift = 0;
  while (x < 10) {
    shift += Math.log(x);
    x += 1;
  }
  const z2 = 1 / (x * x);
  const series = (1 / x) * (1 / 12 - z2 * (1 / 360 - z2 * (1 / 1260 - z2 * (1 / 1680 - z2 / 1188))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0) throw new RangeError(`gammaQ: need a > 0 and x >= 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  const lg = logGamma(a);
  if (x < a + 1) {
    // Series for P(a, x).
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - lg));
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  let b = x + 1 - a;
  let c = 1e300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + a * Math.log(x) - lg) * h;
}

/** P(X >= x) for X chi-square distributed with `dof` degrees of freedom. */
export function chiSquareSurvival(x: number, dof: number): number {
  return gammaQ(dof / 2, Math.max(0, x / 2));
}

/** Asymptotic P(D >= d) of the one-sample Kolmogorov-Smirnov statistic for n points (Stephens' correction). */
export function ksSurvival(d: number, n: number): number {
  const sn = Math.sqrt(n);
  const lambda = (sn + 0.12 + 0.11 / sn) * d;
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** Kolmogorov-Smirnov distance between the empirical distribution of `u` (values in [0, 1]) and U(0, 1). */
export function ksUniformStatistic(u: ArrayLike<number>): number {
  const sorted = Float64Array.from(u).sort();
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    d = Math.max(d, (i + 1) / n - sorted[i], sorted[i] - i / n);
  }
  return d;
}

/** Quantile `q` in [0, 1] of values already sorted ascending (linear interpolation between order statistics). */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** Mean and (population) variance of each column of an n x dim row-major array. */
export function columnMoments(
  data: ArrayLike<number>,
  n: number,
  dim: number,
  offset = 0,
): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(dim);
  const variance = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += data[offset + i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= n;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const e = data[offset + i * dim + d] - mean[d];
      variance[d] += e * e;
    }
  }
  for (let d = 0; d < dim; d++) variance[d] /= n;
  return { mean, variance };
}

/** Sorted copy of column `d` of rows [offset/dim, offset/dim + n) of a row-major array. */
export function sortedColumn(
  data: ArrayLike<number>,
  n: number,
  dim: number,
  d: number,
  offset = 0,
): Float64Array {
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) col[i] = data[offset + i * dim + d];
  return col.sort();
}
