/**
 * The training loop (sbi toolbox defaults): mini-batches of 200 streamed from a PairSource, Adam
 * at 5e-4 with gradient-norm clipping at 5, 10% validation split, early stopping after 20 epochs
 * without validation improvement (the best parameters are kept), optional fine-tuning restarts at a
 * tenth of the step size, seeded shuffling, progress events, cancellation through an AbortSignal and
 * exact resumption from checkpoints.
 *
 * @example
 * const est = createEstimator({ kind: 'nsf', thetaDim: 2, xDim: 2, bounds });
 * const run = await train(est, arrayPairSource(theta, x, 2, 2), { onProgress: (e) => console.log(e) });
 * const posterior = await run.posterior();
 */
import { existsSync } from 'node:fs';
import { Trainer } from '../graph/index.ts';
import { WORKBENCH_VERSION } from '../version.ts';
import { readCheckpoint, writeCheckpoint, type Checkpoint, type EpochReport } from './checkpoint.ts';
import type { PosteriorMetadata } from './contract.ts';
import { scanPairs, splitTrainValidation, type PairScan, type PairSource } from './data.ts';
import {
  buildLossGraph,
  emitLogProb,
  emitSampler,
  estimatorConfig,
  initialParameters,
  noiseDimOf,
  type Estimator,
} from './estimator.ts';
import { Posterior } from './posterior.ts';
import { Rng } from './rng.ts';

/** Training settings (defaults in parentheses). */
export interface TrainOptions {
  /** Rows per optimizer step (200). */
  batchSize?: number;
  /** Adam learning rate (5e-4). */
  learningRate?: number;
  /** Global gradient-norm clip (5). */
  clipNorm?: number;
  /** Decoupled (AdamW) weight decay: each step shrinks every weight by 1 - lr * weightDecay (0). */
  weightDecay?: number;
  /** Held-out fraction for early stopping (0.1). */
  validationFraction?: number;
  /** Stop after this many epochs without validation improvement (20). */
  stopAfterEpochs?: number;
  /** Upper limit on epochs (unlimited). */
  maxEpochs?: number;
  /**
   * Fine-tuning restarts (0): when early stopping triggers, continue this many more times from the
   * best parameters with the learning rate divided by 10 (fresh Adam moments), each until
   * `stopAfterEpochs` epochs pass without improvement. Lowers the optimizer noise left in the
   * final parameters.
   */
  fineTuneRounds?: number;
  /**
   * Step-size schedule (`constant`). `cosine` lowers the step size from `learningRate` step by step
   * along half a cosine to `learningRate / 100` at `maxEpochs` (which must then be given): large
   * steps early, small ones at the end, so the final parameters carry less optimizer noise within a
   * fixed epoch budget. Fine-tuning restarts scale the whole schedule by a tenth.
   */
  schedule?: 'constant' | 'cosine';
  /**
   * Linear warm-up (0): over the first `warmupEpochs` epochs the step size rises from near zero to
   * the schedule's value, step by step, so Adam's first moment estimates do not take full steps.
   */
  warmupEpochs?: number;
  /** Seed of the train/validation split and the shuffling (0). */
  seed?: number;
  /** Cancel the run; training stops after the current step and returns the best parameters so far. */
  signal?: AbortSignal;
  /** Called after every epoch. */
  onProgress?: (report: EpochReport) => void;
  /** Write a checkpoint to this file after every epoch (atomically). */
  checkpointPath?: string;
  /** Continue from this checkpoint file (written by a run with the same data and settings). */
  resumeFrom?: string;
  /** onnxruntime threads for the training step (1). */
  threads?: number;
}

/** Outcome of `train`. */
export interface TrainResult {
  stopReason: 'converged' | 'max-epochs' | 'cancelled';
  epochs: number;
  bestEpoch: number;
  bestValidationLoss: number;
  rowsUsed: number;
  rowsExcluded: number;
  /** Up to 10 indices of excluded rows (NaN or inf). */
  excludedExamples: number[];
  history: EpochReport[];
  /** The best parameter buffer. */
  parameters: Float32Array;
  /** Metadata the exported posterior carries. */
  metadata: PosteriorMetadata;
  /** Build the posterior (ONNX sampler and log-density) from the best parameters. */
  posterior(): Promise<Posterior>;
}

