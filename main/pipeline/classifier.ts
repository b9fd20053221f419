/**
 * The restriction classifier: a residual MLP on parameter sets scaled to [-1, 1] by the prior box,
 * trained with binary cross-entropy (one whole Adam step per onnxruntime run, see graph/train.ts)
 * to predict whether a parameter set gives a simulation inside the regime of interest.
 *
 * @example
 * const clf = await trainRegimeClassifier(theta, labels, bounds, { epochs: 30 });
 * const p = await clf.predict(candidates); // probability of the regime per row
 */
import * as G from '../graph/index.ts';
import { throwIfAborted } from '../diagnostics/types.ts';

/** Box bounds of the prior, per parameter. */
export interface Box {
  low: readonly number[];
  high: readonly number[];
}

/** Architecture and training settings (defaults in parentheses). */
export interface ClassifierOptions {
  /** Hidden units (64). */
  hidden?: number;
  /** Residual blocks (2). */
  blocks?: number;
  /** Maximum epochs (40). */
  epochs?: number;
  /** Stop after this many epochs without validation improvement (5). */
  patience?: number;
  /** Mini-batch size (256). */
  batchSize?: number;
  /** Adam learning rate (1e-3). */
  learningRate?: number;
  /** Fraction of rows held out for validation and threshold choice (0.1). */
  validationFraction?: number;
  /** Seed of initialization and shuffling (0). */
  seed?: number;
}

/** Progress of classifier training: one report per epoch. */
export interface ClassifierProgress {
  epoch: number;
  epochs: number;
  trainLoss: number;
  validationLoss: number;
}

/** A trained classifier and what it was validated on. */
export interface RegimeClassifier {
  readonly thetaDim: number;
  readonly box: Box;
  readonly hidden: number;
  readonly blocks: number;
  /** The trained flat parameter buffer. */
  readonly weights: Float32Array;
  /** Validation rows (indices into the training arrays), their labels and predicted probabilities. */
  readonly validation: { indices: Uint32Array; labels: Uint8Array; probabilities: Float32Array };
  readonly epochsRun: number;
  readonly bestValidationLoss: number;
  /** Probability of the regime of interest for each row of `theta` (n x thetaDim, raw units). */
  predict(theta: Float32Array): Promise<Float32Array>;
  /** The ONNX model (input `theta` [N, D] raw units, output `probability` [N]) with the weights inside. */
  onnx(): Uint8Array;
  release(): Promise<void>;
}

interface Net {
  graph: G.Graph;
  params: G.ParameterSet;
  logits: G.Tensor;
  theta: G.Tensor;
}

/** Build the network graph: theta [rows, D] raw units -> logits [rows]; rows -1 is dynamic (inference only). */
function buildNet(dim: number, box: Box, hidden: number, blocks: number, rows = -1): Net {
  const graph = new G.Graph();
  const params = new G.ParameterSet(graph);
  const theta = graph.input('theta', [rows, dim]);
  const center = box.low.map((lo, d) => (lo + box.high[d]) / 2);
  const halfWidth = box.low.map((lo, d) => (box.high[d] - lo) / 2);
  const z = G.div(G.sub(theta, graph.constant(center, [dim])), graph.constant(halfWidth, [dim]));
  let h = G.linear(params, 'input', z, hidden);
  for (let b = 0; b < blocks; b++) {
    const r = G.linear(
      params,
      `block${b}.l2`,
      G.relu(G.linear(params, `block${b}.l1`, G.relu(h), hidden)),
      hidden,
    );
    h = G.add(h, r);
  }
  const logits = G.reshape(G.linear(params, 'output', G.relu(h), 1), [-1]);
  return { graph, params, logits, theta };
}

/** Mean binary cross-entropy with logits: softplus(z) - y z. */
function bceLoss(net: Net): G.Tensor {
  const y = net.graph.input('label', [net.theta.shape[0]]);
  return G.mean(G.sub(G.softplus(net.logits), G.mul(y, net.logits)));
}

