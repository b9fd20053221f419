/**
 * How many rows a tensor's leading axis has, in terms of a graph input, when that can be proved
 * from the graph: the rows of a dynamic-batch input carried through elementwise operations,
 * products, transposes that keep axis 0, reductions over other axes and so on, times a whole factor
 * where a reshape folds another static axis into the rows (a convolution's positions, [B * L, C]).
 * Used to sum bias gradients as a product with a row of ones of that length (input
 * `ones:<factor>:<input>`, fed by `Session`), which onnxruntime runs several times faster than a
 * ReduceSum over the leading axis.
 *
 * Inputs declared with `Graph.sameRows` count as one source (named after the first of them).
 *
 * The analysis is conservative: anything it cannot follow (a reshape that mixes the leading axis
 * with others, two operands whose rows come from different inputs, an unknown operator) gives
 * null, and the caller falls back to a plain reduction.
 */
import {
  COMPARISON_OPS,
  ELEMENTWISE_BINARY_OPS,
  ELEMENTWISE_UNARY_OPS,
  type PrimitiveOp,
} from './primitives.ts';
import { type Tensor } from './tensor.ts';

/** Prefix of the inputs that hold a row of ones as long as another input's leading axis (times a factor). */
export const ONES_PREFIX = 'ones:';

/** Rows = `factor` times the leading dimension of input `input` (after `Graph.sameRows` grouping). */
export interface RowSource {
  input: string;
  factor: number;
}

/** Name of the graph input holding the ones for a row source. */
export const onesInputName = (r: RowSource): string => `${ONES_PREFIX}${r.factor}:${r.input}`;

/** The row source a ones input stands for, or null for other names. */
export function parseOnesInput(name: string): RowSource | null {
  const m = /^(\d+):(.+)$/.exec(name.startsWith(ONES_PREFIX) ? name.slice(ONES_PREFIX.length) : '');
  return m ? { input: m[2], factor: Number(m[1]) } : null;
}

/** Operators whose output has their first input's leading axis. */
const UNARY = new Set<string>([
  ...ELEMENTWISE_UNARY_OPS,
  'Not',
  'Cast',
  'StopGradient',
  'Conv',
  'AveragePool',
  'MaxPool',
] satisfies PrimitiveOp[]);
/** Operators whose operands broadcast against each other (numpy rules). */
const ELEMENTWISE = new Set<string>([...ELEMENTWISE_BINARY_OPS, ...COMPARISON_OPS]);
/** Operators whose `axis` attribute names the one axis they work along. */
const ALONG_AXIS = new Set<string>([
  'Split',
  'Slice',
  'Gather',
  'GatherElements',
  'CumSum',
  'Softmax',
  'LogSoftmax',
  'Concat',
] satisfies PrimitiveOp[]);
/** Operators whose `axes` attribute lists the axes they remove or reduce. */
const OVER_AXES = new Set<string>([
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'Unsqueeze',
  'Squeeze',
] satisfies PrimitiveOp[]);

const memo = new WeakMap<Tensor, RowSource | null>();

/** Where t's rows come from, or null when that is not provable. */
export function rowSource(t: Tensor): RowSource | null {
  if (t.rank === 0 || t.shape[0] !== -1) return null;
  const known = memo.get(t);
  if (known !== undefined) return known;
  const r = follow(t);
  memo.set(t, r);
  return r;
}

/** The common source of several operands' rows, or null when one is unknown or two differ. */
function common(ts: readonly Tensor[]): RowSource | null {
  let src: RowSource | null = null;
  for (const x of ts) {
    const s = rowSource(x);
    if (s === null || (src !== null && (s.input !== src.input || s.factor !== src.factor))) return null;
    src = s;
  }
  return src;
}

const staticSize = (dims: readonly number[]): number =>
  dims.some((d) => d === -1) ? -1 : dims.reduce((p, d) => p * d, 1);

function follow(t: Tensor): RowSource | null {
  const n = t.node;
  const ins = n.inputs;
  const attr = (k: string) => n.attrs[k] as number;
  const axes = () => (n.attrs.axes as readonly number[] | undefined) ?? [];
  if (n.op === 'Input') {
    const name = n.attrs.name as string;
    return name.startsWith(ONES_PREFIX) ? null : { input: t.graph.rowGroupOf(name), factor: 1 };
  }
  if (UNARY.has(n.op)) return rowSource(ins[0]);
  if (ELEMENTWISE.has(n.op)) {
    // Operands of lower rank, or with a static leading 1, broadcast along the rows.
    const rowed = ins.filter((x) => x.rank === t.rank && x.shape[0] !== 1);
    return rowed.length > 0 && rowed.every((x) => x.shape[0] === -1) ? common(rowed) : null;
  }
  if (n.op === 'MatMul') {
    // Rank 2: the rows of the left operand. Higher ranks: the leading (batch) axes broadcast.
    if (t.rank === 2) return ins[0].rank === 2 ? rowSource(ins[0]) : null;
    const rowed = ins.filter((x) => x.rank === t.rank && x.shape[0] !== 1);
    return rowed.length > 0 && rowed.every((x) => x.shape[0] === -1) ? common(rowed) : null;
  }
  if (n.op === 'Transpose') return (n.attrs.perm as readonly number[])[0] === 0 ? rowSource(ins[0]) : null;
  if (ALONG_AXIS.has(n.op)) {
    if (attr('axis') === 0) return null;
    return n.op === 'Concat' ? common(ins) : rowSource(ins[0]);
  }
  if (OVER_AXES.has(n.op)) return axes().includes(0) ? null : rowSource(ins[0]);
  if (n.op === 'Expand') {
    const [x, shape] = ins;
    if (x.rank === t.rank && x.shape[0] === -1) return rowSource(x);
    const like = shape.node.op === 'Shape' ? shape.node.inputs[0] : null;
    return like && like.rank === t.rank ? rowSource(like) : null;
  }
  if (n.op === 'Reshape') {
    // The other axes' (static) element counts before and after give the change in rows: [B, L, C]
    // to [-1, C] has L times the rows, and back. Only whole factors are followed.
    const x = ins[0];
    const before = staticSize(x.shape.slice(1));
    const after = staticSize(t.shape.slice(1));
    const src = x.shape[0] === -1 && before !== -1 && after !== -1 ? rowSource(x) : null;
    if (!src || (src.factor * before) % after !== 0) return null;
    return { input: src.input, factor: (src.factor * before) / after };
  }
  return null;
}
