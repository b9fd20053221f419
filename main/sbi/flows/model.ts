/**
 * What every density estimator provides to the graphs built around it. All tensors are in
 * z-scored units; `u` and `noise` are [B, N, ·] and the context is [B, 1, E] (one row per
 * observation, broadcast over the N samples), so the context path runs once per observation.
 */
import type { Tensor } from '../../graph/tensor.ts';
import { add, mul } from '../../graph/ops-elementwise.ts';

/** theta = scale * u + shift per coordinate: the z-scoring undone by the sampler. */
export interface OutputAffine {
  scale: readonly number[];
  shift: readonly number[];
}

/**
 * `out` applied to samples whose coordinates lie on axis -1 ([..., D]) or, for feature-major
 * layouts, on axis -2 ([..., D, N]: the constants broadcast along rows of N values, which
 * onnxruntime runs faster than a short last axis).
 */
export function applyAffine(u: Tensor, out: OutputAffine, axis: -1 | -2): Tensor {
  const d = out.scale.length;
  const shape = axis === -1 ? [d] : [d, 1];
  const g = u.graph;
  return add(mul(u, g.constant([...out.scale], shape, u.dtype)), g.constant([...out.shift], shape, u.dtype));
}

/** A conditional density q(u | context) built as graph nodes. */
export interface DensityModel {
  /** Width of the noise a sample consumes (D for flows, D + 1 for the mixture). */
  readonly noiseDim: number;
  /** log q(u | ctx): u [B, N, D], ctx [B, 1, E] -> [B, N]. */
  logProb(u: Tensor, ctx: Tensor): Tensor;
  /**
   * Deterministic map from standard-normal noise [B, N, noiseDim] to samples [B, N, D], with
   * `out` applied (each model does it where it costs least).
   */
  sample(noise: Tensor, ctx: Tensor, out: OutputAffine): Tensor;
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
