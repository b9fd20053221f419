/**
 * The paper's whole pipeline in one call: restrict the prior, simulate the training set from the
 * restricted prior, train the handcrafted-summary and learned-summary estimators with the same
 * density estimator and budget, calibrate both on held-out simulations, compare them on held-out
 * observations (posterior width, contraction, truth coverage, posterior-predictive errors) and
 * infer a whole emulated chip. Results are optionally stored in a project (see persist.ts).
 *
 * @example
 * const result = await runPipeline(createEmulator(), { sims: 20_000 }, { onProgress: (p) => log(p), signal });
 * console.log(formatComparisonTable(result));
 */
import type { SimulationBackend } from '../emulator/backend.ts';
import { Rng } from '../sbi/rng.ts';
import { runCalibration, type CalibrationResult } from '../diagnostics/coverage.ts';
import { checkSbc, type SbcCheck } from '../diagnostics/sbc.ts';
import { throwIfAborted } from '../diagnostics/types.ts';
import { inferChip, type ChipMap } from './chip.ts';
import { compareOnObservation, type ObservationComparison } from './compare.ts';
import {
  buildTrainingSet,
  heldOutFeatures,
  releasePosteriors,
  type EstimatorCheckpoints,
  trainEstimator,
  type EstimatorTrainingOptions,
  type TrainedEstimator,
} from './estimators.ts';
import {
  defaultExperiment,
  simulateAndSummarize,
  type PipelineExperiment,
  type SimulatedBatch,
} from './experiment.ts';
import type { PipelineRun } from './progress.ts';
import { DEFAULT_REGIME, labelRegime, regimeFraction, type RegimeOptions } from './regime.ts';
import { restrictPrior, sampleRestricted, type RestrictionResult } from './restriction.ts';
import type { StoredRestriction } from './stored-restriction.ts';
import { DEFAULT_PIPELINE_SIMS } from './defaults.ts';

export { DEFAULT_PIPELINE_SIMS };

/**
 * Held-out observations compared in detail by default (see PipelineOptions.compareObservations):
 * 300. With 100, the standard error of the paired trace-error difference (0.4-0.7 LSB) was as
 * large as the difference itself; the comparison costs about 1.5 s per 100 observations.
 */
export const DEFAULT_COMPARE_OBSERVATIONS = 300;

/** Budget and settings of a pipeline run (defaults in parentheses). */
export interface PipelineOptions {
  experiment?: PipelineExperiment;
  /** Simulations drawn from the restricted prior for training (DEFAULT_PIPELINE_SIMS, 200,000). */
  sims?: number;
  /** Box-prior simulations for the restriction classifier (2.5 x sims, at most 50,000, at least 2,000). */
  initialSims?: number;
  /**
   * Held-out simulations (in the regime) for calibration (2,000): the binomial spread of a
   * calibrated coverage estimate is then at most 0.011, well below the 0.05 coverage-error target
   * (0.022 with 500).
   */
  heldOut?: number;
  /**
   * Held-out observations compared in detail, with posterior-predictive simulations (300). The
   * estimators' differences in trace error are about a tenth of the trace error's spread between
   * observations, so with 20 (the earlier default) they were within the standard error.
   */
  compareObservations?: number;
  /** Posterior samples per compared observation (1000) and predictive simulations (50). */
  nSamples?: number;
  nPredictive?: number;
  /** Posterior samples per held-out simulation for SBC and coverage (200). */
  calibrationSamples?: number;
  regime?: RegimeOptions;
  falseNegativeRate?: number;
  training?: EstimatorTrainingOptions;
  /**
   * Points of the learned-summary input (the experiment's samples, i.e. the full-resolution trace;
   * fewer means bin averages). 200-point bin averages (5 samples each, the default until
   * 2026-11-29) lost what the spike shapes and times carry: at 240,000 simulations the learned
   * estimator's held-out log-probability was -8.97 with them and -8.13 at full resolution.
   */
  learnedLength?: number;
  /** Posterior samples per circuit in whole-chip inference (1000); 0 skips it. */
  chipSamples?: number;
  seed?: number;
  /**
   * A restriction trained before (the Simulate view's step): used instead of training one. Its box
   * must be the experiment's box; its regime is the run's regime unless `regime` is given.
   */
  restriction?: StoredRestriction;
  /** Save training checkpoints here (and continue from them when `resume` is set). */
  checkpoints?: EstimatorCheckpoints;
}

