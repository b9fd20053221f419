import {
  emitLogProb,
  emitSampler,
  initialParameters,
  noiseDimOf,
  type Estimator,
} from '../../main/sbi/estimator.ts';
import type { PosteriorMetadata } from '../../main/sbi/contract.ts';
import { Posterior } from '../../main/sbi/posterior.ts';
import type { ZScore } from '../../main/sbi/data.ts';

/** Contract metadata for an estimator with the given z-scoring (as `train` would write it). */
export function metadataFor(est: Estimator, z: { theta: ZScore; x: ZScore }): PosteriorMetadata {
  return {
    estimator: est.kind,
    thetaDim: est.sizes.thetaDim,
    xDim: est.xDim,
    noiseDim: noiseDimOf(est),
    parameterNames: est.parameterNames,
    parameterUnits: est.parameterUnits,
    bounds: est.bounds,
    zscoreTheta: z.theta,
    zscoreX: z.x,
    config: {},
    training: {},
    trainingDataSha256: 'test',
    workbenchVersion: 'test',
  };
}

/** Identity z-scoring for the given widths. */
export function unitZ(thetaDim: number, xDim: number): { theta: ZScore; x: ZScore } {
  return {
    theta: { mean: new Array(thetaDim).fill(0), std: new Array(thetaDim).fill(1) },
    x: { mean: new Array(xDim).fill(0), std: new Array(xDim).fill(1) },
  };
}

/** A posterior from an estimator's initial (random, untrained) weights: a non-trivial density to test against. */
export async function untrainedPosterior(
  est: Estimator,
  z = unitZ(est.sizes.thetaDim, est.xDim),
  params?: Float32Array,
  opts: { threads?: number; workers?: number } = {},
): Promise<Posterior> {
  const meta = metadataFor(est, z);
  const p = params ?? initialParameters(est, z);
  return Posterior.fromBytes(emitSampler(est, meta, p), emitLogProb(est, meta, p), 'estimator', opts);
}

/** 2-D grid of points over [-l, l]^2 with `n` points per axis (cell centres); returns points and cell area. */
export function grid2d(l: number, n: number): { points: Float32Array; cell: number } {
  const h = (2 * l) / n;
  const points = new Float32Array(n * n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      points[2 * (i * n + j)] = -l + (i + 0.5) * h;
      points[2 * (i * n + j) + 1] = -l + (j + 0.5) * h;
    }
  }
  return { points, cell: h * h };
}
