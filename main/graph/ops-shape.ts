/**
 * Shape and indexing ops: reshape, transpose, concat, slice, split, expand, (un)squeeze, gather,
 * scatter, pad, and the runtime-shape helpers the gradient rules use for dynamic dimensions.
 */
import { type DType, type Shape, Tensor, GraphError, formatShape, shapeSize } from './tensor.ts';

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new GraphError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** Normalizes a possibly negative axis against a rank; throws a GraphError when out of range. */
export const normalizeAxis = normAxis;

/**
 * New shape with the same elements. One entry may be -1: inferred from the others (if the input is
 * static) or the input's dynamic dimension (if it has one). An entry 0 keeps the input's dimension
 * at the same position (ONNX semantics), which lets a target keep a dynamic leading axis:
 * `reshape(x, [0, 4, 10, -1])` turns [B, 40, N] into [B, 4, 10, N].
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new GraphError(`Reshape: at most one -1 allowed, got ${formatShape(shape)}`);
  const copied = shape.map((d, i) => {
    if (d !== 0) return d;
    if (i >= x.rank) {
      throw new GraphError(
        `Reshape: target ${formatShape(shape)} copies axis ${i} of ${formatShape(x.shape)}, which has none`,
      );
    }
    return x.shape[i];
  });
  // The input's elements other than the copied axes, and the target's explicit dimensions.
  const rest = x.shape.reduce((p, d, i) => (shape[i] === 0 ? p : p === -1 || d === -1 ? -1 : p * d), 1);
  const known = shape.reduce((p, d) => (d === -1 || d === 0 ? p : p * d), 1);
  let out = [...copied];
  if (rest !== -1) {
    if (unknown === 1) {
      if (rest % known !== 0) {
        throw new GraphError(`Reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
      }
      out = shape.map((d, i) => (d === -1 ? rest / known : copied[i]));
    } else if (known !== rest) {
      throw new GraphError(
        `Reshape: expected ${x.size} elements for ${formatShape(x.shape)}, target ${formatShape(shape)} has ${shapeSize(copied)}`,
      );
    }
  } else if (unknown !== 1) {
    throw new GraphError(
      `Reshape: input ${formatShape(x.shape)} has a dynamic dimension; the target ${formatShape(shape)} must contain one -1`,
    );
  }
  if (out.length === x.rank && out.every((d, i) => d === x.shape[i])) return x;
  return x.graph.addNode('Reshape', [x], { shape: [...shape] }, [{ dtype: x.dtype, shape: out }])[0];
}

/** Flattens to 1-D (static shapes only). */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [-1]);
}

/** Permutes axes (default: reverse them). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const sorted = [...p].sort((a, b) => a - b);
  if (p.length !== x.rank || sorted.some((v, i) => v !== i)) {
    throw new GraphError(`Transpose: perm ${JSON.stringify(p)} is not a permutation of ${x.rank} axes`);
  }
  if (p.every((v, i) => v === i)) return x;
  return x.graph.addNode('Transpose', [x], { perm: [...p] }, [
    { dtype: x.dtype, shape: p.map((i) => x.shape[i]) },
  ])[0];
}

/** Swaps the last two axes (matrix transpose on batched matrices). */
export function swapLastAxes(x: Tensor): Tensor {
  if (x.rank < 2) throw new GraphError(`swapLastAxes: expected rank >= 2, got ${formatShape(x.shape)}`);
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return transpose(x, perm);
}