/** What one estimator achieved. */
export interface EstimatorReport {
  kind: 'handcrafted' | 'learned';
  trainingSeconds: number;
  epochs: number[];
  bestValidationLoss: number[];
  calibration: CalibrationResult;
  sbc: SbcCheck;
  /** Mean over compared observations, per parameter: posterior std / prior std. */
  relativeWidth: number[];
  /** Mean over compared observations, per parameter: 1 - posterior var / prior var. */
  contraction: number[];
  /** Fraction of compared (observation, parameter) pairs whose truth lies in the central 90% interval. */
  truthCoverage90: number;
  /** Root mean square over compared observations of (posterior mean - truth) / prior std, per parameter. */
  normalizedRmse: number[];
  /** Means over compared observations. */
  spikeCountError: number;
  traceRmse: number;
  /** Fraction of (observation, statistic) pairs with the observed statistic inside the 90% predictive interval. */
  summaryAgreement90: number;
  chip: ChipMap | null;
}

/** Mean of a per-observation quantity with its standard error (NaN for fewer than two observations). */
export interface MeanWithError {
  mean: number;
  standardError: number;
  n: number;
}

/**
 * The second estimator minus the first (learned minus handcrafted), observation by observation:
 * both saw the same compared observations, so the paired differences' standard error says whether
 * a difference in the table is larger than the observation-to-observation spread.
 */
export interface PairedDifferences {
  /** Mean contraction over the parameters. */
  contraction: MeanWithError;
  traceRmse: MeanWithError;
  spikeCountError: MeanWithError;
}

/** Everything a pipeline run produced. */
export interface PipelineResult {
  experiment: PipelineExperiment;
  /** Trained in this run, or the stored restriction the run used (it has a `classifierId`). */
  restriction: RestrictionResult | StoredRestriction;
  /** Fraction of restricted-prior training simulations inside the regime (measured). */
  usefulAfter: number;
  trainingRows: number;
  heldOutRows: number;
  estimators: TrainedEstimator[];
  reports: EstimatorReport[];
  comparisons: ObservationComparison[];
  /** Learned minus handcrafted over the compared observations; null without two estimators or comparisons. */
  differences: PairedDifferences | null;
  /** Every restricted-prior simulation: rows 0..sims-1 train, held-out rows are listed in `heldOutIndices`. */
  simulations: SimulatedBatch;
  heldOutIndices: number[];
  seconds: Record<string, number>;
}

function mean(a: number[]): number {
  return a.reduce((s, v) => s + v, 0) / (a.length || 1);
}

/** Mean and standard error (sample standard deviation / sqrt(n)) of `values`. */
export function meanWithError(values: readonly number[]): MeanWithError {
  const n = values.length;
  const m = n ? values.reduce((s, v) => s + v, 0) / n : NaN;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - m) ** 2, 0) / (n - 1) : NaN;
  return { mean: m, standardError: Math.sqrt(variance / n), n };
}

/** Estimator `b` minus estimator `a` on each compared observation (see PairedDifferences). */
export function pairedDifferences(
  comparisons: readonly ObservationComparison[],
  a: number,
  b: number,
): PairedDifferences | null {
  if (comparisons.length === 0 || comparisons.some((c) => c.estimators.length <= Math.max(a, b))) return null;
  const diff = (f: (o: ObservationComparison['estimators'][number]) => number) =>
    meanWithError(comparisons.map((c) => f(c.estimators[b]) - f(c.estimators[a])));
  return {
    contraction: diff((o) => mean(o.contraction)),
    traceRmse: diff((o) => o.predictive.trace.meanRmse),
    spikeCountError: diff((o) => o.predictive.spikeCount.meanAbsolute),
  };
}

