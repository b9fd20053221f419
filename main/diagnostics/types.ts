/**
 * What the diagnostics need from a posterior: batched sampling and log-density over many
 * observations at once. The SBI posteriors satisfy it structurally; tests use exact posteriors.
 */

/** Options passed through to long-running diagnostics. */
export interface DiagnosticsRunOptions {
  onProgress?: (p: { done: number; total: number }) => void;
  signal?: AbortSignal;
}

/** A posterior over `thetaDim` parameters, amortized over observations of width `xDim`. */
export interface BatchedPosterior {
  readonly thetaDim: number;
  readonly xDim: number;
  /** `n` samples for each of the B = x.length / xDim observations: B * n * thetaDim values, row-major. */
  sample(x: Float32Array, n: number): Promise<Float32Array>;
  /** Log-density of B * N parameter sets (N per observation, row-major B x N x thetaDim) given B observations: B * N values. */
  logProb(theta: Float32Array, x: Float32Array): Promise<Float32Array>;
}

/** Held-out pairs with known parameters: `n` rows of theta (thetaDim) and x (xDim), row-major. */
export interface HeldOut {
  n: number;
  theta: Float32Array;
  x: Float32Array;
}

/** Check that a held-out set matches a posterior's dimensions; throws a RangeError with both shapes. */
export function checkHeldOut(data: HeldOut, post: { thetaDim: number; xDim: number }): void {
  if (data.theta.length !== data.n * post.thetaDim) {
    throw new RangeError(
      `held-out theta: expected ${data.n} x ${post.thetaDim} values, got ${data.theta.length}`,
    );
  }
  if (data.x.length !== data.n * post.xDim) {
    throw new RangeError(`held-out x: expected ${data.n} x ${post.xDim} values, got ${data.x.length}`);
  }
  if (data.n < 1) throw new RangeError('held-out set is empty');
}

/** Throw the signal's reason (an AbortError) when aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted)
    throw signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}
