/**
 * Classifier two-sample test (C2ST) with the sbibm benchmark's protocol: both sample sets are
 * z-scored with the mean and std of the reference samples; an MLP classifier (ReLU, two hidden
 * layers of 10*D units, logistic output; scikit-learn MLPClassifier defaults: Adam 1e-3, batch
 * 200, L2 1e-4, Glorot-uniform init, stop when the training loss improves by less than 1e-4 for
 * 10 epochs) is scored by 5-fold shuffled cross-validated accuracy. 0.5: indistinguishable;
 * 1.0: fully separable. The classifier is trained with the workbench's graph engine in onnxruntime.
 *
 * @example
 * const { accuracy } = await c2st(referenceSamples, posteriorSamples, 2);
 * const verdict = checkC2st(accuracy, 0.58);
 */
import {
  Graph,
  ParameterSet,
  Rng as GraphRng,
  Session,
  Trainer,
  add,
  emitModel,
  mean,
  mul,
  relu,
  softplus,
  square,
  sub,
  sum,
  type Initializer,
  uniformInit,
} from '../graph/index.ts';
import { Rng } from '../sbi/rng.ts';
import { matmul } from '../graph/ops-nn.ts';
import { squeeze } from '../graph/ops-shape.ts';
import type { Tensor } from '../graph/tensor.ts';

/** Options of `c2st` (benchmark defaults). */
export interface C2stOptions {
  /** Cross-validation folds (5). */
  folds?: number;
  /** Seed of the fold split, weights and batch order (1, as in sbibm). */
  seed?: number;
  /** Epoch limit per fold (200; scikit-learn's own limit is far higher but the tolerance stops it first). */
  maxEpochs?: number;
  /** Stop when the training loss improves by less than this for `patience` epochs (1e-4, 10). */
  tolerance?: number;
  patience?: number;
}

/** Result of `c2st`. */
export interface C2stResult {
  /** Mean cross-validated accuracy. */
  accuracy: number;
  foldAccuracies: number[];
  /** Epochs trained per fold. */
  epochs: number[];
}

const L2 = 1e-4;
const LR = 1e-3;

/** Glorot-uniform as scikit-learn initializes (factor 6, or 2 for the logistic output layer). */
function glorot(fanIn: number, fanOut: number, factor: number): Initializer {
  const a = Math.sqrt(factor / (fanIn + fanOut));
  return uniformInit(-a, a);
}

function buildClassifier(dim: number): {
  g: Graph;
  params: ParameterSet;
  x: Tensor;
  logit: Tensor;
  weights: Tensor[];
} {
  const g = new Graph();
  const params = new ParameterSet(g);
  const x = g.input('x', [-1, dim]);
  const h = 10 * dim;
  const sizes = [dim, h, h, 1];
  let a = x;
  const weights: Tensor[] = [];
  for (let i = 0; i < 3; i++) {
    const init = glorot(sizes[i], sizes[i + 1], i === 2 ? 2 : 6);
    const w = params.add(`c2st.l${i}.weight`, [sizes[i], sizes[i + 1]], init);
    const b = params.add(`c2st.l${i}.bias`, [sizes[i + 1]], init);
    weights.push(w);
    a = add(matmul(a, w), b);
    if (i < 2) a = relu(a);
  }
  return { g, params, x, logit: squeeze(a, [1]), weights };
}

/** Mean accuracy of a logistic MLP on one train/test split. */
async function trainFold(
  data: Float32Array,
  labels: Float32Array,
  dim: number,
  trainIdx: Uint32Array,
  testIdx: Uint32Array,
  o: Required<C2stOptions>,
  foldSeed: number,
): Promise<{ accuracy: number; epochs: number }> {
  const net = buildClassifier(dim);
  const y = net.g.input('y', [-1]);
  net.g.sameRows(net.x, y); // bias gradients share one row of ones (see main/graph/rows.ts)
  // Binary cross-entropy with logits plus scikit-learn's L2 term alpha/2 * |W|^2 / batch size.
  const bce = mean(sub(softplus(net.logit), mul(y, net.logit)));
  let l2: Tensor | null = null;
  for (const w of net.weights) l2 = l2 ? add(l2, sum(square(w))) : sum(square(w));
  const batchSize = Math.min(200, trainIdx.length);
  const loss = add(bce, mul(l2!, (0.5 * L2) / batchSize));
  const trainer = await Trainer.create(
    { loss, params: net.params, adam: { clipNorm: null } },
    { initial: net.params.initialValues(new GraphRng(foldSeed)) },
  );
  const rng = new Rng(foldSeed);
  let best = Infinity;
  let stale = 0;
  let epochs = 0;
  try {
    const xb = new Float32Array(batchSize * dim);
    const yb = new Float32Array(batchSize);
    for (; epochs < o.maxEpochs && stale < o.patience;) {
      const perm = rng.shuffle(trainIdx.slice());
      let total = 0;
      for (let s = 0; s < perm.length; s += batchSize) {
        const n = Math.min(batchSize, perm.length - s);
        for (let k = 0; k < n; k++) {
          const r = perm[s + k];
          xb.set(data.subarray(r * dim, (r + 1) * dim), k * dim);
          yb[k] = labels[r];
        }
        const l = await trainer.step(
          { x: { data: xb.slice(0, n * dim), dims: [n, dim] }, y: { data: yb.slice(0, n), dims: [n] } },
          LR,
        );
        total += l * n;
      }
      epochs++;
      const epochLoss = total / perm.length;
      if (epochLoss > best - o.tolerance) stale++;
      else stale = 0;
      best = Math.min(best, epochLoss);
    }
    const model = emitModel({
      outputs: { logit: net.logit },
      bind: { [net.params.name]: trainer.parameters() },
    });
    const session = await Session.create(model);
    const xt = new Float32Array(testIdx.length * dim);
    testIdx.forEach((r, k) => xt.set(data.subarray(r * dim, (r + 1) * dim), k * dim));
    const out = await session.run({ x: { data: xt, dims: [testIdx.length, dim] } });
    await session.release();
    const logits = out.logit.data as Float32Array;
    let correct = 0;
    testIdx.forEach((r, k) => (correct += (logits[k] > 0 ? 1 : 0) === labels[r] ? 1 : 0));
    return { accuracy: correct / testIdx.length, epochs };
  } finally {
    await trainer.release();
  }
}

