/**
 * Simulation-based calibration (Talts et al. 2018): for held-out pairs (theta*, x) drawn from the
 * prior and the simulator, the rank of each theta*_d among posterior samples given x is uniform on
 * 0..N when the posterior is calibrated. `runSbc` computes the ranks, `checkSbc` judges them with a
 * chi-square test on a rank histogram and a Kolmogorov-Smirnov test per parameter.
 *
 * @example
 * const sbc = await runSbc(posterior, heldOut, { nSamples: 200 });
 * const verdict = checkSbc(sbc); // verdict.pass, verdict.parameters[d].chi2P
 */
import { chiSquareSurvival, ksSurvival, ksUniformStatistic } from './stats.ts';
import type { BatchedPosterior, DiagnosticsRunOptions, HeldOut } from './types.ts';

/** SBC ranks: `ranks[i * thetaDim + d]` is in 0..nSamples. */
export interface SbcResult {
  nObs: number;
  nSamples: number;
  thetaDim: number;
  ranks: Int32Array;
}

/**
 * Ranks of the true values among posterior samples. `samples` is nObs x nSamples x dim row-major,
 * `thetaTrue` nObs x dim. The rank counts samples strictly below the true value.
 */
export function sbcRanks(
  samples: Float32Array,
  thetaTrue: Float32Array,
  nObs: number,
  nSamples: number,
  dim: number,
): Int32Array {
  if (samples.length !== nObs * nSamples * dim) {
    throw new RangeError(
      `sbcRanks: samples must be ${nObs} x ${nSamples} x ${dim}, got ${samples.length} values`,
    );
  }
  if (thetaTrue.length !== nObs * dim)
    throw new RangeError(`sbcRanks: theta must be ${nObs} x ${dim}, got ${thetaTrue.length} values`);
  const ranks = new Int32Array(nObs * dim);
  for (let i = 0; i < nObs; i++) {
    const base = i * nSamples * dim;
    for (let d = 0; d < dim; d++) {
      const t = thetaTrue[i * dim + d];
      let r = 0;
      for (let s = 0; s < nSamples; s++) if (samples[base + s * dim + d] < t) r++;
      ranks[i * dim + d] = r;
    }
  }
  return ranks;
}

/** Options of {@link runSbc}. */
export interface SbcOptions {
  /** Posterior samples per held-out observation. Default 200. */
  nSamples?: number;
  /** Observations per posterior call. Default 64. */
  batch?: number;
}

/**
 * Draw posterior samples for every held-out observation and rank the true parameters: the SBC part
 * of `runCalibration`, without the log-density passes.
 */
export async function runSbc(
  post: BatchedPosterior,
  data: HeldOut,
  opts: SbcOptions = {},
  run: DiagnosticsRunOptions = {},
): Promise<SbcResult> {
  const { runCalibration } = await import('./coverage.ts');
  return (await runCalibration(post, data, { nSamples: opts.nSamples, batch: opts.batch, hpd: false }, run))
    .sbc;
}

/** Uniformity tests of one parameter's ranks. */
export interface SbcParameterCheck {
  /** Rank histogram over `bins` equal-width bins of 0..nSamples. */
  histogram: number[];
  chi2: number;
  chi2P: number;
  /** KS distance between (rank + 0.5) / (nSamples + 1) and U(0, 1). */
  ks: number;
  ksP: number;
  /** Both p-values above alpha / thetaDim (Bonferroni over parameters). */
  uniform: boolean;
}

/** The verdict of {@link checkSbc}. */
export interface SbcCheck {
  bins: number;
  alpha: number;
  parameters: SbcParameterCheck[];
  /** Every parameter passes. */
  pass: boolean;
}

/**
 * Judge SBC ranks: per parameter a chi-square test on a histogram with `bins` bins (default: as many
 * as keep about 10 expected counts per bin, between 2 and 20) and a KS test, at level `alpha`
 * (default 0.05) corrected for the number of parameters.
 */
export function checkSbc(result: SbcResult, opts: { bins?: number; alpha?: number } = {}): SbcCheck {
  const { nObs, nSamples, thetaDim, ranks } = result;
  const alpha = opts.alpha ?? 0.05;
  const bins = opts.bins ?? Math.max(2, Math.min(20, Math.floor(nObs / 10), nSamples + 1));
  if (!Number.isInteger(bins) || bins < 2 || bins > nSamples + 1) {
    throw new RangeError(`checkSbc: bins must be an integer in 2..${nSamples + 1}, got ${bins}`);
  }
  const parameters: SbcParameterCheck[] = [];
  for (let d = 0; d < thetaDim; d++) {
    // Rank r goes to bin floor(r * bins / (L + 1)); under uniformity each rank has probability 1 / (L + 1).
    const hist = new Array<number>(bins).fill(0);
    const expected = new Array<number>(bins).fill(0);
    const binOf = (r: number): number => Math.floor((r * bins) / (nSamples + 1));
    for (let r = 0; r <= nSamples; r++) expected[binOf(r)] += nObs / (nSamples + 1);
    const u = new Float64Array(nObs);
    for (let i = 0; i < nObs; i++) {
      const r = ranks[i * thetaDim + d];
      hist[binOf(r)]++;
      u[i] = (r + 0.5) / (nSamples + 1);
    }
    let chi2 = 0;
    for (let b = 0; b < bins; b++) chi2 += (hist[b] - expected[b]) ** 2 / expected[b];
    const chi2P = chiSquareSurvival(chi2, bins - 1);
    const ks = ksUniformStatistic(u);
    const ksP = ksSurvival(ks, nObs);
    const level = alpha / thetaDim;
    parameters.push({ histogram: hist, chi2, chi2P, ks, ksP, uniform: chi2P > level && ksP > level });
  }
  return { bins, alpha, parameters, pass: parameters.every((p) => p.uniform) };
}
