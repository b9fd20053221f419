import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';
import { gradCheck, type GradCase } from './gradcheck.ts';

const pos = (n: number, seed = 3): number[] => {
  const r = new G.Rng(seed);
  return Array.from({ length: n }, () => 0.5 + 1.5 * r.uniform());
};
const i64 = (g: G.Graph, v: number[], shape: number[]): G.Tensor => g.constant(v, shape, 'int64');

// Every case: [name, gradient-check case]. Float32 cases are for ops onnxruntime runs in float32 only.
const cases: [string, GradCase][] = [
  ['neg', { shapes: [[2, 3]], build: ([x]) => G.neg(x) }],
  ['exp', { shapes: [[2, 3]], build: ([x]) => G.exp(x) }],
  ['log', { shapes: [[2, 3]], values: [pos(6)], build: ([x]) => G.log(x) }],
  ['tanh', { shapes: [[2, 3]], build: ([x]) => G.tanh(x) }],
  ['relu', { shapes: [[3, 4]], build: ([x]) => G.relu(x) }],
  ['sigmoid', { shapes: [[2, 3]], build: ([x]) => G.sigmoid(x) }],
  ['abs', { shapes: [[2, 3]], build: ([x]) => G.abs(x) }],
  ['sign (zero gradient)', { shapes: [[2, 3]], build: ([x]) => G.add(G.sign(x), x) }],
  ['sqrt', { shapes: [[2, 3]], values: [pos(6)], build: ([x]) => G.sqrt(x) }],
  ['reciprocal', { shapes: [[2, 3]], values: [pos(6)], build: ([x]) => G.reciprocal(x) }],
  ['softplus', { shapes: [[2, 3]], build: ([x]) => G.softplus(G.mul(x, 3)) }],
  ['softplus in float32', { shapes: [[2, 3]], dtype: 'float32', build: ([x]) => G.softplus(x) }],
  ['elu', { shapes: [[3, 3]], build: ([x]) => G.elu(x, 0.7) }],
  ['elu float32 kernel', { shapes: [[3, 3]], dtype: 'float32', build: ([x]) => G.elu(x, 1.3) }],
  ['eluComposite', { shapes: [[2, 3]], build: ([x]) => G.eluComposite(x, 0.5) }],
  ['logSigmoid', { shapes: [[2, 3]], build: ([x]) => G.logSigmoid(x) }],
  ['add with broadcasting', { shapes: [[3, 1], [4]], build: ([a, b]) => G.add(a, b) }],
  ['sub with broadcasting', { shapes: [[2, 3], [3]], build: ([a, b]) => G.sub(a, b) }],
  [
    'mul with broadcasting',
    {
      shapes: [
        [2, 1, 3],
        [4, 1],
      ],
      build: ([a, b]) => G.mul(a, b),
    },
  ],
  ['mul of a tensor by itself (square)', { shapes: [[2, 3]], build: ([a]) => G.square(a) }],
  [
    'div with broadcasting',
    { shapes: [[2, 3], [3]], values: [pos(6), pos(3, 4)], build: ([a, b]) => G.div(a, b) },
  ],
  [
    'pow with tensor exponent',
    { shapes: [[2, 3], [3]], values: [pos(6), pos(3, 5)], build: ([a, b]) => G.pow(a, b) },
  ],
  ['pow with constant exponent', { shapes: [[2, 3]], values: [pos(6)], build: ([a]) => G.pow(a, 3) }],
  ['minimum', { shapes: [[2, 3], [3]], build: ([a, b]) => G.minimum(a, b) }],
  [
    'maximum',
    {
      shapes: [
        [2, 3],
        [2, 1],
      ],
      build: ([a, b]) => G.maximum(a, b),
    },
  ],
  ['clip', { shapes: [[4, 4]], build: ([a]) => G.clip(a, -0.5, 0.7) }],
  [
    'where with a comparison mask',
    { shapes: [[2, 3], [2, 3], [3]], build: ([c, a, b]) => G.where(G.greater(c, 0), a, b) },
  ],
  [
    'masks from less/equal/lessEqual/greaterEqual/and/or/not',
    {
      shapes: [[3, 4]],
      build: ([x]) => {
        const m = G.or(G.and(G.less(x, 1), G.greaterEqual(x, -1)), G.not(G.lessEqual(x, 2)));
        return G.mul(x, G.cast(G.or(m, G.equal(x, 0.123)), 'float64'));
      },
    },
  ],
  [
    'cast float32 -> float64 -> float32',
    { shapes: [[2, 3]], dtype: 'float32', build: ([x]) => G.cast(G.mul(G.cast(x, 'float64'), 2), 'float32') },
  ],
  ['sum over an axis', { shapes: [[2, 3, 4]], build: ([x]) => G.sum(x, 1) }],
  ['sum over axes with keepdims', { shapes: [[2, 3, 4]], build: ([x]) => G.sum(x, [0, 2], true) }],
  ['mean', { shapes: [[2, 3, 4]], build: ([x]) => G.mean(x, [-1]) }],
  ['max over an axis', { shapes: [[3, 5]], build: ([x]) => G.max(x, 1) }],
  ['max with keepdims', { shapes: [[3, 5]], build: ([x]) => G.max(x, 0, true) }],
  ['cumsum', { shapes: [[2, 5]], build: ([x]) => G.cumsum(x, 1) }],
  [
    'cumsum exclusive reverse',
    { shapes: [[4, 3]], build: ([x]) => G.cumsum(x, 0, { exclusive: true, reverse: true }) },
  ],
  ['softmax', { shapes: [[3, 4]], build: ([x]) => G.softmax(x) }],
  ['logSoftmax', { shapes: [[3, 4]], build: ([x]) => G.logSoftmax(x, 0) }],
  ['logSumExp', { shapes: [[3, 4]], build: ([x]) => G.logSumExp(G.mul(x, 5), 1) }],
  [
    'matmul',
    {
      shapes: [
        [3, 4],
        [4, 2],
      ],
      build: ([a, b]) => G.matmul(a, b),
    },
  ],
  [
    'batched matmul',
    {
      shapes: [
        [2, 3, 4],
        [2, 4, 5],
      ],
      build: ([a, b]) => G.matmul(a, b),
    },
  ],
  [
    'broadcast matmul',
    {
      shapes: [
        [2, 3, 4],
        [4, 2],
      ],
      build: ([a, b]) => G.matmul(a, b),
    },
  ],
  [
    'conv1d with stride, padding, dilation and bias',
    {
      shapes: [[2, 3, 9], [4, 3, 3], [4]],
      dtype: 'float32',
      build: ([x, w, b]) => G.conv1d(x, w, b, { stride: 2, pad: 1, dilation: 2 }),
    },
  ],
  [
    'conv1d whose stride leaves an unused tail',
    {
      shapes: [
        [1, 2, 8],
        [2, 2, 3],
      ],
      dtype: 'float32',
      build: ([x, w]) => G.conv1d(x, w, undefined, { stride: 2 }),
    },
  ],
  [
    'conv1d plain',
    {
      shapes: [
        [1, 2, 7],
        [3, 2, 2],
      ],
      dtype: 'float32',
      build: ([x, w]) => G.conv1d(x, w),
    },
  ],
  [
    'avgPool1d with padding',
    { shapes: [[2, 2, 7]], dtype: 'float32', build: ([x]) => G.avgPool1d(x, 3, { stride: 2, pad: 1 }) },
  ],
  ['maxPool1d', { shapes: [[2, 2, 7]], build: ([x]) => G.maxPool1d(x, 2, { stride: 1 }) }],
  ['reshape', { shapes: [[2, 6]], build: ([x]) => G.mul(G.reshape(x, [3, -1]), G.reshape(x, [3, 4])) }],
  ['transpose', { shapes: [[2, 3, 4]], build: ([x]) => G.exp(G.transpose(x, [2, 0, 1])) }],
  [
    'concat',
    {
      shapes: [
        [2, 3],
        [2, 2],
      ],
      build: ([a, b]) => G.tanh(G.concat([a, b], 1)),
    },
  ],
  ['slice', { shapes: [[4, 5]], build: ([x]) => G.exp(G.slice(x, 1, 1, -1)) }],
  ['split with an unused piece', { shapes: [[6, 2]], build: ([x]) => G.exp(G.split(x, 0, [1, 2, 3])[2]) }],
  ['expand', { shapes: [[3, 1]], build: ([x]) => G.tanh(G.expand(x, [2, 3, 4])) }],
  [
    'unsqueeze and squeeze',
    { shapes: [[2, 3]], build: ([x]) => G.squeeze(G.exp(G.unsqueeze(x, [0, 2])), [0]) },
  ],
  ['pad', { shapes: [[2, 3]], build: ([x]) => G.exp(G.pad(x, [1, 0, 0, 2])) }],
  [
    'gather on axis 0 with repeated indices',
    {
      shapes: [[4, 3]],
      build: ([x]) => G.tanh(G.gather(x, i64(x.graph, [1, 3, 1, 0], [2, 2]), 0)),
    },
  ],
  [
    'gather on axis 1',
    { shapes: [[2, 4, 3]], build: ([x]) => G.tanh(G.gather(x, i64(x.graph, [3, 0, 3], [3]), 1)) },
  ],
  [
    'gather with a constant permutation on the last axis',
    { shapes: [[2, 3, 4]], build: ([x]) => G.tanh(G.gather(x, i64(x.graph, [2, 0, 3, 1], [4]), -1)) },
  ],
  [
    'matmul of a batch of matrices by a weight matrix',
    {
      shapes: [
        [2, 3, 4],
        [4, 5],
      ],
      build: ([a, b]) => G.tanh(G.matmul(a, b)),
    },
  ],
  [
    'gatherElements',
    {
      shapes: [[3, 4]],
      build: ([x]) => G.tanh(G.gatherElements(x, i64(x.graph, [0, 3, 3, 1, 2, 0], [3, 2]), 1)),
    },
  ],
  [
    'gatherElements with int32 indices',
    {
      shapes: [[3, 4]],
      build: ([x]) => G.tanh(G.gatherElements(x, x.graph.constant([0, 3, 3, 1, 2, 0], [3, 2], 'int32'), 1)),
    },
  ],
];

describe('gradient rules match central finite differences run in onnxruntime', () => {
  const seen = new Set<G.PrimitiveOp>();
  for (const [name, c] of cases) {
    it(name, async () => {
      const r = await gradCheck(c);
      for (const op of r.ops) seen.add(op);
      expect(r.maxError, r.worst).toBeLessThanOrEqual(1);
    });
  }

  it('covers every primitive op that has a gradient rule', () => {
    const rules = Object.entries(G.GRADIENT_RULES)
      .filter(([, r]) => typeof r === 'function')
      .map(([op]) => op);
    const missing = rules.filter((op) => !seen.has(op as G.PrimitiveOp));
    expect(missing).toEqual([]);
  });
});
