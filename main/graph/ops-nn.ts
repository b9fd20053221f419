/**
 * Reductions, softmax family, matrix products, 1-D convolution and pooling.
 */
import { Tensor, GraphError, formatShape } from './tensor.ts';
import { add, broadcastShapes, log, exp, sub, mul, stopGradient } from './ops-elementwise.ts';
import { normalizeAxis, reshape, squeeze } from './ops-shape.ts';
import { rowSource } from './rows.ts';

type Axes = number | readonly number[] | undefined;

function normAxes(x: Tensor, axes: Axes, op: string): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(a, x.rank, op)))].sort((p, q) => p - q);
  return out;
}

function reduce(
  op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax',
  x: Tensor,
  axes: Axes,
  keepdims: boolean,
): Tensor {
  if (!x.isFloat) throw new GraphError(`${op}: expected a float tensor, got ${x.dtype}`);
  const ax = normAxes(x, axes, op);
  if (ax.length === 0) return x;
  const shape = keepdims
    ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !ax.includes(i));
  return x.graph.addNode(op, [x], { axes: ax, keepdims: keepdims ? 1 : 0 }, [{ dtype: x.dtype, shape }])[0];
}

/** Sum over axes (all axes when omitted). */
export const sum = (x: Tensor, axes?: Axes, keepdims = false): Tensor =>
  reduce('ReduceSum', x, axes, keepdims);
/** Mean over axes (all axes when omitted). */
export const mean = (x: Tensor, axes?: Axes, keepdims = false): Tensor =>
  reduce('ReduceMean', x, axes, keepdims);
/** Maximum over axes (all axes when omitted); the gradient is shared among ties. */
export const max = (x: Tensor, axes?: Axes, keepdims = false): Tensor =>
  reduce('ReduceMax', x, axes, keepdims);

/**
 * Sums a broadcast result back to `shape` (the reverse of numpy broadcasting): used by gradient
 * rules so every input receives a gradient of its own shape.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  if (lead < 0)
    throw new GraphError(`sumToShape: ${formatShape(g.shape)} has lower rank than ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  // A bias gradient, [N, H] summed to [H]: the product of a row of ones with g, one MatMul node.
  // onnxruntime's ReduceSum over the leading axis took about 20 us per node on [200, 50] here and
  // the product 4-5 us; with one bias per layer this was a tenth of a training step.
  // A dynamic row count is used only when the input it comes from is known (rows.ts); otherwise
  // the ReduceSum below.
  if (lead === 1 && g.rank === 2 && g.isFloat) {
    const n = g.shape[0];
    const source = n === -1 ? rowSource(g) : null;
    const ones = source
      ? g.graph.onesFor(source, g.dtype)
      : n !== -1
        ? g.graph.constant(new Array<number>(n).fill(1), [n], g.dtype)
        : null;
    if (ones) return g.graph.addNode('MatMul', [ones, g], {}, [{ dtype: g.dtype, shape: [g.shape[1]] }])[0];
  }
  // Only leading axes to drop: one ReduceSum without keepdims.
  if (axes.every((a) => a < lead)) return reduce('ReduceSum', g, axes, false);
  let r = reduce('ReduceSum', g, axes, true);
  if (lead > 0) r = squeeze(r, [...Array(lead).keys()]);
  return r;
}

/** Cumulative sum along an axis (ONNX CumSum; `exclusive` starts at 0, `reverse` sums from the end). */
export function cumsum(
  x: Tensor,
  axis: number,
  opts: { exclusive?: boolean; reverse?: boolean } = {},
): Tensor {
  if (!x.isFloat) throw new GraphError(`CumSum: expected a float tensor, got ${x.dtype}`);
  const a = normalizeAxis(axis, x.rank, 'CumSum');
  return x.graph.addNode(
    'CumSum',
    [x],
    { axis: a, exclusive: opts.exclusive ? 1 : 0, reverse: opts.reverse ? 1 : 0 },
    [{ dtype: x.dtype, shape: x.shape }],
  )[0];
}

/** Softmax along an axis (default last), one ONNX node. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis(axis, x.rank, 'Softmax');
  return x.graph.addNode('Softmax', [x], { axis: a }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/** log(softmax(x)) along an axis (default last), one ONNX node, numerically stable. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis(axis, x.rank, 'LogSoftmax');
  return x.graph.addNode('LogSoftmax', [x], { axis: a }, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/** log(sum(exp(x))) over axes, stable (shifts by the max, which is held constant for the gradient). */
export function logSumExp(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  const m = stopGradient(max(x, axes, true));
  const s = log(sum(exp(sub(x, m)), axes, true));
  const r = add(s, m);
  if (keepdims) return r;
  const ax = normAxes(x, axes, 'logSumExp');
  return squeeze(r, ax);
}

