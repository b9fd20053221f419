/**
 * Prior restriction as a step of its own: train the regime classifier on a simulation set of the
 * project (drawn from a box prior), measure the useful fraction before and after on fresh
 * restricted-prior simulations, store it as a restriction classifier, and load it again for a
 * pipeline run, which then skips its own restriction stage.
 *
 * @example
 * const { exp, batch } = batchOfSet(project, setId);
 * const r = await restrictFromBatch(exp, batch, { regime, falseNegativeRate: 0.01 });
 * const usefulAfter = await measureRestriction(createEmulator(), exp, r.prior, 500, 7);
 * const clf = project.classifiers.create(restrictionRecord(r, { setId, ... }));
 * const stored = await loadRestriction(project.classifiers.get(clf.id)); // for runPipeline
 */
import type { SimulationBackend } from '../emulator/backend.ts';
import type { Classifier, ClassifierInput, Project } from '../store/index.ts';
import { Rng } from '../sbi/rng.ts';
import { classifierFromWeights, type Box } from './classifier.ts';
import { defaultExperiment, simulateAndSummarize, summaryOptions, traceBatchOf } from './experiment.ts';
import type { PipelineExperiment, SimulatedBatch } from './experiment.ts';
import type { PipelineRun } from './progress.ts';
import { labelRegime, regimeFraction, type RegimeOptions } from './regime.ts';
import { sampleRestricted, type RestrictedPrior, type RestrictionResult } from './restriction.ts';
import { computeSummaries } from './summaries.ts';

/** Marks classifiers stored by the restriction step (pipeline runs store their own as well). */
export const RESTRICTION_STEP = 'restriction step';

/** A restriction loaded from the project, ready for `runPipeline({ restriction })`. */
export interface StoredRestriction {
  classifierId: number;
  prior: RestrictedPrior;
  /** Fraction of the set's (box-prior) simulations inside the regime. */
  usefulBefore: number;
  regime: { minSpikes: number; maxSpikes: number };
  falseNegativeRate: number;
  /** The simulation set it was trained on and that set's emulator settings. */
  setId: number;
  mode: 'ideal' | 'hardware';
  chipSeed: number;
}

/** What the restriction step measured (stored as the classifier's stats). */
export interface RestrictionStepStats {
  source: typeof RESTRICTION_STEP;
  setId: number;
  mode: 'ideal' | 'hardware';
  chipSeed: number;
  regime: { minSpikes: number; maxSpikes: number };
  falseNegativeRate: number;
  initialSims: number;
  usefulBefore: number;
  usefulAfterEstimate: number;
  /** Measured on `checkSims` fresh simulations from the restricted prior. */
  usefulAfter: number;
  checkSims: number;
  acceptanceRate: number;
  validationFalseNegativeRate: number;
  validationAccuracy: number;
  classifierEpochs: number;
  spikeCountHistogram: { counts: number[]; invalid: number };
}

/**
 * The experiment and all simulations of a set, with their handcrafted summaries. Only sets drawn
 * from a box prior (the Simulate view's sets, which record their box) can train a restriction.
 */
export function batchOfSet(
  project: Project,
  setId: number,
): { exp: PipelineExperiment; batch: SimulatedBatch } {
  const set = project.simulations.get(setId);
  const meta = set.meta as { box?: Box; mode?: 'ideal' | 'hardware'; chipSeed?: number };
  if (!meta.box || !meta.mode)
    throw new Error(
      `simulation set ${setId} (${set.name}) was not drawn from a box prior; simulate a set in the Simulate view first`,
    );
  const exp = defaultExperiment({ mode: meta.mode, chipSeed: meta.chipSeed ?? 1, box: meta.box });
  if (set.paramNames.join() !== exp.paramNames.join())
    throw new Error(
      `simulation set ${setId} has parameters ${set.paramNames.join(', ')}, not the seven inferred ones`,
    );
  const rows = project.simulations.readRows(setId, 0, set.rows);
  const result = {
    n: set.rows,
    samples: set.samplesPerTrace,
    sampleRate: set.sampleRate,
    codes: rows.codes,
    spikeCounts: rows.spikeCounts,
    spikeTimes: rows.spikeTimes,
    spikeOffsets: rows.spikeOffsets,
  };
  const summaries = computeSummaries(
    traceBatchOf(result),
    { times: result.spikeTimes, offsets: result.spikeOffsets },
    summaryOptions(exp),
  );
  return { exp, batch: { theta: rows.theta, result, summaries } };
}

