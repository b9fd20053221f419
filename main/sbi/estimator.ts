/**
 * Estimator configuration and the three graphs built from it: the training loss (mean negative
 * log-density of a batch), the sampler (observation + noise -> theta) and the log-density
 * (theta + observation -> log q). z-scoring of theta and x is part of every graph; an optional
 * embedding network maps the z-scored x to the conditioning vector and is trained jointly.
 *
 * Every graph reserves the parameters in the same order (embedding first, then the estimator),
 * so one flat buffer fits all three.
 */
import {
  Graph,
  ParameterSet,
  Rng as GraphRng,
  add,
  div,
  emitModel,
  mean,
  neg,
  sub,
  squeeze,
  unsqueeze,
  type Tensor,
} from '../graph/index.ts';
import type { ZScore } from './data.ts';
import { checkBounds, type Bounds } from './prior.ts';
import { ESTIMATOR_KINDS, stampModel, type EstimatorKind, type PosteriorMetadata } from './contract.ts';
import type { DensityModel, ModelSizes, OutputAffine } from './flows/model.ts';
import { buildMaf } from './flows/maf.ts';
import { buildNsf } from './flows/nsf.ts';
import { buildMdn } from './flows/mdn.ts';

/**
 * An embedding (summary) network applied to the z-scored observations before conditioning.
 * `build` is called once per graph and must reserve its parameters in `params` in a fixed order.
 */
export interface Embedding {
  /** Width of the embedding's output. */
  outDim: number;
  /** x [B, xDim] (z-scored) -> [B, outDim]. */
  build(params: ParameterSet, x: Tensor): Tensor;
  /** Short description stored in the export metadata (e.g. `conv1d 3x16`). */
  description?: string;
}

/** What `createEstimator` accepts; omitted sizes take the sbi toolbox defaults. */
export interface EstimatorOptions {
  kind: EstimatorKind;
  thetaDim: number;
  xDim: number;
  /** Box prior support: samples outside are rejected and log-probabilities renormalized. */
  bounds?: Bounds;
  parameterNames?: string[];
  parameterUnits?: string[];
  /** Hidden units per layer (50). */
  hiddenFeatures?: number;
  /** Flow transforms (5). */
  numTransforms?: number;
  /** Spline bins for `nsf` (10). */
  numBins?: number;
  /** Mixture components for `mdn` (10). */
  numComponents?: number;
  /** Spline interval half-width in z-scored units for `nsf` (3). */
  tailBound?: number;
  embedding?: Embedding;
  /**
   * How x is z-scored before the network (`independent`): each dimension by its own mean and std,
   * or `structured`, one mean and std over all dimensions (sbi's option for signals and images).
   * For the pipeline's learned summary of the membrane trace, `independent` trained far better:
   * held-out log-probability -8.7 / -8.5 against -10.9 / -11.0 (docs/sbi-measurements.md).
   */
  zScoreX?: 'independent' | 'structured';
  /** Seed of the initial weights and the MAF permutations (0). */
  seed?: number;
}

/** A configured, untrained estimator (all options resolved). */
export interface Estimator {
  readonly kind: EstimatorKind;
  readonly sizes: ModelSizes;
  readonly xDim: number;
  readonly bounds: Bounds | null;
  readonly parameterNames: string[];
  readonly parameterUnits: string[];
  readonly embedding: Embedding | null;
  readonly zScoreX: 'independent' | 'structured';
  readonly seed: number;
}

/**
 * Validate options and apply defaults.
 * @throws RangeError naming the bad option.
 */