function checkInputs(theta: Float32Array, labels: Uint8Array, box: Box): number {
  const dim = box.low.length;
  if (dim < 1 || box.high.length !== dim)
    throw new RangeError(
      `classifier: box must have matching low/high arrays, got ${box.low.length} and ${box.high.length}`,
    );
  for (let d = 0; d < dim; d++) {
    if (!(box.low[d] < box.high[d]))
      throw new RangeError(
        `classifier: box of parameter ${d}: low ${box.low[d]} must be below high ${box.high[d]}`,
      );
  }
  if (theta.length !== labels.length * dim) {
    throw new RangeError(
      `classifier: theta has ${theta.length} values but ${labels.length} labels x ${dim} parameters need ${labels.length * dim}`,
    );
  }
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i] ? 1 : 0;
  if (pos === 0 || pos === labels.length) {
    throw new RangeError(
      `classifier: labels must contain both classes (got ${pos} of ${labels.length} inside the regime)`,
    );
  }
  return dim;
}

/**
 * Train the regime classifier on labelled parameter sets (`theta` n x D raw units, `labels` 0/1),
 * with a seeded validation split and early stopping on validation loss; the best weights are kept.
 */
export async function trainRegimeClassifier(
  theta: Float32Array,
  labels: Uint8Array,
  box: Box,
  opts: ClassifierOptions = {},
  run: { onProgress?: (p: ClassifierProgress) => void; signal?: AbortSignal } = {},
): Promise<RegimeClassifier> {
  const dim = checkInputs(theta, labels, box);
  const hidden = opts.hidden ?? 64;
  const blocks = opts.blocks ?? 2;
  const epochs = opts.epochs ?? 40;
  const patience = opts.patience ?? 5;
  const batchSize = opts.batchSize ?? 256;
  const lr = opts.learningRate ?? 1e-3;
  const rng = new G.Rng(opts.seed ?? 0);
  const n = labels.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const nVal = Math.max(1, Math.round(n * (opts.validationFraction ?? 0.1)));
  if (n - nVal < 2) throw new RangeError(`classifier: need at least ${nVal + 2} rows, got ${n}`);
  const valIdx = order.slice(0, nVal).sort();
  const trainIdx = order.slice(nVal);

  // Training runs on full batches of a static size (weight gradients need a static row count).
  const batch = Math.min(batchSize, trainIdx.length);
  const net = buildNet(dim, box, hidden, blocks, batch);
  const loss = bceLoss(net);
  const trainer = await G.Trainer.create(
    { loss, params: net.params },
    { initial: net.params.initialValues(rng) },
  );
  const gather = (idx: Uint32Array, from: number, to: number) => {
    const t = new Float32Array((to - from) * dim);
    const y = new Float32Array(to - from);
    for (let k = from; k < to; k++) {
      const i = idx[k];
      t.set(theta.subarray(i * dim, (i + 1) * dim), (k - from) * dim);
      y[k - from] = labels[i];
    }
    return { theta: t, label: y };
  };
  const valBatch = gather(valIdx, 0, nVal);
  const evalNet = buildNet(dim, box, hidden, blocks);
  const evalSession = await G.Session.create(G.emitModel({ outputs: { logits: evalNet.logits } }));
  const validationLoss = async (weights: Float32Array): Promise<number> => {
    const res = await evalSession.run({
      [evalNet.params.name]: weights,
      theta: { data: valBatch.theta, dims: [nVal, dim] },
    });
    const z = res.logits.data as Float32Array;
    let l = 0;
    for (let i = 0; i < nVal; i++)
      l += Math.max(z[i], 0) + Math.log1p(Math.exp(-Math.abs(z[i]))) - valBatch.label[i] * z[i];
    return l / nVal;
  };
  let best = Infinity;
  let bestWeights = trainer.parameters();
  let since = 0;
  let epochsRun = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      rng.shuffle(trainIdx);
      let sum = 0;
      let count = 0;
      for (let start = 0; start + batch <= trainIdx.length; start += batch) {
        throwIfAborted(run.signal);
        const b = gather(trainIdx, start, start + batch);
        sum += await trainer.step({ theta: b.theta, label: b.label }, lr);
        count++;
      }
      const vl = await validationLoss(trainer.parameters());
      epochsRun = epoch;
      run.onProgress?.({ epoch, epochs, trainLoss: sum / count, validationLoss: vl });
      if (vl < best - 1e-5) {
        best = vl;
        bestWeights = trainer.parameters();
        since = 0;
      } else if (++since >= patience) break;
    }
  } finally {
    await trainer.release();
    await evalSession.release();
  }
  const clf = await classifierFromWeights(dim, box, hidden, blocks, bestWeights, {
    indices: valIdx,
    labels: Uint8Array.from(valIdx, (i) => labels[i]),
    probabilities: new Float32Array(0),
  });
  const probabilities = await clf.predict(valBatch.theta);
  return Object.assign(clf, {
    validation: { ...clf.validation, probabilities },
    epochsRun,
    bestValidationLoss: best,
  });
}