/** Joins tensors along an axis; all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new GraphError('Concat: expected at least one tensor');
  if (xs.length === 1) return xs[0];
  const first = xs[0];
  const a = normAxis(axis, first.rank, 'Concat');
  let total = 0;
  for (const [i, t] of xs.entries()) {
    if (t.dtype !== first.dtype)
      throw new GraphError(`Concat: input ${i} is ${t.dtype}, expected ${first.dtype}`);
    const ok = t.rank === first.rank && t.shape.every((d, k) => k === a || d === first.shape[k]);
    if (!ok) {
      throw new GraphError(
        `Concat: input ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} except on axis ${a}`,
      );
    }
    total = total === -1 || t.shape[a] === -1 ? -1 : total + t.shape[a];
  }
  const shape = [...first.shape];
  shape[a] = total;
  return first.graph.addNode('Concat', xs, { axis: a }, [{ dtype: first.dtype, shape }])[0];
}

/** x[start:end] along one axis (step 1). Negative indices count from the end (static axes only). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis(axis, x.rank, 'Slice');
  const dim = x.shape[a];
  if (dim === -1) throw new GraphError(`Slice: axis ${a} of ${formatShape(x.shape)} is dynamic`);
  const s = Math.min(Math.max(start < 0 ? start + dim : start, 0), dim);
  const e = Math.min(Math.max(end < 0 ? end + dim : end, 0), dim);
  if (e <= s)
    throw new GraphError(`Slice: empty range ${start}:${end} on axis ${a} of ${formatShape(x.shape)}`);
  if (s === 0 && e === dim) return x;
  const shape = [...x.shape];
  shape[a] = e - s;
  return x.graph.addNode('Slice', [x], { axis: a, start: s, end: e }, [{ dtype: x.dtype, shape }])[0];
}

/** Splits along an axis into pieces of the given sizes (which must sum to the axis length). */
export function split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const a = normAxis(axis, x.rank, 'Split');
  const total = sizes.reduce((p, v) => p + v, 0);
  if (x.shape[a] !== total || sizes.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new GraphError(
      `Split: sizes ${JSON.stringify(sizes)} must be positive and sum to axis ${a} length ${x.shape[a]}`,
    );
  }
  if (sizes.length === 1) return [x];
  const outs = sizes.map((n) => {
    const shape = [...x.shape];
    shape[a] = n;
    return { dtype: x.dtype, shape };
  });
  return x.graph.addNode('Split', [x], { axis: a, split: [...sizes] }, outs);
}

/** Inserts size-1 axes at the given positions (in the output). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.rank + axes.length;
  const norm = axes.map((ax) => normAxis(ax, rank, 'Unsqueeze')).sort((p, q) => p - q);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[k++]);
  return x.graph.addNode('Unsqueeze', [x], { axes: norm }, [{ dtype: x.dtype, shape }])[0];
}

/** Removes the given size-1 axes. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const norm = axes.map((ax) => normAxis(ax, x.rank, 'Squeeze'));
  for (const ax of norm) {
    if (x.shape[ax] !== 1 && x.shape[ax] !== -1) {
      throw new GraphError(
        `Squeeze: axis ${ax} of ${formatShape(x.shape)} has size ${x.shape[ax]}, expected 1`,
      );
    }
  }
  if (norm.length === 0) return x;
  const sorted = [...norm].sort((p, q) => p - q);
  // Squeezing exactly the axes an Unsqueeze added gives back its input (no node).
  if (x.node.op === 'Unsqueeze') {
    const added = x.node.attrs.axes as readonly number[];
    if (added.length === sorted.length && added.every((a, i) => a === sorted[i])) return x.node.inputs[0];
  }
  const shape = x.shape.filter((_, i) => !norm.includes(i));
  return x.graph.addNode('Squeeze', [x], { axes: sorted }, [{ dtype: x.dtype, shape }])[0];
}

/** Runtime shape of x as an int64 vector. */
export function shapeOf(x: Tensor): Tensor {
  return x.graph.addNode('Shape', [x], {}, [{ dtype: 'int64', shape: [x.rank] }])[0];
}

/** Runtime element count of x as an int64 scalar. */
export function sizeOf(x: Tensor): Tensor {
  return x.graph.addNode('Size', [x], {}, [{ dtype: 'int64', shape: [] }])[0];
}

/** A tensor of x's (runtime) shape filled with `value`. */
export function fullLike(x: Tensor, value: number, dtype: DType = x.dtype): Tensor {
  const g = x.graph;
  const shapeTensor = x.size === -1 ? shapeOf(x) : g.constant(x.shape, [x.rank], 'int64');
  return g.addNode('ConstantOfShape', [shapeTensor], { value, dtype }, [{ dtype, shape: x.shape }])[0];
}

/** Zeros shaped like x. */
export const zerosLike = (x: Tensor): Tensor => fullLike(x, 0);

