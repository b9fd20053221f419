/**
 * Reverse-mode differentiation that emits the gradient as more nodes of the same graph.
 */
import { GRADIENT_RULES } from './gradients.ts';
import { type Node, Tensor, GraphError, formatShape } from './tensor.ts';
import { add } from './ops-elementwise.ts';
import { parameterSetOf } from './params.ts';
import { concat, reshape, zerosLike } from './ops-shape.ts';

/**
 * Gradients of `y` with respect to each tensor in `wrt`, as new tensors in y's graph (same shapes
 * as `wrt`). `y` must have one element unless `seed` (the gradient flowing into y, y's shape) is
 * given. A tensor y does not depend on gets zeros. For a flat parameter buffer (`params.flat`) the
 * gradients of all its views are assembled into one vector.
 *
 * @example
 * const [gW, gB] = grad(loss, [w, b]);
 * const [gAll] = grad(loss, [params.flat]);
 */
export function grad(y: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  const g = y.graph;
  if (!y.isFloat) throw new GraphError(`grad: expected a float output, got ${y.dtype}`);
  for (const w of wrt) {
    if (w.graph !== g) throw new GraphError(`grad: ${w} belongs to another graph`);
    if (!w.isFloat) throw new GraphError(`grad: cannot differentiate with respect to a ${w.dtype} tensor`);
  }
  let seedT: Tensor;
  if (seed) {
    if (seed.shape.length !== y.shape.length || seed.shape.some((d, i) => d !== y.shape[i])) {
      throw new GraphError(
        `grad: seed shape ${formatShape(seed.shape)} must equal output shape ${formatShape(y.shape)}`,
      );
    }
    seedT = seed;
  } else {
    if (y.size !== 1) {
      throw new GraphError(
        `grad: output has shape ${formatShape(y.shape)}; pass a seed or reduce it to one element`,
      );
    }
    seedT = y.rank === 0 ? g.scalar(1, y.dtype) : g.constant([1], y.shape, y.dtype);
  }

  const relevant = relevantNodes(y, wrt);
  const adj = new Map<Tensor, Tensor[]>();
  const push = (t: Tensor, v: Tensor): void => {
    const list = adj.get(t);
    if (list) list.push(v);
    else adj.set(t, [v]);
  };
  const total = (t: Tensor): Tensor | null => {
    const list = adj.get(t);
    if (!list || list.length === 0) return null;
    return list.reduce((p, q) => add(p, q));
  };
  push(y, seedT);
  // Pieces of flat parameter buffers: buffer -> (offset -> gradient of that view).
  const pieces = new Map<Tensor, Map<number, Tensor>>();
  const wrtSet = new Set(wrt);

  for (let id = y.node.id; id >= 0; id--) {
    const node = g.nodes[id];
    if (!relevant.has(node)) continue;
    if (node.op === 'Input') {
      const flat = node.outputs[0];
      const m = pieces.get(flat);
      if (m) push(flat, assembleFlat(flat, m));
      continue;
    }
    const outGrads = node.outputs.map(total);
    if (outGrads.every((v) => v === null)) continue;
    if (node.op === 'ParamSlice') {
      const flat = node.inputs[0];
      const m = pieces.get(flat) ?? new Map<number, Tensor>();
      m.set(node.attrs.index as number, outGrads[0]!);
      pieces.set(flat, m);
      continue;
    }
    const rule = GRADIENT_RULES[node.op];
    if (rule === 'none') continue;
    if (rule === 'unsupported') throw new GraphError(`grad: ${node.op} is not differentiable in this engine`);
    const inGrads = rule(node, outGrads);
    node.inputs.forEach((inp, i) => {
      const gi = inGrads[i];
      if (!gi || !inp.isFloat || !(relevant.has(inp.node) || wrtSet.has(inp))) return;
      checkSameShape(node, i, inp, gi);
      push(inp, gi);
    });
  }
  return wrt.map((w) => total(w) ?? zerosLike(w));
}

/** Nodes on some path from a `wrt` tensor to y. */
function relevantNodes(y: Tensor, wrt: readonly Tensor[]): Set<Node> {
  const g = y.graph;
  const depends = new Set<Node>();
  const wrtNodes = new Set(wrt.map((w) => w.node));
  for (let id = 0; id <= y.node.id; id++) {
    const n = g.nodes[id];
    if (wrtNodes.has(n) || n.inputs.some((t) => depends.has(t.node) || wrt.includes(t))) depends.add(n);
  }
  const needed = new Set<Node>([y.node]);
  for (let id = y.node.id; id >= 0; id--) {
    const n = g.nodes[id];
    if (!needed.has(n)) continue;
    for (const t of n.inputs) needed.add(t.node);
  }
  const out = new Set<Node>();
  for (const n of depends) if (needed.has(n)) out.add(n);
  return out;
}

/** Gradient of a flat parameter buffer from its views' gradients (the reverse of the bank layout). */
function assembleFlat(flat: Tensor, m: Map<number, Tensor>): Tensor {
  const set = parameterSetOf(flat);
  if (!set) throw new GraphError('grad: a parameter view is not attached to a ParameterSet');
  const g = flat.graph;
  const zeros = (shape: number[]): Tensor =>
    g.constant(new Array<number>(shape.reduce((p, d) => p * d, 1)).fill(0), shape, flat.dtype);
  const parts = set.banks.map((b) => {
    if (b.width === 0)
      return concat(
        b.entries.map((e) => m.get(e.index) ?? zeros([e.size])),
        0,
      );
    const rows = b.entries.map((e) => {
      const shape = [e.size / b.width, b.width];
      const gp = m.get(e.index);
      return gp ? reshape(gp, shape) : zeros(shape);
    });
    return reshape(concat(rows, 0), [b.size]);
  });
  return concat(parts, 0);
}

function checkSameShape(node: Node, i: number, inp: Tensor, gi: Tensor): void {
  const same =
    gi.rank === inp.rank && gi.shape.every((d, k) => d === inp.shape[k] || d === -1 || inp.shape[k] === -1);
  if (!same) {
    throw new GraphError(
      `grad: rule for ${node.op} returned ${formatShape(gi.shape)} for input ${i}, expected ${formatShape(inp.shape)}`,
    );
  }
}