/** Run the whole pipeline on a backend (the emulator for the demo). */
export async function runPipeline(
  backend: SimulationBackend,
  opts: PipelineOptions = {},
  run: PipelineRun = {},
): Promise<PipelineResult> {
  const exp = opts.experiment ?? defaultExperiment();
  const sims = opts.sims ?? DEFAULT_PIPELINE_SIMS;
  if (!Number.isInteger(sims) || sims < 200)
    throw new RangeError(`sims must be an integer >= 200, got ${sims}`);
  const seed = opts.seed ?? 1;
  const stored = opts.restriction;
  const regime = opts.regime ?? (stored ? { ...DEFAULT_REGIME, ...stored.regime } : DEFAULT_REGIME);
  if (
    stored &&
    stored.prior.box.low.some((v, j) => v !== exp.box.low[j] || stored.prior.box.high[j] !== exp.box.high[j])
  )
    throw new Error(
      `the stored restriction ${stored.classifierId} was trained on another prior box than this run's; train a restriction for this box first`,
    );
  const seconds: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    seconds[name] = (now - t) / 1000;
    t = now;
  };

  // 1. Prior restriction.
  const initialSims = opts.initialSims ?? Math.max(2000, Math.min(50_000, Math.round(2.5 * sims)));
  const restriction =
    stored ??
    (await restrictPrior(
      backend,
      exp,
      { initialSims, regime, falseNegativeRate: opts.falseNegativeRate, seed },
      run,
    ));
  if (stored) run.onLog?.(`using the stored prior restriction ${stored.classifierId}`);
  lap('restriction');

  // 2. Training and held-out simulations from the restricted prior.
  const heldOutN = opts.heldOut ?? 2000;
  const rng = new Rng(seed + 1000);
  const draw = await sampleRestricted(restriction.prior, sims + Math.ceil(heldOutN * 1.3), rng);
  const d = exp.paramNames.length;
  run.onProgress?.({ stage: 'simulate training set', done: 0, total: sims });
  const all = await simulateAndSummarize(
    backend,
    exp,
    draw.theta,
    { seed: seed + 1 },
    {
      signal: run.signal,
      onProgress: (p) => run.onProgress?.({ stage: 'simulate training set', ...p }),
    },
  );
  const labels = labelRegime(all.summaries, regime);
  const usefulAfter = regimeFraction(labels.subarray(0, sims));
  run.onLog?.(
    `useful simulations from the restricted prior: ${(100 * usefulAfter).toFixed(1)}% (box prior: ${(100 * restriction.usefulBefore).toFixed(1)}%)`,
  );
  const trainLabels = labels.slice();
  trainLabels.fill(0, sims);
  const set = buildTrainingSet(all, trainLabels, exp, { length: opts.learnedLength });
  const heldRows: number[] = [];
  for (let i = sims; i < labels.length && heldRows.length < heldOutN; i++) if (labels[i]) heldRows.push(i);
  lap('simulate');

  // 3. Both estimators, same density estimator and budget.
  const estimators: TrainedEstimator[] = [];
  try {
    for (const kind of ['handcrafted', 'learned'] as const) {
      estimators.push(
        await trainEstimator(kind, set, exp, { seed, ...opts.training }, run, opts.checkpoints),
      );
      lap(`train ${kind}`);
    }

    // 4. Calibration on held-out simulations.
    const calibrations: CalibrationResult[] = [];
    for (const est of estimators) {
      throwIfAborted(run.signal);
      const data = heldOutFeatures(est, all, heldRows, d);
      calibrations.push(
        await runCalibration(
          est.posterior,
          data,
          { nSamples: opts.calibrationSamples ?? 200 },
          {
            signal: run.signal,
            onProgress: (p) => run.onProgress?.({ stage: `calibrate ${est.kind}`, ...p }),
          },
        ),
      );
    }
    lap('calibration');

    // 5. Detailed comparison on held-out observations.
    const nCompare = Math.min(opts.compareObservations ?? DEFAULT_COMPARE_OBSERVATIONS, heldRows.length);
    const comparisons: ObservationComparison[] = [];
    for (let k = 0; k < nCompare; k++) {
      const r = heldRows[k];
      const s = all.result.samples;
      comparisons.push(
        await compareOnObservation(
          backend,
          exp,
          estimators,
          {
            name: `held-out simulation ${k + 1}`,
            trace: all.result.codes.subarray(r * s, (r + 1) * s),
            sampleRate: all.result.sampleRate,
            onset: exp.stimulus.onset,
            spikeTimes: all.result.spikeTimes.subarray(
              all.result.spikeOffsets[r],
              all.result.spikeOffsets[r + 1],
            ),
            trueTheta: all.theta.subarray(r * d, (r + 1) * d),
          },
          { nSamples: opts.nSamples ?? 1000, nPredictive: opts.nPredictive ?? 50, seed: seed + k },
          run,
        ),
      );
      run.onProgress?.({ stage: 'compare observations', done: k + 1, total: nCompare });
    }
    lap('comparison');

    // 6. Whole-chip inference with the nominal parameters of the first compared observation.
    const chips: (ChipMap | null)[] = [];
    const chipSamples = opts.chipSamples ?? 1000;
    for (const est of estimators) {
      if (chipSamples === 0 || heldRows.length === 0) {
        chips.push(null);
        continue;
      }
      const r = heldRows[0];
      chips.push(
        await inferChip(
          backend,
          exp,
          est,
          { theta: all.theta.subarray(r * d, (r + 1) * d), nSamples: chipSamples, seed: seed + 7 },
          run,
        ),
      );
    }
    lap('chip');

    const reports = estimators.map((est, e) => report(est, calibrations[e], comparisons, e, chips[e], d));
    return {
      experiment: exp,
      restriction,
      usefulAfter,
      trainingRows: set.n,
      heldOutRows: heldRows.length,
      estimators,
      reports,
      comparisons,
      differences: pairedDifferences(comparisons, 0, 1),
      simulations: all,
      heldOutIndices: heldRows,
      seconds,
    };
  } catch (err) {
    // A caller that gets the result releases the estimators itself.
    await releasePosteriors(estimators.flatMap((e) => e.members));
    throw err;
  }
}

