/**
 * Neural posterior estimation for the workbench, sbi-toolbox style: configure an estimator, train
 * it on (theta, x) pairs, get a posterior that samples and evaluates log-densities in
 * onnxruntime-node, save it as two ONNX files (docs/onnx-contract.md) and load it back.
 *
 * @example
 * import { arrayPairSource, createEstimator, loadPosterior, train } from '../sbi/index.ts';
 * const est = createEstimator({ kind: 'nsf', thetaDim: 2, xDim: 2, bounds: { low: [-1, -1], high: [1, 1] } });
 * const run = await train(est, arrayPairSource(theta, x, 2, 2), { onProgress: (e) => log(e), signal });
 * const posterior = await run.posterior();
 * const samples = await posterior.sample(xObs, 1000);       // 512 observations x 1000 samples: one call
 * const lp = await posterior.logProb(samples, xObs);
 * await posterior.save('est');  const again = await loadPosterior('est');
 *
 * Estimators (`kind`): `maf` (masked autoregressive flow), `nsf` (rational-quadratic spline coupling
 * flow), `mdn` (mixture of full-covariance Gaussians). Defaults: 5 transforms, 50 hidden units,
 * 10 bins, 10 components; training: batch 200, Adam 5e-4, clip 5, 10% validation, stop after 20
 * epochs without improvement. An `embedding` network (e.g. a 1-D conv net over traces) is trained
 * jointly with the estimator.
 */
export {
  arrayPairSource,
  scanPairs,
  DataError,
  type PairSource,
  type PairScan,
  type ZScore,
} from './data.ts';
export { createEstimator, type Embedding, type Estimator, type EstimatorOptions } from './estimator.ts';
export { train, type TrainOptions, type TrainResult } from './train.ts';
export type { EpochReport } from './checkpoint.ts';
export { Posterior, loadPosterior, type LogProbOptions, type SampleOptions } from './posterior.ts';
export {
  ContractError,
  ESTIMATOR_KINDS,
  CONTRACT_VERSION,
  type EstimatorKind,
  type PosteriorMetadata,
} from './contract.ts';
export type { Bounds } from './prior.ts';
export { Rng } from './rng.ts';
export {
  getTask,
  loadReference,
  defaultReferenceRoot,
  TASK_NAMES,
  type Task,
  type TaskName,
} from './tasks.ts';
