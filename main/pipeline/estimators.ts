/**
 * The two estimators the paper compares, trained on the same restricted simulation set with the
 * same density estimator and budget: one conditioned on the handcrafted summary statistics, one on
 * the downsampled normalized trace through a jointly trained convolutional summary network.
 * Optionally each is an ensemble of independently seeded members (a mixture of their posteriors),
 * which improves calibration.
 *
 * @example
 * const set = buildTrainingSet(sims, labels, exp); // learned input: the full-resolution trace
 * const { handcrafted, learned } = await trainEstimators(set, exp, { kind: 'maf', ensemble: 2 });
 * const x = featuresOf(learned.features, traces, spikes).x;
 * const samples = await learned.posterior.sample(x, 1000);
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { arrayPairSource } from '../sbi/data.ts';
import { createEstimator } from '../sbi/estimator.ts';
import { train, type TrainResult } from '../sbi/train.ts';
import type { Posterior } from '../sbi/posterior.ts';
import type { EstimatorKind } from '../sbi/contract.ts';
import { Rng } from '../sbi/rng.ts';
import { readCheckpoint, type EpochReport } from '../sbi/checkpoint.ts';
import type { BatchedPosterior } from '../diagnostics/types.ts';
import { throwIfAborted } from '../diagnostics/types.ts';
import { convEmbedding, type ConvEmbeddingOptions } from './embedding.ts';
import type { PipelineExperiment, SimulatedBatch } from './experiment.ts';
import type { Box } from './classifier.ts';
import { summaryOptions, traceBatchOf } from './experiment.ts';
import { computeSummaries, SUMMARY_NAMES, TRACE_FLAGS, type SummaryOptions } from './summaries.ts';
import {
  fitTraceNormalization,
  prepareLearnedInput,
  type LearnedInputSpec,
  type TraceGrid,
} from './trace-input.ts';
import { selectSpikeRows, selectTraceRows, type SpikeTrains, type TraceBatch } from './traces.ts';
import type { PipelineRun } from './progress.ts';
import { PIPELINE_MAX_EPOCHS } from './defaults.ts';

/** Which summary an estimator is conditioned on. */
export type SummaryKind = 'handcrafted' | 'learned';

/** How observations become estimator inputs (stored with the estimator). */
export interface FeatureSpec {
  kind: SummaryKind;
  /** The time grid the estimator was trained on; observations are conformed to it. */
  grid: TraceGrid;
  summary: SummaryOptions;
  /** For `learned`: length and normalization of the network input. */
  learnedInput?: LearnedInputSpec;
}

/** Estimator inputs for a batch of traces on the training grid; `usable[i]` is 0 for non-finite or saturated traces. */
export function featuresOf(
  spec: FeatureSpec,
  traces: TraceBatch,
  spikes: SpikeTrains,
): { x: Float32Array; dim: number; usable: Uint8Array } {
  const s = computeSummaries(traces, spikes, spec.summary);
  const usable = Uint8Array.from(s.flags, (f) =>
    f & (TRACE_FLAGS.nonFinite | TRACE_FLAGS.saturated) ? 0 : 1,
  );
  if (spec.kind === 'handcrafted') return { x: s.values, dim: SUMMARY_NAMES.length, usable };
  if (!spec.learnedInput) throw new Error('learned features need a learnedInput specification');
  return { x: prepareLearnedInput(traces, spec.learnedInput), dim: spec.learnedInput.length, usable };
}

/** The restricted training simulations with both kinds of features. */
export interface TrainingSet {
  n: number;
  theta: Float32Array;
  handcrafted: Float32Array;
  learned: Float32Array;
  learnedSpec: FeatureSpec;
  handcraftedSpec: FeatureSpec;
  /** Rows of the source batch kept (in the regime, clean traces). */
  rows: Uint32Array;
}

/**
 * Keep the simulations labelled in the regime and build both feature sets. Selecting on the
 * observation leaves the posterior of in-regime observations unchanged, so estimators trained on
 * these rows are valid for every observation inside the regime. The learned input is the
 * normalized trace at full resolution unless `length` asks for fewer points (bin averages).
 */