/**
 * C2ST accuracy between reference samples and estimated samples (row-major, `dim` columns each).
 * @throws RangeError for mismatched or too small inputs, or non-finite values.
 */
export async function c2st(
  reference: Float32Array,
  estimate: Float32Array,
  dim: number,
  opts: C2stOptions = {},
): Promise<C2stResult> {
  const o: Required<C2stOptions> = {
    folds: opts.folds ?? 5,
    seed: opts.seed ?? 1,
    maxEpochs: opts.maxEpochs ?? 200,
    tolerance: opts.tolerance ?? 1e-4,
    patience: opts.patience ?? 10,
  };
  if (!Number.isInteger(dim) || dim < 1)
    throw new RangeError(`c2st: dim must be a positive integer, got ${dim}`);
  for (const [name, a] of [
    ['reference', reference],
    ['estimate', estimate],
  ] as const) {
    if (a.length === 0 || a.length % dim !== 0) {
      throw new RangeError(
        `c2st: ${name} has ${a.length} values, expected a non-zero multiple of dim ${dim}`,
      );
    }
    if (!a.every(Number.isFinite)) throw new RangeError(`c2st: ${name} samples contain NaN or inf`);
  }
  const nr = reference.length / dim;
  const ne = estimate.length / dim;
  if (nr + ne < 2 * o.folds)
    throw new RangeError(`c2st: need at least ${2 * o.folds} samples in total, got ${nr + ne}`);
  // z-score both sets with the reference's mean and std.
  const mu = new Float64Array(dim);
  const sd = new Float64Array(dim);
  for (let r = 0; r < nr; r++) for (let d = 0; d < dim; d++) mu[d] += reference[r * dim + d] / nr;
  for (let r = 0; r < nr; r++)
    for (let d = 0; d < dim; d++) sd[d] += (reference[r * dim + d] - mu[d]) ** 2 / (nr - 1);
  for (let d = 0; d < dim; d++) sd[d] = Math.sqrt(sd[d]) || 1;
  const n = nr + ne;
  const data = new Float32Array(n * dim);
  const labels = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const src = r < nr ? reference : estimate;
    const row = r < nr ? r : r - nr;
    for (let d = 0; d < dim; d++) data[r * dim + d] = (src[row * dim + d] - mu[d]) / sd[d];
    labels[r] = r < nr ? 0 : 1;
  }
  const perm = new Rng(o.seed).shuffle(Uint32Array.from({ length: n }, (_, i) => i));
  const foldAccuracies: number[] = [];
  const epochs: number[] = [];
  for (let f = 0; f < o.folds; f++) {
    const lo = Math.floor((f * n) / o.folds);
    const hi = Math.floor(((f + 1) * n) / o.folds);
    const test = perm.slice(lo, hi);
    const trainIdx = new Uint32Array(n - (hi - lo));
    trainIdx.set(perm.subarray(0, lo), 0);
    trainIdx.set(perm.subarray(hi), lo);
    const r = await trainFold(data, labels, dim, trainIdx, test, o, o.seed * 1000 + f);
    foldAccuracies.push(r.accuracy);
    epochs.push(r.epochs);
  }
  return { accuracy: foldAccuracies.reduce((a, b) => a + b, 0) / o.folds, foldAccuracies, epochs };
}

/** Judge a C2ST accuracy against a threshold (e.g. the benchmark targets 0.58 / 0.54). */
export function checkC2st(accuracy: number, threshold: number): { pass: boolean; message: string } {
  const pass = accuracy <= threshold;
  return {
    pass,
    message: `C2ST accuracy ${accuracy.toFixed(3)} ${pass ? '<=' : '>'} ${threshold} (0.5 = indistinguishable)`,
  };
}
