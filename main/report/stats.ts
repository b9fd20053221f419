/**
 * Per-parameter posterior summaries, computed in double precision with NumPy's conventions so a
 * lab can reproduce them: `std` is the population standard deviation (`np.std`, ddof = 0) and
 * quantiles interpolate linearly between order statistics (`np.quantile`, method 'linear').
 */

/** Summary of one parameter's marginal posterior. */
export interface MarginalSummary {
  mean: number;
  std: number;
  median: number;
  q025: number;
  q05: number;
  q95: number;
  q975: number;
}

/** Quantile `q` (0..1) of ascending-sorted values, linear interpolation (NumPy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Column `col` of a row-major n x cols matrix, as a Float64Array. */
export function column(data: ArrayLike<number>, cols: number, col: number): Float64Array {
  const n = Math.floor(data.length / cols);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * cols + col];
  return out;
}

/** Summary of values (any order); NaN fields for an empty input. */
export function summarize(values: ArrayLike<number>): MarginalSummary {
  const v = Float64Array.from(values);
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - mean) ** 2;
  v.sort();
  return {
    mean: n ? mean : NaN,
    std: n ? Math.sqrt(ss / n) : NaN,
    median: quantileSorted(v, 0.5),
    q025: quantileSorted(v, 0.025),
    q05: quantileSorted(v, 0.05),
    q95: quantileSorted(v, 0.95),
    q975: quantileSorted(v, 0.975),
  };
}

/** One summary per column of a row-major n x cols sample matrix. */
export function summarizeColumns(samples: ArrayLike<number>, cols: number): MarginalSummary[] {
  return Array.from({ length: cols }, (_, c) => summarize(column(samples, cols, c)));
}

/** Minimum and maximum of finite values, or undefined when there are none. */
export function finiteRange(values: ArrayLike<number>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x)) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * Central interval of Binomial(n, p) holding at least `mass` of the probability (exact, by
 * summing the pmf in log space): the band an SBC rank-histogram bin stays in when ranks are uniform.
 */
export function binomialInterval(n: number, p: number, mass = 0.99): [number, number] {
  const tail = (1 - mass) / 2;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logC = 0; // log C(n, k), updated incrementally
  let cdf = 0;
  let lo = -1;
  let hi = n;
  for (let k = 0; k <= n; k++) {
    if (k > 0) logC += Math.log(n - k + 1) - Math.log(k);
    cdf += Math.exp(logC + k * logP + (n - k) * logQ);
    if (lo < 0 && cdf > tail) lo = k;
    if (cdf >= 1 - tail) {
      hi = k;
      break;
    }
  }
  return [Math.max(lo, 0), hi];
}