export function buildTrainingSet(
  sims: SimulatedBatch,
  labels: Uint8Array,
  exp: PipelineExperiment,
  opts: { length?: number } = {},
): TrainingSet {
  const rowsList: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i]) rowsList.push(i);
  if (rowsList.length < 50)
    throw new Error(
      `training set: only ${rowsList.length} simulations lie in the regime; at least 50 are needed`,
    );
  const rows = Uint32Array.from(rowsList);
  const d = exp.paramNames.length;
  const theta = new Float32Array(rows.length * d);
  const ns = SUMMARY_NAMES.length;
  const handcrafted = new Float32Array(rows.length * ns);
  rows.forEach((r, j) => {
    theta.set(sims.theta.subarray(r * d, (r + 1) * d), j * d);
    handcrafted.set(sims.summaries.values.subarray(r * ns, (r + 1) * ns), j * ns);
  });
  const traces = selectTraceRows(traceBatchOf(sims.result), rows);
  const grid: TraceGrid = {
    samples: sims.result.samples,
    sampleRate: sims.result.sampleRate,
    onset: exp.stimulus.onset,
  };
  const length = opts.length ?? sims.result.samples;
  const learnedInput: LearnedInputSpec = { length, ...fitTraceNormalization(traces) };
  const summary = summaryOptions(exp);
  return {
    n: rows.length,
    theta,
    handcrafted,
    learned: prepareLearnedInput(traces, learnedInput),
    learnedSpec: { kind: 'learned', grid, summary, learnedInput },
    handcraftedSpec: { kind: 'handcrafted', grid, summary },
    rows,
  };
}

/**
 * Peak Adam step size by summary kind, tuned on the validation loss, under the cosine schedule
 * (PIPELINE_SCHEDULE). With a constant 1.5e-3 (the default until 2026-11-29) the handcrafted
 * estimator was far from converged after 70 epochs: at 60,000 simulations (seed 3) its best
 * validation loss was 1.82 against 0.34 with cosine from 1e-2 (2e-2: 0.82), and its held-out
 * log-probability -10.88 against -9.37. The convolutional summary network takes smaller steps: from
 * 5e-3 it ended 0.6 nats worse than from 3e-3 at 240,000 simulations (docs/pipeline.md).
 */
export const PIPELINE_LEARNING_RATE: Readonly<Record<SummaryKind, number>> = {
  handcrafted: 1e-2,
  learned: 3e-3,
};
/**
 * Step-size schedule of both estimators: cosine decay to a hundredth over the epoch limit
 * (TrainOptions.schedule), so that the last epochs refine with small steps.
 */
export const PIPELINE_SCHEDULE = 'cosine';
export { PIPELINE_MAX_EPOCHS };
/**
 * Linear step-size warm-up of both estimators, in epochs. Without it both started with full Adam
 * steps from fresh moments; with one epoch of warm-up (seeds 1 and 2, 200,000 x 24) the best
 * validation loss improved from 0.00 / 0.03 to -0.25 / -0.30 (handcrafted) and the held-out
 * log-probability of the learned estimator from -8.73 / -8.53 to -7.50 / -7.60 (docs/pipeline.md).
 */
export const PIPELINE_WARMUP_EPOCHS = 1;
/** Early-stopping patience of both estimators (epochs without validation improvement). */
export const PIPELINE_PATIENCE = 10;

/** Training configuration shared by both estimators (defaults in parentheses). */
export interface EstimatorTrainingOptions {
  /**
   * Density estimator (`mdn`). The MDN stays the default: in the demo it was the better calibrated
   * one, and it samples 512 x 1,000 2-2.5x faster than the MAF and 5-6x faster than the NSF
   * (docs/pipeline.md, docs/sbi-measurements.md).
   */
  kind?: EstimatorKind;
  hiddenFeatures?: number;
  numTransforms?: number;
  /** Independently seeded members per estimator (1). */
  ensemble?: number;
  /** Epoch limit per member (PIPELINE_MAX_EPOCHS, 24) and early-stopping patience (10). */
  maxEpochs?: number;
  stopAfterEpochs?: number;
  batchSize?: number;
  /** Adam step size of both estimators (by summary kind: PIPELINE_LEARNING_RATE). */
  learningRate?: number;
  /** Step-size schedule over the epoch limit (PIPELINE_SCHEDULE, cosine; see TrainOptions.schedule). */
  schedule?: 'constant' | 'cosine';
  /** AdamW weight decay (see TrainOptions.weightDecay). */
  weightDecay?: number;
  /** Linear step-size warm-up in epochs (PIPELINE_WARMUP_EPOCHS, 1; see TrainOptions.warmupEpochs). */
  warmupEpochs?: number;
  embedding?: ConvEmbeddingOptions;
  /** Base seed (0). */
  seed?: number;
}

