/**
 * Prior restriction (as in the paper): simulate an initial batch from the box prior, label each
 * simulation by the regime of interest, train a classifier on (theta, label), and keep only the
 * parameter sets the classifier accepts at a threshold chosen for a target false-negative rate.
 * The restricted prior is sampled by rejection from the box.
 *
 * @example
 * const r = await restrictPrior(createEmulator(), defaultExperiment(), { initialSims: 50_000 });
 * const { theta } = await sampleRestricted(r.prior, 20_000, new Rng(2));
 * // or from simulations that already exist: await restrictFromBatch(exp, batch, { falseNegativeRate: 0.02 });
 */
import type { SimulationBackend } from '../emulator/backend.ts';
import { Rng } from '../sbi/rng.ts';
import { throwIfAborted } from '../diagnostics/types.ts';
import {
  thresholdForFalseNegativeRate,
  trainRegimeClassifier,
  type Box,
  type ClassifierOptions,
  type RegimeClassifier,
} from './classifier.ts';
import {
  samplePrior,
  simulateAndSummarize,
  type PipelineExperiment,
  type SimulatedBatch,
} from './experiment.ts';
import {
  DEFAULT_REGIME,
  labelRegime,
  regimeFraction,
  spikeCountHistogram,
  type RegimeOptions,
} from './regime.ts';
import type { PipelineRun } from './progress.ts';

/** Options of {@link restrictPrior} (defaults in parentheses). */
export interface RestrictionOptions {
  /** Simulations from the box prior used to train the classifier (50,000). */
  initialSims?: number;
  regime?: RegimeOptions;
  /** Fraction of in-regime parameter sets the restricted prior may reject (0.01). */
  falseNegativeRate?: number;
  classifier?: ClassifierOptions;
  /** Seed of prior draws, noise and classifier (1). */
  seed?: number;
}

/** The restricted prior: box prior times the classifier's acceptance. */
export interface RestrictedPrior {
  box: Box;
  classifier: RegimeClassifier;
  threshold: number;
  /** Fraction of box-prior draws the classifier accepts (estimated on the initial batch). */
  acceptanceRate: number;
}

/** What prior restriction produced and measured. */
export interface RestrictionResult {
  prior: RestrictedPrior;
  initial: SimulatedBatch;
  labels: Uint8Array;
  /** Fraction of initial (box-prior) simulations inside the regime. */
  usefulBefore: number;
  /**
   * Fraction inside the regime among initial simulations whose parameters the classifier accepts
   * (an estimate of the fraction after restriction; the pipeline also measures it on fresh data).
   */
  usefulAfterEstimate: number;
  /** False-negative rate of the threshold on the held-out validation rows. */
  validationFalseNegativeRate: number;
  /** Fraction of validation rows the thresholded classifier labels correctly (accept = in the regime). */
  validationAccuracy: number;
  /** Spike-count histogram of the initial batch (last bin: 100 and more) and invalid traces. */
  spikeCounts: { counts: number[]; invalid: number };
}

/** Run prior restriction: simulate, label, train the classifier, choose its threshold. */
export async function restrictPrior(
  backend: SimulationBackend,
  exp: PipelineExperiment,
  opts: RestrictionOptions = {},
  run: PipelineRun = {},
): Promise<RestrictionResult> {
  const n = opts.initialSims ?? 50_000;
  if (!Number.isInteger(n) || n < 100)
    throw new RangeError(`initialSims must be an integer >= 100, got ${n}`);
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed);
  const theta = samplePrior(exp.box, n, rng);
  run.onProgress?.({ stage: 'restriction: simulate', done: 0, total: n });
  const initial = await simulateAndSummarize(
    backend,
    exp,
    theta,
    { seed },
    { signal: run.signal, onProgress: (p) => run.onProgress?.({ stage: 'restriction: simulate', ...p }) },
  );
  return restrictFromBatch(exp, initial, opts, run);
}

/**
 * Prior restriction from simulations that already exist (e.g. a simulation set of the project):
 * label them, train the classifier, choose its threshold and measure what it accepts.
 * `initial.theta` must come from the box prior `exp.box`.
 */
