/**
 * Elementwise ops with numpy broadcasting: unary math, binary arithmetic, comparisons, masks,
 * `where`, `cast`, and composites built from them (square, clip, softplus, elu, ...).
 *
 * Binary ops accept a plain number on either side; it becomes a scalar constant of the other
 * operand's dtype.
 */
import type { PrimitiveOp } from './primitives.ts';
import { type ConstantData, type DType, type Shape, Tensor, GraphError, formatShape } from './tensor.ts';

/** A tensor or a plain number (a scalar constant). */
export type TensorLike = Tensor | number;

/** Broadcast result shape of two shapes (numpy rules; a dynamic dim matches anything). */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
    const db = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (da === -1) out.push(db);
    else if (db === -1) out.push(da);
    else {
      throw new GraphError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i}: ${da} vs ${db})`,
      );
    }
  }
  return out;
}

/** Turns numbers into scalar constants matching the dtype of the tensor operand. */
export function lift(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) {
    if (a.dtype !== b.dtype) {
      throw new GraphError(`${op}: dtypes differ: expected ${a.dtype} for both operands, got ${b.dtype}`);
    }
    return [a, b];
  }
  if (a instanceof Tensor) return [a, a.graph.scalar(b as number, a.dtype)];
  if (b instanceof Tensor) return [b.graph.scalar(a, b.dtype), b];
  throw new GraphError(`${op}: at least one operand must be a tensor`);
}

function requireFloat(x: Tensor, op: string): void {
  if (!x.isFloat) throw new GraphError(`${op}: expected a float32/float64 tensor, got ${x.dtype}`);
}

function unary(op: PrimitiveOp, x: Tensor, attrs: Record<string, number> = {}): Tensor {
  requireFloat(x, op);
  return x.graph.addNode(op, [x], attrs, [{ dtype: x.dtype, shape: x.shape }])[0];
}

/** True for a rank-0 constant holding `v`. */
function isScalarConst(t: Tensor, v: number): boolean {
  return t.node.op === 'Constant' && t.rank === 0 && Number((t.node.attrs.value as ConstantData)[0]) === v;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** x*1, 1*x, x/1, x+0, 0+x, x-0 need no node (common in gradient graphs seeded with 1). */
function identityOperand(op: PrimitiveOp, x: Tensor, y: Tensor, shape: readonly number[]): Tensor | null {
  const keepX = sameShape(x.shape, shape);
  const keepY = sameShape(y.shape, shape);
  if (op === 'Mul') return keepX && isScalarConst(y, 1) ? x : keepY && isScalarConst(x, 1) ? y : null;
  if (op === 'Add') return keepX && isScalarConst(y, 0) ? x : keepY && isScalarConst(x, 0) ? y : null;
  if (op === 'Div') return keepX && isScalarConst(y, 1) ? x : null;
  if (op === 'Sub') return keepX && isScalarConst(y, 0) ? x : null;
  return null;
}

function binary(op: PrimitiveOp, a: TensorLike, b: TensorLike, outDtype?: DType): Tensor {
  const [x, y] = lift(a, b, op);
  const shape = broadcastShapes(x.shape, y.shape, op);
  const same = outDtype === undefined ? identityOperand(op, x, y, shape) : null;
  if (same) return same;
  return x.graph.addNode(op, [x, y], {}, [{ dtype: outDtype ?? x.dtype, shape }])[0];
}

/** -x */
export const neg = (x: Tensor): Tensor => unary('Neg', x);
/** e^x */
export const exp = (x: Tensor): Tensor => unary('Exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary('Log', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary('Relu', x);
/** 1 / (1 + e^-x) */
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
/** |x| */
export const abs = (x: Tensor): Tensor => unary('Abs', x);
/** -1, 0 or 1 (gradient zero). */
export const sign = (x: Tensor): Tensor => unary('Sign', x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
/** 1 / x */
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
/**
 * log(1 + e^x), any float dtype; emitted as max(log(1 + exp(min(x, 80))), x) (onnx-emit.ts), its
 * gradient g sigmoid(x).
 */
export const softplus = (x: Tensor): Tensor => unary('Softplus', x);
/** x for x > 0, alpha (e^x - 1) otherwise; one ONNX Elu node (float32 only in onnxruntime). */
export const elu = (x: Tensor, alpha = 1): Tensor => unary('Elu', x, { alpha });

/** a + b */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('Add', a, b);
/** a - b */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('Sub', a, b);
/** a * b */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('Mul', a, b);
/** a / b */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('Div', a, b);
/** a ^ b (elementwise). */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('Pow', a, b);
/** Elementwise minimum. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('Min', a, b);
/** Elementwise maximum. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('Max', a, b);

/** Mask a > b (bool). */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('Greater', a, b, 'bool');
/** Mask a < b (bool). */
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('Less', a, b, 'bool');
/** Mask a == b (bool). */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('Equal', a, b, 'bool');
/** Mask a >= b (bool). */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('GreaterOrEqual', a, b, 'bool');
/** Mask a <= b (bool). */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('LessOrEqual', a, b, 'bool');

/** Logical and of two bool masks. */
export function and(a: Tensor, b: Tensor): Tensor {
  requireBool(a, 'And');
  requireBool(b, 'And');
  return binary('And', a, b);
}
/** Logical or of two bool masks. */
export function or(a: Tensor, b: Tensor): Tensor {
  requireBool(a, 'Or');
  requireBool(b, 'Or');
  return binary('Or', a, b);
}
/** Logical not of a bool mask. */
export function not(a: Tensor): Tensor {
  requireBool(a, 'Not');
  return a.graph.addNode('Not', [a], {}, [{ dtype: 'bool', shape: a.shape }])[0];
}

function requireBool(x: Tensor, op: string): void {
  if (x.dtype !== 'bool') throw new GraphError(`${op}: expected a bool mask, got ${x.dtype}`);
}

/** Picks `a` where `cond` is true, `b` elsewhere (all three broadcast). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  requireBool(cond, 'Where');
  const [x, y] = lift(a, b, 'Where');
  const shape = broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape, 'Where'), 'Where');
  return x.graph.addNode('Where', [cond, x, y], {}, [{ dtype: x.dtype, shape }])[0];
}

/** Converts to another dtype (masks to 0/1 floats, floats to int64 by truncation, ...). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return x.graph.addNode('Cast', [x], { to: dtype }, [{ dtype, shape: x.shape }])[0];
}

/** Identity whose gradient is zero (the value is treated as a constant by `grad`). */
export function stopGradient(x: Tensor): Tensor {
  return x.graph.addNode('StopGradient', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
}

// ---- composites -------------------------------------------------------------------------------

/** x * x */
export const square = (x: Tensor): Tensor => mul(x, x);

/**
 * Clamps to [lo, hi]; gradient passes where lo <= x <= hi. Either bound may be omitted (null).
 * Two numeric bounds give one Clip node, tensor bounds a Max and a Min.
 */
export function clip(x: Tensor, lo: TensorLike | null, hi: TensorLike | null): Tensor {
  if (typeof lo === 'number' && typeof hi === 'number') {
    if (!(lo <= hi))
      throw new GraphError(`clip: the bounds must be numbers with lo <= hi, got lo ${lo} and hi ${hi}`);
    return unary('Clip', x, { min: lo, max: hi });
  }
  let y = x;
  if (lo !== null) y = maximum(y, lo);
  if (hi !== null) y = minimum(y, hi);
  return y;
}

/** ELU from primitives available in float64: where(x > 0, x, alpha (e^min(x,0) - 1)). */
export function eluComposite(x: Tensor, alpha = 1): Tensor {
  return where(greater(x, 0), x, mul(sub(exp(minimum(x, 0)), 1), alpha));
}

/** log(sigmoid(x)) = -softplus(-x), stable. */
export const logSigmoid = (x: Tensor): Tensor => neg(softplus(neg(x)));