/**
 * Releases posteriors' sessions and stops their session workers, after any run still in flight: a
 * thread that ends (a job's worker) with a session worker inside a run aborts the process.
 */
export async function releasePosteriors(posteriors: readonly Posterior[]): Promise<void> {
  await Promise.allSettled(posteriors.map((p) => p.dispose()));
}

/** A trained estimator of either kind. */
export interface TrainedEstimator {
  kind: SummaryKind;
  features: FeatureSpec;
  /** The posterior over the box-bounded parameters (ensemble mixture, logit coordinates mapped back). */
  posterior: BatchedPosterior;
  /** The trained members, on logit coordinates `boxToUnbounded(theta, box)` (what their ONNX graphs compute). */
  members: Posterior[];
  /** Training result of each member (history, best validation loss). */
  training: Omit<TrainResult, 'posterior' | 'parameters'>[];
  seconds: number;
}

/**
 * A uniform mixture of posteriors: samples are split evenly over the members (stratified), and the
 * log-density is the log of the mean member density.
 */
export function ensemblePosterior(members: readonly BatchedPosterior[]): BatchedPosterior {
  if (members.length === 0) throw new RangeError('ensemble: at least one member is needed');
  if (members.length === 1) return members[0];
  const { thetaDim, xDim } = members[0];
  const k = members.length;
  return {
    thetaDim,
    xDim,
    async sample(x: Float32Array, n: number) {
      const b = x.length / xDim;
      const out = new Float32Array(b * n * thetaDim);
      let start = 0;
      for (let m = 0; m < k; m++) {
        const nm = Math.floor((n * (m + 1)) / k) - Math.floor((n * m) / k);
        if (nm === 0) continue;
        const s = await members[m].sample(x, nm);
        for (let i = 0; i < b; i++)
          out.set(s.subarray(i * nm * thetaDim, (i + 1) * nm * thetaDim), (i * n + start) * thetaDim);
        start += nm;
      }
      return out;
    },
    async logProb(theta: Float32Array, x: Float32Array) {
      // Every member's call ends before this one does, also when one fails: a call still running
      // in a member's session workers when the caller tears down its thread would abort the process.
      const settled = await Promise.allSettled(members.map((m) => m.logProb(theta, x)));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      const parts = settled.map((r) => (r as PromiseFulfilledResult<Float32Array>).value);
      const out = new Float32Array(parts[0].length);
      for (let j = 0; j < out.length; j++) {
        let mx = -Infinity;
        for (const p of parts) if (p[j] > mx) mx = p[j];
        if (mx === -Infinity) {
          out[j] = -Infinity;
          continue;
        }
        let s = 0;
        for (const p of parts) s += Math.exp(p[j] - mx);
        out[j] = mx + Math.log(s / k);
      }
      return out;
    },
  };
}

/** Smallest distance to the box edge, in box-normalized units, before the logit (keeps it finite). */
const EDGE = 1e-6;

/**
 * Map parameters from the prior box to the real line: u = logit((theta - low) / (high - low)).
 * The estimators are trained on u, so every sample maps back inside the box and no rejection is
 * needed (a bounded flow would redraw samples falling outside, which stalls when little mass is inside).
 */
export function boxToUnbounded(theta: Float32Array, box: Box): Float32Array {
  const d = box.low.length;
  const out = new Float32Array(theta.length);
  for (let k = 0; k < theta.length; k++) {
    const j = k % d;
    const s = Math.min(1 - EDGE, Math.max(EDGE, (theta[k] - box.low[j]) / (box.high[j] - box.low[j])));
    out[k] = Math.log(s / (1 - s));
  }
  return out;
}