export function createEstimator(o: EstimatorOptions): Estimator {
  if (!(ESTIMATOR_KINDS as readonly string[]).includes(o.kind)) {
    throw new RangeError(`estimator kind must be one of ${ESTIMATOR_KINDS.join(', ')}, got '${o.kind}'`);
  }
  const posInt = (name: string, v: number | undefined, dflt: number): number => {
    const r = v ?? dflt;
    if (!Number.isInteger(r) || r < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    return r;
  };
  const thetaDim = posInt('thetaDim', o.thetaDim, NaN);
  const xDim = posInt('xDim', o.xDim, NaN);
  if (o.bounds) checkBounds(o.bounds, thetaDim);
  const names = o.parameterNames ?? Array.from({ length: thetaDim }, (_, i) => `theta_${i}`);
  if (names.length !== thetaDim)
    throw new RangeError(`parameterNames has ${names.length} entries, expected ${thetaDim}`);
  const units = o.parameterUnits ?? names.map(() => '');
  if (units.length !== thetaDim)
    throw new RangeError(`parameterUnits has ${units.length} entries, expected ${thetaDim}`);
  const tailBound = o.tailBound ?? 3;
  if (!(tailBound > 0)) throw new RangeError(`tailBound must be positive, got ${o.tailBound}`);
  if (o.embedding) posInt('embedding.outDim', o.embedding.outDim, NaN);
  const zScoreX = o.zScoreX ?? 'independent';
  if (zScoreX !== 'independent' && zScoreX !== 'structured')
    throw new RangeError(`zScoreX must be 'independent' or 'structured', got '${String(o.zScoreX)}'`);
  const seed = o.seed ?? 0;
  return {
    kind: o.kind,
    xDim,
    bounds: o.bounds ? { low: [...o.bounds.low], high: [...o.bounds.high] } : null,
    parameterNames: [...names],
    parameterUnits: [...units],
    embedding: o.embedding ?? null,
    zScoreX,
    seed,
    sizes: {
      thetaDim,
      contextDim: o.embedding ? o.embedding.outDim : xDim,
      hiddenFeatures: posInt('hiddenFeatures', o.hiddenFeatures, 50),
      numTransforms: posInt('numTransforms', o.numTransforms, 5),
      numBins: posInt('numBins', o.numBins, 10),
      numComponents: posInt('numComponents', o.numComponents, 10),
      tailBound,
      permutationSeed: seed + 7919,
    },
  };
}

/** The resolved hyperparameters as stored in `adexwb.config`. */
export function estimatorConfig(est: Estimator): Record<string, unknown> {
  const s = est.sizes;
  const common = {
    hiddenFeatures: s.hiddenFeatures,
    seed: est.seed,
    embedding: est.embedding?.description ?? null,
    // Only when structured, so checkpoints of estimators without it still resume.
    ...(est.zScoreX === 'structured' ? { zScoreX: 'structured' } : {}),
  };
  if (est.kind === 'mdn') return { ...common, numComponents: s.numComponents };
  if (est.kind === 'nsf')
    return { ...common, numTransforms: s.numTransforms, numBins: s.numBins, tailBound: s.tailBound };
  // layout 2: one context layer for all transforms, permutations folded into the MADE degrees,
  // masked weights stored as zeros; layout 3 adds the shift's linear term in the context
  // (checkpoints of an earlier layout do not resume into it).
  return { ...common, numTransforms: s.numTransforms, permutationSeed: s.permutationSeed, layout: 3 };
}

interface Core {
  g: Graph;
  params: ParameterSet;
  model: DensityModel;
  /** Context [B, 1, E] from raw observations x [B, X]. */
  ctx: Tensor;
  x: Tensor;
  zTheta: (t: Tensor) => Tensor;
  /** theta from z-scored samples: the affine the sampler applies. */
  unzTheta: OutputAffine;
  /** sum(log std_theta): the z-scoring's log-Jacobian. */
  logStd: number;
}

function buildCore(est: Estimator, z: { theta: ZScore; x: ZScore }): Core {
  const g = new Graph();
  const params = new ParameterSet(g);
  const d = est.sizes.thetaDim;
  const x = g.input('x', [-1, est.xDim]);
  const xm = g.constant(z.x.mean, [est.xDim]);
  const xs = g.constant(z.x.std, [est.xDim]);
  let c = div(sub(x, xm), xs);
  if (est.embedding) {
    c = est.embedding.build(params, c);
    if (c.rank !== 2 || c.shape[1] !== est.embedding.outDim) {
      throw new RangeError(
        `embedding output: expected shape [N,${est.embedding.outDim}], got [${c.shape.join(',')}]`,
      );
    }
  }
  const tm = g.constant(z.theta.mean, [d]);
  const ts = g.constant(z.theta.std, [d]);
  const build = est.kind === 'maf' ? buildMaf : est.kind === 'nsf' ? buildNsf : buildMdn;
  const model = build(params, est.sizes);
  return {
    g,
    params,
    model,
    x,
    ctx: unsqueeze(c, [1]),
    zTheta: (t) => div(sub(t, tm), ts),
    unzTheta: { scale: z.theta.std, shift: z.theta.mean },
    logStd: z.theta.std.reduce((s, v) => s + Math.log(v), 0),
  };
}

/** Training graph: inputs `params`, `theta` [B, D], `x` [B, X]; `loss` = mean of -log q(theta | x). */
export function buildLossGraph(
  est: Estimator,
  z: { theta: ZScore; x: ZScore },
): { loss: Tensor; params: ParameterSet } {
  const core = buildCore(est, z);
  const theta = core.g.input('theta', [-1, est.sizes.thetaDim]);
  core.g.sameRows(theta, core.x);
  // The flows work on any leading axes: training uses rank-2 [B, D] activations, which lets
  // onnxruntime fuse each MatMul with its bias Add (it does not for rank 3). The MDN's mixture
  // layout needs the sample axis.
  const lp =
    est.kind === 'mdn'
      ? core.model.logProb(unsqueeze(core.zTheta(theta), [1]), core.ctx) // [B, 1]
      : core.model.logProb(core.zTheta(theta), squeeze(core.ctx, [1])); // [B]
  return { loss: add(neg(mean(lp)), core.logStd), params: core.params };
}

/** Initial parameter buffer of an estimator (same layout as every graph it builds). */
export function initialParameters(est: Estimator, z: { theta: ZScore; x: ZScore }): Float32Array {
  return buildCore(est, z).params.initialValues(new GraphRng(est.seed));
}

/** The exported sampler model (contract graph `sampler`) with trained parameters bound. */
export function emitSampler(est: Estimator, meta: PosteriorMetadata, trained: Float32Array): Uint8Array {
  const core = buildCore(est, { theta: meta.zscoreTheta, x: meta.zscoreX });
  const noise = core.g.input('noise', [-1, -1, core.model.noiseDim]);
  const theta = core.model.sample(noise, core.ctx, core.unzTheta);
  core.params.checkBuffer(trained);
  const m = emitModel({ outputs: { theta }, bind: { [core.params.name]: trained }, name: 'adexwb_sampler' });
  return stampModel(m.bytes, 'sampler', meta);
}

/** The exported log-density model (contract graph `log_prob`) with trained parameters bound. */
export function emitLogProb(est: Estimator, meta: PosteriorMetadata, trained: Float32Array): Uint8Array {
  const core = buildCore(est, { theta: meta.zscoreTheta, x: meta.zscoreX });
  const theta = core.g.input('theta', [-1, -1, est.sizes.thetaDim]);
  const lp = sub(core.model.logProb(core.zTheta(theta), core.ctx), core.logStd);
  core.params.checkBuffer(trained);
  const m = emitModel({
    outputs: { log_prob: lp },
    bind: { [core.params.name]: trained },
    name: 'adexwb_log_prob',
  });
  return stampModel(m.bytes, 'log_prob', meta);
}

/** Noise columns a sample consumes for this estimator. */
export const noiseDimOf = (est: Estimator): number =>
  est.kind === 'mdn' ? est.sizes.thetaDim + 1 : est.sizes.thetaDim;