/** Fraction of `n` fresh simulations from the restricted prior that lie in the regime. */
export async function measureRestriction(
  backend: SimulationBackend,
  exp: PipelineExperiment,
  prior: RestrictedPrior,
  regime: RegimeOptions,
  n: number,
  seed: number,
  run: PipelineRun = {},
): Promise<number> {
  const { theta } = await sampleRestricted(prior, n, new Rng(seed));
  const sims = await simulateAndSummarize(
    backend,
    exp,
    theta,
    { seed },
    {
      signal: run.signal,
      onProgress: (p) => run.onProgress?.({ stage: 'restriction: check', ...p }),
    },
  );
  return regimeFraction(labelRegime(sims.summaries, regime));
}

/** The classifier record of a restriction step (weights kept in the config so it can be rebuilt). */
export function restrictionRecord(
  r: RestrictionResult,
  info: Pick<
    RestrictionStepStats,
    'setId' | 'mode' | 'chipSeed' | 'regime' | 'falseNegativeRate' | 'usefulAfter' | 'checkSims'
  > & { experimentId: number | null },
): ClassifierInput {
  const c = r.prior.classifier;
  const { experimentId, ...rest } = info;
  const stats: RestrictionStepStats = {
    source: RESTRICTION_STEP,
    ...rest,
    initialSims: r.labels.length,
    usefulBefore: r.usefulBefore,
    usefulAfterEstimate: r.usefulAfterEstimate,
    acceptanceRate: r.prior.acceptanceRate,
    validationFalseNegativeRate: r.validationFalseNegativeRate,
    validationAccuracy: r.validationAccuracy,
    classifierEpochs: c.epochsRun,
    spikeCountHistogram: r.spikeCounts,
  };
  return {
    name: `restriction of set ${info.setId} (${info.regime.minSpikes}-${info.regime.maxSpikes} spikes)`,
    experimentId,
    config: {
      hidden: c.hidden,
      blocks: c.blocks,
      box: r.prior.box,
      weights: Buffer.from(c.weights.buffer, c.weights.byteOffset, c.weights.byteLength).toString('base64'),
    },
    onnx: c.onnx(),
    threshold: r.prior.threshold,
    stats: stats as unknown as Record<string, unknown>,
  };
}

/** True for classifiers stored by the restriction step. */
export function isRestrictionStep(c: Pick<Classifier, 'stats'>): boolean {
  return c.stats.source === RESTRICTION_STEP;
}

/** Rebuild a stored restriction step's classifier and restricted prior. */
export async function loadRestriction(c: Classifier): Promise<StoredRestriction> {
  if (!isRestrictionStep(c) || typeof c.config.weights !== 'string')
    throw new Error(
      `restriction classifier ${c.id} was stored by a pipeline run, not by the restriction step; train a restriction in the Simulate view`,
    );
  const cfg = c.config as { hidden: number; blocks: number; box: Box; weights: string };
  const bytes = Buffer.from(cfg.weights, 'base64');
  const weights = new Float32Array(bytes.length / 4);
  Buffer.from(weights.buffer).set(bytes);
  const classifier = await classifierFromWeights(
    cfg.box.low.length,
    cfg.box,
    cfg.hidden,
    cfg.blocks,
    weights,
  );
  const s = c.stats as unknown as RestrictionStepStats;
  return {
    classifierId: c.id,
    prior: { box: cfg.box, classifier, threshold: c.threshold, acceptanceRate: s.acceptanceRate },
    usefulBefore: s.usefulBefore,
    regime: s.regime,
    falseNegativeRate: s.falseNegativeRate,
    setId: s.setId,
    mode: s.mode,
    chipSeed: s.chipSeed,
  };
}