/** Inverse of {@link boxToUnbounded}: theta = low + (high - low) * sigmoid(u). */
export function unboundedToBox(u: Float32Array, box: Box): Float32Array {
  const d = box.low.length;
  const out = new Float32Array(u.length);
  for (let k = 0; k < u.length; k++) {
    const j = k % d;
    out[k] = box.low[j] + (box.high[j] - box.low[j]) / (1 + Math.exp(-u[k]));
  }
  return out;
}

/**
 * A posterior whose sampling noise comes from one seeded stream, so a run with the same seed and
 * the same sequence of calls draws the same samples (the bare `Posterior.sample` seeds each call
 * from Math.random unless told otherwise).
 */
export function seededPosterior(post: Posterior, seed: number): BatchedPosterior {
  const rng = new Rng(seed);
  return {
    thetaDim: post.thetaDim,
    xDim: post.xDim,
    sample: (x, n) => post.sample(x, n, { rng }),
    logProb: (theta, x) => post.logProb(theta, x),
  };
}

/**
 * The posterior of a trained estimator as the pipeline uses it: its members (each sampling from its
 * own stream seeded from `seed`), mixed uniformly and mapped back into the prior box.
 */
export function estimatorPosterior(members: readonly Posterior[], box: Box, seed: number): BatchedPosterior {
  return boxPosterior(
    ensemblePosterior(members.map((p, m) => seededPosterior(p, seed + 7919 + 101 * m))),
    box,
  );
}

/**
 * A posterior over box-bounded parameters from one trained on logit coordinates: samples are mapped
 * back into the box; log p(theta | x) = log q(u | x) - sum_d log((high - low) s (1 - s)), with
 * s the box-normalized parameter (the log-Jacobian of the logit), and -Infinity outside the box.
 */
export function boxPosterior(inner: BatchedPosterior, box: Box): BatchedPosterior {
  const d = box.low.length;
  return {
    thetaDim: inner.thetaDim,
    xDim: inner.xDim,
    async sample(x, n) {
      return unboundedToBox(await inner.sample(x, n), box);
    },
    async logProb(theta, x) {
      const lp = await inner.logProb(boxToUnbounded(theta, box), x);
      const rows = theta.length / d;
      for (let i = 0; i < rows; i++) {
        let jac = 0;
        for (let j = 0; j < d; j++) {
          const w = box.high[j] - box.low[j];
          const s = (theta[i * d + j] - box.low[j]) / w;
          if (!(s > 0 && s < 1)) {
            jac = -Infinity;
            break;
          }
          jac -= Math.log(w * s * (1 - s));
        }
        lp[i] = jac === -Infinity ? -Infinity : lp[i] + jac;
      }
      return lp;
    },
  };
}

/** Where a run keeps its training checkpoints: one file per estimator member, rewritten every epoch. */
export interface EstimatorCheckpoints {
  dir: string;
  /** Continue each member from its file when there is one (a stopped run); otherwise start afresh. */
  resume: boolean;
}

/** The checkpoint file of one ensemble member of an estimator. */
export function checkpointFile(dir: string, kind: SummaryKind, member: number): string {
  return path.join(dir, `${kind}-member${member}.ckpt`);
}

/**
 * Train one estimator (all ensemble members) on `x` features. With `checkpoints`, every finished
 * epoch is saved, and a resumed run continues each member from its last saved epoch; the result
 * is the same as that of an uninterrupted run on the same data and settings.
 */