export async function restrictFromBatch(
  exp: PipelineExperiment,
  initial: SimulatedBatch,
  opts: Omit<RestrictionOptions, 'initialSims'> = {},
  run: PipelineRun = {},
): Promise<RestrictionResult> {
  const fnr = opts.falseNegativeRate ?? 0.01;
  const regime = opts.regime ?? DEFAULT_REGIME;
  const seed = opts.seed ?? 1;
  const theta = initial.theta;
  const n = initial.summaries.n;
  if (n < 100) throw new RangeError(`prior restriction needs at least 100 simulations, got ${n}`);
  const labels = labelRegime(initial.summaries, regime);
  const usefulBefore = regimeFraction(labels);
  const hist = spikeCountHistogram(initial.summaries, 100);
  run.onLog?.(`useful simulations under the box prior: ${(100 * usefulBefore).toFixed(1)}% of ${n}`);
  if (usefulBefore === 0 || usefulBefore === 1) {
    throw new Error(
      `prior restriction: ${usefulBefore === 0 ? 'no' : 'every'} simulation lies in the regime ${regime.minSpikes}..${regime.maxSpikes} spikes; ` +
        'adjust the regime or the prior',
    );
  }
  throwIfAborted(run.signal);
  const classifier = await trainRegimeClassifier(
    theta,
    labels,
    exp.box,
    { seed, ...opts.classifier },
    {
      signal: run.signal,
      onProgress: (p) =>
        run.onProgress?.({
          stage: 'restriction: classifier',
          done: p.epoch,
          total: p.epochs,
          loss: p.validationLoss,
        }),
    },
  );
  const v = classifier.validation;
  const threshold = thresholdForFalseNegativeRate(v.probabilities, v.labels, fnr);
  let pos = 0;
  let missed = 0;
  let correct = 0;
  for (let i = 0; i < v.labels.length; i++) {
    const accept = v.probabilities[i] >= threshold;
    if (accept === (v.labels[i] === 1)) correct++;
    if (v.labels[i]) {
      pos++;
      if (!accept) missed++;
    }
  }
  // Acceptance and useful fraction after restriction, on all initial rows.
  const p = await classifier.predict(theta);
  let accepted = 0;
  let acceptedUseful = 0;
  for (let i = 0; i < n; i++) {
    if (p[i] >= threshold) {
      accepted++;
      acceptedUseful += labels[i];
    }
  }
  const result: RestrictionResult = {
    prior: { box: exp.box, classifier, threshold, acceptanceRate: accepted / n },
    initial,
    labels,
    usefulBefore,
    usefulAfterEstimate: accepted ? acceptedUseful / accepted : 0,
    validationFalseNegativeRate: pos ? missed / pos : 0,
    validationAccuracy: v.labels.length ? correct / v.labels.length : NaN,
    spikeCounts: { counts: Array.from(hist.counts), invalid: hist.invalid },
  };
  run.onLog?.(
    `classifier: threshold ${threshold.toFixed(3)}, accepts ${(100 * result.prior.acceptanceRate).toFixed(1)}% of the box, ` +
      `useful among accepted ${(100 * result.usefulAfterEstimate).toFixed(1)}%, validation false negatives ${(100 * result.validationFalseNegativeRate).toFixed(1)}%`,
  );
  return result;
}

/**
 * Draw `n` parameter sets from the restricted prior by rejection: candidates from the box, kept
 * when the classifier's probability reaches the threshold. Refuses (instead of looping) when the
 * acceptance rate would need more than `maxDraws` candidates (default 200 n).
 */
export async function sampleRestricted(
  prior: RestrictedPrior,
  n: number,
  rng: Rng,
  maxDraws = 200 * n,
): Promise<{ theta: Float32Array; draws: number }> {
  const d = prior.box.low.length;
  const out = new Float32Array(n * d);
  let have = 0;
  let draws = 0;
  while (have < n) {
    if (draws >= maxDraws) {
      throw new Error(
        `restricted prior: only ${have} of ${n} parameter sets accepted after ${draws} draws; the classifier accepts almost nothing`,
      );
    }
    const want = Math.min(
      maxDraws - draws,
      Math.max(1024, Math.ceil(((n - have) / Math.max(prior.acceptanceRate, 0.01)) * 1.1)),
    );
    const cand = samplePrior(prior.box, want, rng);
    draws += want;
    const p = await prior.classifier.predict(cand);
    for (let i = 0; i < want && have < n; i++) {
      if (p[i] >= prior.threshold) out.set(cand.subarray(i * d, (i + 1) * d), d * have++);
    }
  }
  return { theta: out, draws };
}