/**
 * Matrix product with numpy semantics for rank >= 2 (leading batch axes broadcast): [..., n, k] x
 * [..., k, m] -> [..., n, m].
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) {
    throw new GraphError(
      `MatMul: expected rank >= 2 operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  if (a.dtype !== b.dtype) throw new GraphError(`MatMul: dtypes differ: ${a.dtype} vs ${b.dtype}`);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (k1 !== k2 && k1 !== -1 && k2 !== -1) {
    throw new GraphError(
      `MatMul: inner dimensions differ: ${formatShape(a.shape)} x ${formatShape(b.shape)} (expected ${k1} rows in the right operand, got ${k2})`,
    );
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
  const shape = [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]];
  return a.graph.addNode('MatMul', [a, b], {}, [{ dtype: a.dtype, shape }])[0];
}

/** Options of 1-D convolution and pooling (ONNX attribute meanings). */
export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zeros added at both ends (default 0). */
  pad?: number;
  /** Spacing between kernel taps (default 1; convolution only). */
  dilation?: number;
}

function outLength(L: number, k: number, o: Conv1dOptions, op: string): number {
  const s = o.stride ?? 1;
  const p = o.pad ?? 0;
  const d = o.dilation ?? 1;
  const n = Math.floor((L + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (L === -1) throw new GraphError(`${op}: the length axis must be static`);
  if (n < 1)
    throw new GraphError(`${op}: input length ${L} is too short for kernel ${k} (dilation ${d}, pad ${p})`);
  return n;
}

/**
 * 1-D convolution (cross-correlation like PyTorch's Conv1d): x [N, C, L], w [O, C, K], optional
 * bias [O] -> [N, O, Lout].
 */
export function conv1d(x: Tensor, w: Tensor, bias?: Tensor, opts: Conv1dOptions = {}): Tensor {
  if (x.rank !== 3 || w.rank !== 3) {
    throw new GraphError(
      `Conv: expected x [N,C,L] and w [O,C,K], got ${formatShape(x.shape)} and ${formatShape(w.shape)}`,
    );
  }
  requireFloat32(x, 'Conv');
  if (w.shape[1] !== x.shape[1]) {
    throw new GraphError(
      `Conv: weight expects ${w.shape[1]} input channels, x ${formatShape(x.shape)} has ${x.shape[1]}`,
    );
  }
  const lout = outLength(x.shape[2], w.shape[2], opts, 'Conv');
  const attrs = { stride: opts.stride ?? 1, pad: opts.pad ?? 0, dilation: opts.dilation ?? 1 };
  const y = x.graph.addNode('Conv', [x, w], attrs, [
    { dtype: x.dtype, shape: [x.shape[0], w.shape[0], lout] },
  ])[0];
  if (!bias) return y;
  if (bias.rank !== 1 || bias.shape[0] !== w.shape[0]) {
    throw new GraphError(`Conv: bias must have shape [${w.shape[0]}], got ${formatShape(bias.shape)}`);
  }
  return add(y, reshape(bias, [w.shape[0], 1]));
}

/** Average pooling over windows of `kernel` along the last axis of [N, C, L] (padding not counted). */
export function avgPool1d(x: Tensor, kernel: number, opts: Omit<Conv1dOptions, 'dilation'> = {}): Tensor {
  return pool('AveragePool', x, kernel, opts);
}

/** Max pooling over windows of `kernel` along the last axis of [N, C, L]. */
export function maxPool1d(x: Tensor, kernel: number, opts: Omit<Conv1dOptions, 'dilation'> = {}): Tensor {
  return pool('MaxPool', x, kernel, opts);
}

function pool(op: 'AveragePool' | 'MaxPool', x: Tensor, kernel: number, opts: Conv1dOptions): Tensor {
  if (x.rank !== 3) throw new GraphError(`${op}: expected x [N,C,L], got ${formatShape(x.shape)}`);
  if (op === 'AveragePool') requireFloat32(x, op);
  const lout = outLength(x.shape[2], kernel, opts, op);
  const attrs = { kernel, stride: opts.stride ?? 1, pad: opts.pad ?? 0 };
  const shape = [x.shape[0], x.shape[1], lout];
  if (op === 'MaxPool') {
    // Second output: flat argmax indices, used by the gradient rule.
    return x.graph.addNode(op, [x], attrs, [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape },
    ])[0];
  }
  return x.graph.addNode(op, [x], attrs, [{ dtype: x.dtype, shape }])[0];
}

/** Mean of squares: mean((a - b)^2) over all elements; a convenient regression loss. */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  const d = sub(a, b);
  return mean(mul(d, d));
}

/** onnxruntime's CPU kernels for Conv, ConvTranspose and AveragePool exist for float32 only. */
function requireFloat32(x: Tensor, op: string): void {
  if (x.dtype !== 'float32') {
    throw new GraphError(`${op}: onnxruntime runs ${op} in float32 only, got a ${x.dtype} input`);
  }
}