function report(
  est: TrainedEstimator,
  calibration: CalibrationResult,
  comparisons: ObservationComparison[],
  e: number,
  chip: ChipMap | null,
  d: number,
): EstimatorReport {
  const per = comparisons.map((c) => c.estimators[e]);
  const byParam = (f: (o: (typeof per)[number], j: number) => number) =>
    Array.from({ length: d }, (_, j) => mean(per.map((o) => f(o, j))));
  let inside = 0;
  let total = 0;
  let agree = 0;
  let agreeTotal = 0;
  for (const o of per) {
    for (const b of o.truth?.inside90 ?? []) {
      inside += b ? 1 : 0;
      total++;
    }
    for (const row of o.predictive.summaries) {
      agree += row.inside90 ? 1 : 0;
      agreeTotal++;
    }
  }
  return {
    kind: est.kind,
    trainingSeconds: est.seconds,
    epochs: est.training.map((t) => t.epochs),
    bestValidationLoss: est.training.map((t) => t.bestValidationLoss),
    calibration,
    sbc: checkSbc(calibration.sbc),
    relativeWidth: byParam((o, j) => Math.sqrt(Math.max(0, 1 - o.contraction[j]))),
    contraction: byParam((o, j) => o.contraction[j]),
    truthCoverage90: total ? inside / total : NaN,
    normalizedRmse: Array.from({ length: d }, (_, j) =>
      Math.sqrt(mean(per.map((o) => (o.truth ? o.truth.normalizedError[j] ** 2 : NaN)))),
    ),
    spikeCountError: mean(per.map((o) => o.predictive.spikeCount.meanAbsolute)),
    traceRmse: mean(per.map((o) => o.predictive.trace.meanRmse)),
    summaryAgreement90: agreeTotal ? agree / agreeTotal : NaN,
    chip,
  };
}

/** The comparison table the demo prints: one column per estimator. */
export function formatComparisonTable(result: PipelineResult): string {
  const names = result.experiment.paramNames;
  const rs = result.reports;
  const w = 14;
  const row = (label: string, cells: string[]) => label.padEnd(34) + cells.map((c) => c.padStart(w)).join('');
  const f = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  const lines = [
    row(
      '',
      rs.map((r) => r.kind),
    ),
    ...names.map((n, j) =>
      row(
        `posterior width ${n} (std/prior)`,
        rs.map((r) => f(r.relativeWidth[j])),
      ),
    ),
    row(
      'mean contraction',
      rs.map((r) => f(mean(r.contraction))),
    ),
    row(
      'truth in 90% interval',
      rs.map((r) => f(r.truthCoverage90)),
    ),
    row(
      'mean normalized error',
      rs.map((r) => f(mean(r.normalizedRmse))),
    ),
    row(
      'pred. spike-count error',
      rs.map((r) => f(r.spikeCountError, 2)),
    ),
    row(
      'pred. trace error (LSB RMS)',
      rs.map((r) => f(r.traceRmse, 1)),
    ),
    row(
      'stats inside 90% pred. interval',
      rs.map((r) => f(r.summaryAgreement90)),
    ),
    row(
      'expected-coverage error (HPD)',
      rs.map((r) => f(r.calibration.hpd?.maxError ?? NaN)),
    ),
    row(
      '  coverage - level at the worst',
      rs.map((r) => {
        const v = r.calibration.hpd?.worstSigned ?? NaN;
        return Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${f(v)}` : 'n/a';
      }),
    ),
    row(
      'worst marginal coverage error',
      rs.map((r) => f(Math.max(...r.calibration.marginal.map((m) => m.maxError)))),
    ),
    row(
      'SBC uniform (all parameters)',
      rs.map((r) => (r.sbc.pass ? 'yes' : 'no')),
    ),
    row(
      'held-out log-prob',
      rs.map((r) => f(r.calibration.meanLogProb ?? NaN, 2)),
    ),
    row(
      'training seconds',
      rs.map((r) => f(r.trainingSeconds, 0)),
    ),
    row(
      'chip: inference seconds (512x)',
      rs.map((r) => (r.chip ? f(r.chip.inferenceSeconds, 2) : 'n/a')),
    ),
  ];
  const d = result.differences;
  if (d && rs.length === 2) {
    const pm = (x: MeanWithError, digits: number) =>
      `${x.mean >= 0 ? '+' : ''}${f(x.mean, digits)} +- ${f(x.standardError, digits)}`;
    lines.push(
      '',
      `${rs[1].kind} - ${rs[0].kind}, paired over ${d.traceRmse.n} compared observations (mean +- standard error):`,
      row('  mean contraction', [pm(d.contraction, 3)]),
      row('  pred. trace error (LSB RMS)', [pm(d.traceRmse, 1)]),
      row('  pred. spike-count error', [pm(d.spikeCountError, 2)]),
    );
  }
  return lines.join('\n');
}
