/**
 * The one table of gradient rules: for each primitive op, a function from the node and the gradients
 * of its outputs to one gradient per input (null where an input gets none), or `'none'` for ops that
 * are not differentiable (their inputs receive no gradient), or `'unsupported'` for ops that only
 * appear inside gradient graphs (differentiating through them is an error, never a silent zero).
 *
 * Every rule returns gradients with exactly its input's shape (broadcasting is summed back with
 * `sumToShape`). Each rule is checked against central finite differences in test/graph.
 */
import type { PrimitiveOp } from './primitives.ts';
import { type Node, type Tensor, GraphError } from './tensor.ts';
import {
  add,
  and,
  cast,
  div,
  equal,
  exp,
  greater,
  greaterEqual,
  lessEqual,
  log,
  mul,
  neg,
  pow,
  sigmoid,
  sign,
  sub,
  where,
} from './ops-elementwise.ts';
import {
  concat,
  expand,
  fullLike,
  gather,
  pad,
  reshape,
  scatterAddElements,
  scatterAddND,
  sizeOf,
  slice,
  split,
  squeeze,
  swapLastAxes,
  transpose,
  unsqueeze,
  zerosLike,
} from './ops-shape.ts';
import { cumsum, matmul, sum, sumToShape } from './ops-nn.ts';

/** Gradient rule: output gradients (null = none flowed in) -> one gradient per input. */
export type GradRule = (node: Node, grads: readonly (Tensor | null)[]) => (Tensor | null)[];

const NONE = 'none' as const;
const UNSUPPORTED = 'unsupported' as const;

type Entry = GradRule | typeof NONE | typeof UNSUPPORTED;

const ax = (n: Node, name: string): number => n.attrs[name] as number;
const axesOf = (n: Node): number[] => [...(n.attrs.axes as readonly number[])];

function unbroadcast2(n: Node, ga: Tensor | null, gb: Tensor | null): (Tensor | null)[] {
  const [a, b] = n.inputs;
  return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
}

/** Expands a reduction's output gradient back over the reduced axes. */
function expandReduced(n: Node, g: Tensor): Tensor {
  const x = n.inputs[0];
  const keep = ax(n, 'keepdims') === 1 ? g : unsqueeze(g, axesOf(n));
  return expand(keep, x);
}