/** Rebuild a classifier from stored weights (e.g. loaded from the project). */
export async function classifierFromWeights(
  dim: number,
  box: Box,
  hidden: number,
  blocks: number,
  weights: Float32Array,
  validation: RegimeClassifier['validation'] = {
    indices: new Uint32Array(0),
    labels: new Uint8Array(0),
    probabilities: new Float32Array(0),
  },
): Promise<RegimeClassifier> {
  const net = buildNet(dim, box, hidden, blocks);
  net.params.checkBuffer(weights);
  const model = G.emitModel({
    outputs: { probability: G.sigmoid(net.logits) },
    bind: { [net.params.name]: weights },
    metadata: {
      'adexwb.kind': 'regime_classifier',
      'adexwb.box': JSON.stringify(box),
      'adexwb.hidden': String(hidden),
      'adexwb.blocks': String(blocks),
    },
  });
  const session = await G.Session.create(model);
  return {
    thetaDim: dim,
    box,
    hidden,
    blocks,
    weights,
    validation,
    epochsRun: 0,
    bestValidationLoss: NaN,
    async predict(theta: Float32Array) {
      if (theta.length % dim !== 0)
        throw new RangeError(`classifier: theta has ${theta.length} values, not a multiple of ${dim}`);
      const rows = theta.length / dim;
      if (rows === 0) return new Float32Array(0);
      const out = new Float32Array(rows);
      const chunk = 65536;
      for (let s = 0; s < rows; s += chunk) {
        const e = Math.min(rows, s + chunk);
        const res = await session.run({
          theta: { data: theta.subarray(s * dim, e * dim), dims: [e - s, dim] },
        });
        out.set(res.probability.data as Float32Array, s);
      }
      return out;
    },
    onnx: () => model.bytes,
    release: () => session.release(),
  };
}

/**
 * The acceptance threshold for a target false-negative rate: the `fnr` quantile of the predicted
 * probabilities of validation rows that are inside the regime, so that a fraction of about `fnr`
 * of useful parameter sets is rejected.
 */
export function thresholdForFalseNegativeRate(
  probabilities: Float32Array,
  labels: Uint8Array,
  fnr: number,
): number {
  if (!(fnr >= 0 && fnr < 1)) throw new RangeError(`false-negative rate must be in [0, 1), got ${fnr}`);
  const pos: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i]) pos.push(probabilities[i]);
  if (pos.length === 0) throw new RangeError('threshold: no validation row lies inside the regime');
  pos.sort((a, b) => a - b);
  const k = Math.floor(fnr * pos.length);
  // Accept p >= threshold: the k lowest positives fall below it.
  return k === 0 ? Math.min(pos[0], 0.5) : (pos[k - 1] + pos[k]) / 2;
}