const VALIDATION_CHUNK = 20_000;
/** Learning-rate factor of each fine-tuning restart. */
const FINE_TUNE_FACTOR = 0.1;

/**
 * Train `est` on the pairs of `source`. Rows with NaN or inf are excluded and counted.
 * @throws DataError for unusable data; Error when the loss diverges or a checkpoint does not fit.
 */
export async function train(
  est: Estimator,
  source: PairSource,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const o = resolveOptions(opts);
  if (source.thetaDim !== est.sizes.thetaDim || source.xDim !== est.xDim) {
    throw new RangeError(
      `data has theta width ${source.thetaDim} and x width ${source.xDim}; the estimator expects ${est.sizes.thetaDim} and ${est.xDim}`,
    );
  }
  const scan = scanPairs(source);
  const { train: trainIdx, validation } = splitTrainValidation(
    scan.valid,
    o.validationFraction,
    new Rng(o.seed),
  );
  const z = { theta: scan.theta, x: est.zScoreX === 'structured' ? scan.xPooled : scan.x };
  const { loss, params } = buildLossGraph(est, z);
  const trainer = await Trainer.create(
    { loss, params, adam: { clipNorm: o.clipNorm, weightDecay: o.weightDecay } },
    { initial: initialParameters(est, z), threads: o.threads },
  );
  const settings = {
    kind: est.kind,
    config: estimatorConfig(est),
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    clipNorm: o.clipNorm,
    validationFraction: o.validationFraction,
    stopAfterEpochs: o.stopAfterEpochs,
    seed: o.seed,
    // Only when used, so checkpoints written before the option existed still resume.
    ...(o.fineTuneRounds > 0 ? { fineTuneRounds: o.fineTuneRounds } : {}),
    ...(o.schedule !== 'constant' ? { schedule: o.schedule, maxEpochs: o.maxEpochs } : {}),
    ...(o.weightDecay > 0 ? { weightDecay: o.weightDecay } : {}),
    ...(o.warmupEpochs > 0 ? { warmupEpochs: o.warmupEpochs } : {}),
  };
  let state = freshState(scan, settings, params.size, o.seed);
  if (o.resumeFrom) {
    state = resumeState(o.resumeFrom, scan.hash, settings);
    trainer.loadState({ params: state.params, m: state.m, v: state.v, step: state.step });
  } else {
    state.params = trainer.parameters();
    state.best = state.params.slice();
  }
  const rng = Rng.fromState(state.rngState);
  let stopReason: TrainResult['stopReason'] = 'max-epochs';
  try {
    while (state.epoch < o.maxEpochs) {
      if (state.epochsSinceImprovement >= o.stopAfterEpochs) {
        if ((state.fineTuneRound ?? 0) >= o.fineTuneRounds) {
          stopReason = 'converged';
          break;
        }
        // Fine-tuning restart: back to the best parameters, a ten times smaller step, fresh moments.
        state.fineTuneRound = (state.fineTuneRound ?? 0) + 1;
        state.epochsSinceImprovement = 0;
        const zeros = new Float32Array(state.best.length);
        trainer.loadState({ params: state.best, m: zeros, v: zeros.slice(), step: 0 });
      }
      const base = o.learningRate * FINE_TUNE_FACTOR ** (state.fineTuneRound ?? 0);
      let lr = base;
      const t0 = performance.now();
      const perm = rng.shuffle(trainIdx.slice());
      let lossSum = 0;
      let rows = 0;
      let steps = 0;
      for (let start = 0; start < perm.length; start += o.batchSize) {
        if (o.signal?.aborted) break;
        const idx = perm.subarray(start, Math.min(start + o.batchSize, perm.length));
        const batch = source.read(idx);
        lr =
          o.schedule === 'cosine'
            ? cosineStep(base, (state.epoch + start / perm.length) / o.maxEpochs)
            : base;
        if (o.warmupEpochs > 0)
          lr *= warmupFactor((state.epoch + (start + idx.length) / perm.length) / o.warmupEpochs);
        const l = await trainer.step(
          {
            theta: { data: batch.theta, dims: [idx.length, source.thetaDim] },
            x: { data: batch.x, dims: [idx.length, source.xDim] },
          },
          lr,
        );
        if (!Number.isFinite(l)) {
          throw new Error(
            `training diverged: the loss became ${l} at epoch ${state.epoch + 1}, step ${steps + 1}`,
          );
        }
        lossSum += l * idx.length;
        rows += idx.length;
        steps++;
      }
      if (o.signal?.aborted) {
        stopReason = 'cancelled';
        break;
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const vLoss = await validationLoss(trainer, source, validation);
      state.epoch++;
      if (vLoss < state.bestValidationLoss) {
        state.bestValidationLoss = vLoss;
        state.bestEpoch = state.epoch;
        state.epochsSinceImprovement = 0;
        state.best = trainer.parameters();
      } else {
        state.epochsSinceImprovement++;
      }
      const report: EpochReport = {
        epoch: state.epoch,
        trainLoss: lossSum / rows,
        validationLoss: vLoss,
        bestValidationLoss: state.bestValidationLoss,
        epochsSinceImprovement: state.epochsSinceImprovement,
        stepsPerSecond: steps / trainSeconds,
        seconds: (performance.now() - t0) / 1000,
        learningRate: lr,
      };
      state.history.push(report);
      if (o.checkpointPath) {
        const ts = trainer.state();
        writeCheckpoint(o.checkpointPath, { ...state, ...ts, rngState: rng.state() });
      }
      o.onProgress?.(report);
    }
    if (
      stopReason === 'max-epochs' &&
      state.epochsSinceImprovement >= o.stopAfterEpochs &&
      (state.fineTuneRound ?? 0) >= o.fineTuneRounds
    )
      stopReason = 'converged';
  } finally {
    await trainer.release();
  }
  const best = state.best;
  const metadata: PosteriorMetadata = {
    estimator: est.kind,
    thetaDim: est.sizes.thetaDim,
    xDim: est.xDim,
    noiseDim: noiseDimOf(est),
    parameterNames: est.parameterNames,
    parameterUnits: est.parameterUnits,
    bounds: est.bounds,
    zscoreTheta: scan.theta,
    zscoreX: z.x,
    config: estimatorConfig(est),
    training: {
      epochs: state.epoch,
      bestEpoch: state.bestEpoch,
      bestValidationLoss: state.bestValidationLoss,
      rowsUsed: scan.valid.length,
      rowsExcluded: scan.excluded,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      ...(o.fineTuneRounds > 0 ? { fineTuneRounds: state.fineTuneRound ?? 0 } : {}),
      ...(o.schedule !== 'constant' ? { schedule: o.schedule } : {}),
      ...(o.weightDecay > 0 ? { weightDecay: o.weightDecay } : {}),
      ...(o.warmupEpochs > 0 ? { warmupEpochs: o.warmupEpochs } : {}),
      seed: o.seed,
      stopReason,
    },
    trainingDataSha256: scan.hash,
    workbenchVersion: WORKBENCH_VERSION,
  };
  return {
    stopReason,
    epochs: state.epoch,
    bestEpoch: state.bestEpoch,
    bestValidationLoss: state.bestValidationLoss,
    rowsUsed: scan.valid.length,
    rowsExcluded: scan.excluded,
    excludedExamples: scan.excludedExamples,
    history: state.history,
    parameters: best,
    metadata,
    posterior: () => Posterior.fromBytes(emitSampler(est, metadata, best), emitLogProb(est, metadata, best)),
  };
}

function resolveOptions(opts: TrainOptions) {
  const o = {
    batchSize: opts.batchSize ?? 200,
    learningRate: opts.learningRate ?? 5e-4,
    clipNorm: opts.clipNorm ?? 5,
    weightDecay: opts.weightDecay ?? 0,
    validationFraction: opts.validationFraction ?? 0.1,
    stopAfterEpochs: opts.stopAfterEpochs ?? 20,
    maxEpochs: opts.maxEpochs ?? Number.MAX_SAFE_INTEGER,
    fineTuneRounds: opts.fineTuneRounds ?? 0,
    schedule: opts.schedule ?? 'constant',
    warmupEpochs: opts.warmupEpochs ?? 0,
    seed: opts.seed ?? 0,
    signal: opts.signal,
    onProgress: opts.onProgress,
    checkpointPath: opts.checkpointPath,
    resumeFrom: opts.resumeFrom,
    threads: opts.threads ?? 1,
  };
  for (const k of ['batchSize', 'stopAfterEpochs', 'maxEpochs', 'threads'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1)
      throw new RangeError(`${k} must be a positive integer, got ${o[k]}`);
  }
  if (!Number.isInteger(o.fineTuneRounds) || o.fineTuneRounds < 0)
    throw new RangeError(`fineTuneRounds must be a non-negative integer, got ${o.fineTuneRounds}`);
  if (o.schedule !== 'constant' && o.schedule !== 'cosine')
    throw new RangeError(`schedule must be 'constant' or 'cosine', got ${String(o.schedule)}`);
  if (o.schedule === 'cosine' && o.maxEpochs === Number.MAX_SAFE_INTEGER)
    throw new RangeError(
      'the cosine schedule needs maxEpochs: it decays the step size over that many epochs',
    );
  if (!(o.learningRate > 0)) throw new RangeError(`learningRate must be positive, got ${o.learningRate}`);
  if (!(o.weightDecay >= 0) || !Number.isFinite(o.weightDecay))
    throw new RangeError(`weightDecay must be a finite number >= 0, got ${o.weightDecay}`);
  if (!(o.warmupEpochs >= 0) || !Number.isFinite(o.warmupEpochs))
    throw new RangeError(`warmupEpochs must be a finite number >= 0, got ${o.warmupEpochs}`);
  if (!(o.clipNorm > 0)) throw new RangeError(`clipNorm must be positive, got ${o.clipNorm}`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`seed must be an integer, got ${o.seed}`);
  return o;
}

/** Smallest step of the cosine schedule, relative to its first. */
const COSINE_FLOOR = 0.01;

/** Step size of the cosine schedule at `progress` (0 at the first step, 1 at the end of the last epoch). */
export function cosineStep(base: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  return base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Step-size factor of the linear warm-up at `progress` (warm-up epochs done, of 1; 1 after it). */
export function warmupFactor(progress: number): number {
  return Math.min(1, Math.max(0, progress));
}

function freshState(
  scan: PairScan,
  settings: Record<string, unknown>,
  size: number,
  seed: number,
): Checkpoint {
  return {
    dataHash: scan.hash,
    settings,
    epoch: 0,
    step: 0,
    rngState: new Rng(seed + 1).state(),
    bestValidationLoss: Infinity,
    bestEpoch: 0,
    epochsSinceImprovement: 0,
    history: [],
    params: new Float32Array(size),
    m: new Float32Array(size),
    v: new Float32Array(size),
    best: new Float32Array(size),
  };
}

function resumeState(path: string, hash: string, settings: Record<string, unknown>): Checkpoint {
  if (!existsSync(path)) throw new Error(`checkpoint ${path} does not exist`);
  const c = readCheckpoint(path);
  if (c.dataHash !== hash)
    throw new Error(`checkpoint ${path} belongs to other training data (hash differs)`);
  const a = JSON.stringify(c.settings);
  const b = JSON.stringify(JSON.parse(JSON.stringify(settings)));
  if (a !== b) throw new Error(`checkpoint ${path} was written with other settings: ${a} vs ${b}`);
  return c;
}

async function validationLoss(trainer: Trainer, source: PairSource, idx: Uint32Array): Promise<number> {
  let total = 0;
  for (let start = 0; start < idx.length; start += VALIDATION_CHUNK) {
    const part = idx.subarray(start, Math.min(start + VALIDATION_CHUNK, idx.length));
    const b = source.read(part);
    const l = await trainer.evaluate({
      theta: { data: b.theta, dims: [part.length, source.thetaDim] },
      x: { data: b.x, dims: [part.length, source.xDim] },
    });
    total += l * part.length;
  }
  const v = total / idx.length;
  return Number.isFinite(v) ? v : Infinity;
}