/** Gradient rule of every primitive op (see the module comment for the three kinds of entry). */
export const GRADIENT_RULES: Record<PrimitiveOp, Entry> = {
  Input: NONE,
  Constant: NONE,
  ParamSlice: NONE, // handled by grad(): views of a flat buffer are assembled into one Concat
  StopGradient: NONE,

  Neg: (_n, [g]) => [neg(g!)],
  Exp: (n, [g]) => [mul(g!, n.outputs[0])],
  Log: (n, [g]) => [div(g!, n.inputs[0])],
  Tanh: (n, [g]) => {
    const y = n.outputs[0];
    return [mul(g!, sub(1, mul(y, y)))];
  },
  Relu: (n, [g]) => [where(greater(n.inputs[0], 0), g!, 0)],
  Sigmoid: (n, [g]) => {
    const y = n.outputs[0];
    return [mul(g!, mul(y, sub(1, y)))];
  },
  Abs: (n, [g]) => [mul(g!, sign(n.inputs[0]))],
  Sign: NONE,
  Sqrt: (n, [g]) => [div(mul(g!, 0.5), n.outputs[0])],
  Reciprocal: (n, [g]) => {
    const y = n.outputs[0];
    return [neg(mul(g!, mul(y, y)))];
  },
  Softplus: (n, [g]) => [mul(g!, sigmoid(n.inputs[0]))],
  Clip: (n, [g]) => {
    const x = n.inputs[0];
    return [where(and(greaterEqual(x, ax(n, 'min')), lessEqual(x, ax(n, 'max'))), g!, 0)];
  },
  Elu: (n, [g]) => {
    const x = n.inputs[0];
    return [where(greater(x, 0), g!, mul(g!, add(n.outputs[0], ax(n, 'alpha'))))];
  },

  Add: (n, [g]) => unbroadcast2(n, g, g),
  Sub: (n, [g]) => unbroadcast2(n, g, neg(g!)),
  Mul: (n, [g]) => {
    const [a, b] = n.inputs;
    return unbroadcast2(n, mul(g!, b), mul(g!, a));
  },
  Div: (n, [g]) => {
    const b = n.inputs[1];
    const ga = div(g!, b);
    return unbroadcast2(n, ga, neg(mul(ga, n.outputs[0])));
  },
  Pow: (n, [g]) => {
    const [a, b] = n.inputs;
    const y = n.outputs[0];
    const ga = mul(g!, mul(b, pow(a, sub(b, 1))));
    const gb = b.node.op === 'Constant' ? null : mul(g!, mul(y, log(a)));
    return unbroadcast2(n, ga, gb);
  },
  Min: (n, [g]) => {
    const m = lessEqual(n.inputs[0], n.inputs[1]);
    return unbroadcast2(n, where(m, g!, 0), where(m, 0, g!));
  },
  Max: (n, [g]) => {
    const m = greaterEqual(n.inputs[0], n.inputs[1]);
    return unbroadcast2(n, where(m, g!, 0), where(m, 0, g!));
  },

  Greater: NONE,
  Less: NONE,
  Equal: NONE,
  GreaterOrEqual: NONE,
  LessOrEqual: NONE,
  And: NONE,
  Or: NONE,
  Not: NONE,
  Where: (n, [g]) => {
    const [c, a, b] = n.inputs;
    return [null, sumToShape(where(c, g!, 0), a.shape), sumToShape(where(c, 0, g!), b.shape)];
  },
  Cast: (n, [g]) => (n.inputs[0].isFloat ? [cast(g!, n.inputs[0].dtype)] : [null]),

  ReduceSum: (n, [g]) => [expandReduced(n, g!)],
  ReduceMean: (n, [g]) => {
    const x = n.inputs[0];
    const e = expandReduced(n, g!);
    const dims = axesOf(n).map((a) => x.shape[a]);
    if (!dims.includes(-1)) return [mul(e, 1 / dims.reduce((p, d) => p * d, 1))];
    const ratio = div(cast(sizeOf(n.outputs[0]), x.dtype), cast(sizeOf(x), x.dtype));
    return [mul(e, ratio)];
  },
  ReduceMax: (n, [g]) => {
    const x = n.inputs[0];
    const keep = ax(n, 'keepdims') === 1;
    const yk = keep ? n.outputs[0] : unsqueeze(n.outputs[0], axesOf(n));
    const gk = keep ? g! : unsqueeze(g!, axesOf(n));
    const mask = cast(equal(x, yk), x.dtype);
    return [mul(mask, div(gk, sum(mask, axesOf(n), true)))];
  },
  CumSum: (n, [g]) => [
    cumsum(g!, ax(n, 'axis'), { exclusive: ax(n, 'exclusive') === 1, reverse: ax(n, 'reverse') !== 1 }),
  ],
  Softmax: (n, [g]) => {
    const y = n.outputs[0];
    return [mul(y, sub(g!, sum(mul(g!, y), ax(n, 'axis'), true)))];
  },
  LogSoftmax: (n, [g]) => [sub(g!, mul(exp(n.outputs[0]), sum(g!, ax(n, 'axis'), true)))],

  MatMul: (n, [g]) => {
    const [a, b] = n.inputs;
    if (a.rank < 2) {
      throw new GraphError(
        'MatMul with a vector operand (the batch sum of a bias gradient) has no gradient rule: second derivatives through bias gradients are not supported',
      );
    }
    const ga = sumToShape(matmul(g!, swapLastAxes(b)), a.shape);
    if (b.rank === 2 && a.rank > 2) {
      // A weight applied to a batch of matrices: one 2-D product over all rows, no batched product + sum.
      const k = a.shape[a.rank - 1];
      const m = b.shape[1];
      return [ga, matmul(transpose(reshape(a, [-1, k])), reshape(g!, [-1, m]))];
    }
    return [ga, sumToShape(matmul(swapLastAxes(a), g!), b.shape)];
  },
  Conv: convGrad,
  ConvTranspose: UNSUPPORTED,
  AveragePool: avgPoolGrad,
  MaxPool: (n, [g]) => {
    const x = n.inputs[0];
    const idx = n.outputs[1];
    const flat = scatterAddElements(zerosLike(reshape(x, [-1])), reshape(idx, [-1]), reshape(g!, [-1]), 0);
    return [reshape(flat, x.shape)];
  },

  Reshape: (n, [g]) => [reshape(g!, n.inputs[0].shape)],
  Transpose: (n, [g]) => {
    const perm = n.attrs.perm as readonly number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g!, inv)];
  },
  Concat: (n, [g]) => {
    const a = ax(n, 'axis');
    const sizes = n.inputs.map((t) => t.shape[a]);
    if (sizes.includes(-1)) throw new GraphError('Concat gradient: the concatenated axis must be static');
    return split(g!, a, sizes);
  },
  Slice: (n, [g]) => {
    const x = n.inputs[0];
    const a = ax(n, 'axis');
    const pads = new Array<number>(2 * x.rank).fill(0);
    pads[a] = ax(n, 'start');
    pads[a + x.rank] = x.shape[a] - ax(n, 'end');
    return [pad(g!, pads)];
  },
  Split: (n, grads) => {
    const parts = n.outputs.map((o, i) => grads[i] ?? zerosLike(o));
    return [concat(parts, ax(n, 'axis'))];
  },
  Expand: (n, [g]) => [sumToShape(g!, n.inputs[0].shape), null],
  Unsqueeze: (n, [g]) => [squeeze(g!, axesOf(n))],
  Squeeze: (n, [g]) => [unsqueeze(g!, axesOf(n))],
  Shape: NONE,
  Size: NONE,
  ConstantOfShape: NONE,
  Gather: gatherGrad,
  GatherElements: (n, [g]) => {
    const [x, idx] = n.inputs;
    return [scatterAddElements(zerosLike(x), idx, g!, ax(n, 'axis')), null];
  },
  ScatterElements: UNSUPPORTED,
  ScatterND: UNSUPPORTED,
  Pad: (n, [g]) => {
    const x = n.inputs[0];
    const pads = n.attrs.pads as readonly number[];
    let r = g!;
    for (let i = 0; i < x.rank; i++) {
      if (pads[i] || pads[i + x.rank]) r = slice(r, i, pads[i], pads[i] + x.shape[i]);
    }
    return [r];
  },
};