/** Broadcasts x to a static shape, or to the runtime shape of `like` when a tensor is given. */
export function expand(x: Tensor, target: Shape | Tensor): Tensor {
  const g = x.graph;
  const shape = target instanceof Tensor ? target.shape : target;
  const pad = shape.length - x.rank;
  const ok =
    pad >= 0 && x.shape.every((d, i) => d === 1 || d === shape[i + pad] || d === -1 || shape[i + pad] === -1);
  if (!ok) throw new GraphError(`Expand: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  if (x.rank === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const shapeTensor =
    target instanceof Tensor
      ? target.size === -1
        ? shapeOf(target)
        : g.constant(target.shape, [target.rank], 'int64')
      : g.constant(shape, [shape.length], 'int64');
  if (!(target instanceof Tensor) && shape.includes(-1)) {
    throw new GraphError('Expand: a static target shape cannot contain -1; pass a tensor to expand like');
  }
  return g.addNode('Expand', [x, shapeTensor], {}, [{ dtype: x.dtype, shape: [...shape] }])[0];
}

/** numpy.take: picks slices of x along `axis` by an int64 index tensor (numpy-style output shape). */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normAxis(axis, x.rank, 'Gather');
  requireIndex(indices, 'Gather');
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return x.graph.addNode('Gather', [x, indices], { axis: a }, [{ dtype: x.dtype, shape }])[0];
}

/** numpy.take_along_axis: out[..i..] = x[..indices[..i..]..] along `axis`; indices has x's rank. */
export function gatherElements(x: Tensor, indices: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank, 'GatherElements');
  requireIndex(indices, 'GatherElements');
  if (indices.rank !== x.rank) {
    throw new GraphError(
      `GatherElements: indices rank ${indices.rank} ${formatShape(indices.shape)} must equal data rank ${x.rank} ${formatShape(x.shape)}`,
    );
  }
  return x.graph.addNode('GatherElements', [x, indices], { axis: a }, [
    { dtype: x.dtype, shape: indices.shape },
  ])[0];
}

/** Adds `updates` into a copy of `data` at `indices` along `axis` (ONNX ScatterElements, reduction add). */
export function scatterAddElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
  const a = normAxis(axis, data.rank, 'ScatterElements');
  requireIndex(indices, 'ScatterElements');
  return data.graph.addNode('ScatterElements', [data, indices, updates], { axis: a, reduction: 'add' }, [
    { dtype: data.dtype, shape: data.shape },
  ])[0];
}

/** Adds `updates` into a copy of `data` at index tuples (ONNX ScatterND, reduction add). */
export function scatterAddND(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  requireIndex(indices, 'ScatterND');
  return data.graph.addNode('ScatterND', [data, indices, updates], { reduction: 'add' }, [
    { dtype: data.dtype, shape: data.shape },
  ])[0];
}

/** Zero-pads (constant mode): `pads` = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] (ONNX order). */
export function pad(x: Tensor, pads: readonly number[]): Tensor {
  if (pads.length !== 2 * x.rank || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new GraphError(`Pad: expected ${2 * x.rank} non-negative pads for ${formatShape(x.shape)}`);
  }
  if (pads.every((p) => p === 0)) return x;
  const shape = x.shape.map((d, i) => {
    if (d === -1 && pads[i] + pads[i + x.rank] !== 0) throw new GraphError('Pad: cannot pad a dynamic axis');
    return d === -1 ? -1 : d + pads[i] + pads[i + x.rank];
  });
  return x.graph.addNode('Pad', [x], { pads: [...pads] }, [{ dtype: x.dtype, shape }])[0];
}

/**
 * Index dtypes: int64, or int32 for the elementwise pair (GatherElements and its gradient's
 * ScatterElements; Gather's gradient needs ScatterND, which takes int64 only).
 */
function requireIndex(t: Tensor, op: string): void {
  const int32 = op === 'GatherElements' || op === 'ScatterElements';
  if (!(t.dtype === 'int64' || (int32 && t.dtype === 'int32')))
    throw new GraphError(`${op}: indices must be int64${int32 ? ' or int32' : ''}, got ${t.dtype}`);
}

/** Static element count, throwing when dynamic. */
export function staticSize(x: Tensor, what: string): number {
  const n = shapeSize(x.shape);
  if (n === -1) throw new GraphError(`${what}: shape ${formatShape(x.shape)} must be static`);
  return n;
}
