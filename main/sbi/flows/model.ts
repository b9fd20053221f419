/**
 * What every density estimator provides to the graphs built around it. All tensors are in
 * z-scored units; `u` and `noise` are [B, N, ·] and the context is [B, 1, E] (one row per
 * observation, broadcast over the N samples), so the context path runs once per observation.
 */
import type { Tensor } from '../../graph/tensor.ts';

/** A conditional density q(u | context) built as graph nodes. */
export interface DensityModel {
  /** Width of the noise a sample consumes (D for flows, D + 1 for the mixture). */
  readonly noiseDim: number;
  /** log q(u | ctx): u [B, N, D], ctx [B, 1, E] -> [B, N]. */
  logProb(u: Tensor, ctx: Tensor): Tensor;
  /** Deterministic map from standard-normal noise [B, N, noiseDim] to samples [B, N, D]. */
  sample(noise: Tensor, ctx: Tensor): Tensor;
}

/** Sizes shared by all estimators (sbi toolbox defaults in parentheses). */
export interface ModelSizes {
  thetaDim: number;
  /** Width of the conditioning vector (x, or the embedding's output). */
  contextDim: number;
  /** Hidden units per layer (50). */
  hiddenFeatures: number;
  /** Flow transforms (5). */
  numTransforms: number;
  /** Spline bins of the neural spline flow (10). */
  numBins: number;
  /** Mixture components of the mixture density network (10). */
  numComponents: number;
  /** Spline interval [-tailBound, tailBound] in z-scored units; identity outside (3). */
  tailBound: number;
  /** Seed of the fixed random permutations between MAF transforms. */
  permutationSeed: number;
}
