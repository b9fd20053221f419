/** Progress as a job reports it; the runner adds rate and ETA. */
export interface JobProgressReport {
  /** Fraction done in [0, 1]; derived from done/total when those are given. */
  fraction?: number;
  /** Items done and total (simulations, epochs, ...), used for the rate. */
  done?: number;
  total?: number;
  /** Unit of done/total for display, e.g. 'simulations' or 'epochs'. */
  unit?: string;
  /** One human-readable line about what is happening now. */
  message?: string;
  /** Structured, job-specific live data (e.g. training and validation loss of the last epoch). */
  data?: unknown;
}

/** What a job function receives besides its parameters. */
export interface JobContext {
  /** Aborted when the job is cancelled; long loops check it and throw `signal.reason`. */
  signal: AbortSignal;
  /** Report progress; cheap to call often (the runner throttles what it forwards). */
  progress(report: JobProgressReport): void;
}

/** A job function: runs in a worker thread, never on the main thread. */
export type JobFunction<P = unknown, R = unknown> = (params: P, ctx: JobContext) => Promise<R>;

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** The state of a job as the UI and the CLI see it. */
export interface JobStatus {
  id: string;
  kind: string;
  label: string;
  state: JobState;
  fraction: number;
  done?: number;
  total?: number;
  unit?: string;
  /** Items per second over the whole run so far. */
  rate?: number;
  /** Estimated seconds remaining. */
  eta?: number;
  message?: string;
  data?: unknown;
  error?: string;
  startedAt: number;
  endedAt?: number;
}
