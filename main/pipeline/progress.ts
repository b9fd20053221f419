/**
 * Progress and cancellation for the pipeline functions, which the UI runs as background jobs:
 * every long function takes `(opts, run)` with `run.onProgress` (stage, done, total), `run.onLog`
 * (one human line) and `run.signal` (AbortSignal; the function throws an AbortError when aborted).
 */

/** One progress report: `done` of `total` units of the named stage. */
export interface PipelineProgress {
  stage: string;
  done: number;
  total: number;
  /** Current loss where the stage trains something (the validation loss for estimators). */
  loss?: number;
  /** Estimator training: the epoch's training loss and the early-stopping state after it. */
  training?: EpochStatus;
}

/** One finished training epoch of an estimator, as the Train view shows it live. */
export interface EpochStatus {
  trainLoss: number;
  validationLoss: number;
  bestValidationLoss: number;
  /** Epochs since the best validation loss; training stops when this reaches `patience`. */
  epochsSinceImprovement: number;
  patience: number;
}

/** Callbacks and cancellation of a pipeline run. */
export interface PipelineRun {
  onProgress?: (p: PipelineProgress) => void;
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}