/** Gradient of 1-D convolution: input by transposed convolution, weight by a convolution of x with g. */
function convGrad(n: Node, [g]: readonly (Tensor | null)[]): (Tensor | null)[] {
  const [x, w] = n.inputs;
  const s = ax(n, 'stride');
  const p = ax(n, 'pad');
  const d = ax(n, 'dilation');
  const [, C, L] = x.shape;
  const [O, , K] = w.shape;
  const lout = n.outputs[0].shape[2];
  const outputPadding = L - (s * (lout - 1) + (K - 1) * d + 1 - 2 * p);
  const gx = x.graph.addNode('ConvTranspose', [g!, w], { stride: s, pad: p, dilation: d, outputPadding }, [
    { dtype: x.dtype, shape: x.shape },
  ])[0];
  // dW[o,c,k] = sum_{n,t} g[n,o,t] x[n,c,t*s + k*d - p]: a convolution over the batch-as-channels.
  const xT = transpose(x, [1, 0, 2]);
  const gT = transpose(g!, [1, 0, 2]);
  const len = Math.floor((L + 2 * p - s * (lout - 1) - 1) / d) + 1;
  let gw = x.graph.addNode('Conv', [xT, gT], { stride: d, pad: p, dilation: s }, [
    { dtype: x.dtype, shape: [C, O, len] },
  ])[0];
  if (len > K) gw = slice(gw, 2, 0, K);
  return [gx, transpose(gw, [1, 0, 2])];
}

/** Gradient of average pooling: spread each window's gradient over its (unpadded) elements. */
function avgPoolGrad(n: Node, [g]: readonly (Tensor | null)[]): (Tensor | null)[] {
  const x = n.inputs[0];
  const k = ax(n, 'kernel');
  const s = ax(n, 'stride');
  const p = ax(n, 'pad');
  const [, C, L] = x.shape;
  const lout = n.outputs[0].shape[2];
  const counts = new Array<number>(lout);
  for (let t = 0; t < lout; t++) {
    const lo = Math.max(t * s - p, 0);
    const hi = Math.min(t * s - p + k, L);
    counts[t] = 1 / (hi - lo);
  }
  const gScaled = mul(reshape(g!, [-1, 1, lout]), x.graph.constant(counts, [lout], x.dtype));
  const ones = x.graph.constant(new Array<number>(k).fill(1), [1, 1, k], x.dtype);
  const outputPadding = L - (s * (lout - 1) + k - 2 * p);
  const gx = x.graph.addNode(
    'ConvTranspose',
    [gScaled, ones],
    { stride: s, pad: p, dilation: 1, outputPadding },
    [{ dtype: x.dtype, shape: [gScaled.shape[0], 1, L] }],
  )[0];
  return [reshape(gx, [x.shape[0] === -1 ? -1 : x.shape[0], C, L])];
}

/** Gradient of numpy.take along an axis: scatter-add the slices back (indices must be in range, >= 0). */
function gatherGrad(n: Node, [g]: readonly (Tensor | null)[]): (Tensor | null)[] {
  const [x, idx] = n.inputs;
  const a = ax(n, 'axis');
  const perm = constantPermutation(idx, x.shape[a]);
  if (perm) {
    // A fixed permutation (e.g. between flow transforms): the gradient is the inverse permutation.
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [gather(g!, x.graph.constant(inv, [inv.length], 'int64'), a), null];
  }
  const ri = idx.rank;
  const permX = [a, ...x.shape.map((_, i) => i).filter((i) => i !== a)];
  const gRank = g!.rank;
  const permG = [
    ...Array.from({ length: ri }, (_, i) => a + i),
    ...Array.from({ length: a }, (_, i) => i),
    ...Array.from({ length: gRank - a - ri }, (_, i) => a + ri + i),
  ];
  const zeros = fullLike(transpose(x, permX), 0);
  const scattered = scatterAddND(zeros, unsqueeze(idx, [ri]), transpose(g!, permG));
  const inv = permX.map((_, i) => permX.indexOf(i));
  return [transpose(scattered, inv), null];
}

/** The values of a constant 1-D int64 tensor when they are a permutation of 0..n-1, else null. */
function constantPermutation(idx: Tensor, n: number): number[] | null {
  if (idx.node.op !== 'Constant' || idx.rank !== 1 || idx.shape[0] !== n) return null;
  const v = Array.from(idx.node.attrs.value as BigInt64Array, Number);
  const seen = new Set(v);
  return seen.size === n && v.every((i) => i >= 0 && i < n) ? v : null;
}