export async function trainEstimator(
  kindOfSummary: SummaryKind,
  set: TrainingSet,
  exp: PipelineExperiment,
  opts: EstimatorTrainingOptions = {},
  run: PipelineRun = {},
  checkpoints?: EstimatorCheckpoints,
): Promise<TrainedEstimator> {
  const t0 = performance.now();
  const d = exp.paramNames.length;
  const features = kindOfSummary === 'learned' ? set.learnedSpec : set.handcraftedSpec;
  const x = kindOfSummary === 'learned' ? set.learned : set.handcrafted;
  const xDim = x.length / set.n;
  const thetaU = boxToUnbounded(set.theta, exp.box);
  const members: Posterior[] = [];
  const training: TrainedEstimator['training'] = [];
  const k = opts.ensemble ?? 1;
  const maxEpochs = opts.maxEpochs ?? PIPELINE_MAX_EPOCHS;
  try {
    for (let m = 0; m < k; m++) {
      throwIfAborted(run.signal);
      const seed = (opts.seed ?? 0) + 101 * m;
      const est = createEstimator({
        kind: opts.kind ?? 'mdn',
        thetaDim: d,
        xDim,
        parameterNames: exp.paramNames.map((n) => `logit_${n}`),
        parameterUnits: exp.paramNames.map(() => ''),
        hiddenFeatures: opts.hiddenFeatures,
        numTransforms: opts.numTransforms,
        embedding: kindOfSummary === 'learned' ? convEmbedding(xDim, opts.embedding) : undefined,
        seed,
      });
      const stage = `train ${kindOfSummary}${k > 1 ? ` (member ${m + 1}/${k})` : ''}`;
      const patience = opts.stopAfterEpochs ?? PIPELINE_PATIENCE;
      const report = (r: EpochReport) =>
        run.onProgress?.({
          stage,
          done: r.epoch,
          total: maxEpochs,
          loss: r.validationLoss,
          training: {
            trainLoss: r.trainLoss,
            validationLoss: r.validationLoss,
            bestValidationLoss: r.bestValidationLoss,
            epochsSinceImprovement: r.epochsSinceImprovement,
            patience,
          },
        });
      const file = checkpoints ? checkpointFile(checkpoints.dir, kindOfSummary, m) : undefined;
      const resumeFrom = checkpoints?.resume && file && existsSync(file) ? file : undefined;
      // The epochs before the stop, so live curves of a resumed run start at epoch 1.
      if (resumeFrom) for (const r of readCheckpoint(resumeFrom).history) report(r);
      let res: TrainResult;
      try {
        res = await train(est, arrayPairSource(thetaU, x, d, xDim), {
          maxEpochs,
          stopAfterEpochs: patience,
          batchSize: opts.batchSize,
          learningRate: opts.learningRate ?? PIPELINE_LEARNING_RATE[kindOfSummary],
          schedule: opts.schedule ?? PIPELINE_SCHEDULE,
          weightDecay: opts.weightDecay,
          warmupEpochs: opts.warmupEpochs ?? PIPELINE_WARMUP_EPOCHS,
          seed,
          signal: run.signal,
          checkpointPath: file,
          resumeFrom,
          onProgress: report,
        });
      } catch (err) {
        if (!resumeFrom) throw err;
        const msg = (err as Error).message;
        throw new Error(
          /other training data/.test(msg)
            ? `cannot resume ${stage}: the training data differs from that of the stopped run (the simulations or the restriction changed); start a new run`
            : `cannot resume ${stage}: ${msg}`,
        );
      }
      throwIfAborted(run.signal);
      run.onLog?.(
        `${stage}: ${res.epochs} epochs, best validation loss ${res.bestValidationLoss.toFixed(3)} (${res.stopReason})`,
      );
      members.push(await res.posterior());
      const { posterior: _p, parameters: _w, ...rest } = res;
      training.push(rest);
    }
  } catch (err) {
    await releasePosteriors(members);
    throw err;
  }
  return {
    kind: kindOfSummary,
    features,
    posterior: estimatorPosterior(members, exp.box, opts.seed ?? 0),
    members,
    training,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Features of held-out simulations for an estimator: only rows with usable traces are kept. */
export function heldOutFeatures(
  est: TrainedEstimator,
  sims: SimulatedBatch,
  rows: ArrayLike<number>,
  d: number,
): { n: number; theta: Float32Array; x: Float32Array } {
  const traces = selectTraceRows(traceBatchOf(sims.result), rows);
  const spikes = selectSpikeRows({ times: sims.result.spikeTimes, offsets: sims.result.spikeOffsets }, rows);
  const f = featuresOf(est.features, traces, spikes);
  const keep: number[] = [];
  for (let j = 0; j < rows.length; j++) if (f.usable[j]) keep.push(j);
  const theta = new Float32Array(keep.length * d);
  const x = new Float32Array(keep.length * f.dim);
  keep.forEach((j, k) => {
    theta.set(sims.theta.subarray(rows[j] * d, (rows[j] + 1) * d), k * d);
    x.set(f.x.subarray(j * f.dim, (j + 1) * f.dim), k * f.dim);
  });
  return { n: keep.length, theta, x };
}
