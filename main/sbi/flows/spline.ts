/**
 * Rational-quadratic spline with linear (identity) tails (Durkan et al. 2019, as in nflows), built
 * without boolean-mask indexing so it exports as plain ONNX: the input is clamped to the interval,
 * the bin is selected with a one-hot vector from comparisons, and `where` restores the identity
 * outside [-B, B].
 *
 * Parameters per transformed dimension: K bin widths, K bin heights (softmax, minimum 1e-3 each)
 * and K - 1 interior knot derivatives (softplus + 1e-3); the boundary derivatives are 1 so the
 * spline joins the identity tails smoothly.
 */
import type { Tensor } from '../../graph/tensor.ts';
import {
  add,
  and,
  cast,
  clip,
  div,
  equal,
  exp,
  greaterEqual,
  lessEqual,
  log,
  maximum,
  mul,
  neg,
  softplus,
  softplusStable,
  sqrt,
  square,
  sub,
  where,
} from '../../graph/ops-elementwise.ts';
import { cumsum, matmul, max, softmax, sum } from '../../graph/ops-nn.ts';
import { concat, fullLike, gatherElements, slice, split, squeeze, unsqueeze } from '../../graph/ops-shape.ts';

const MIN_BIN = 1e-3;
const MIN_DERIVATIVE = 1e-3;

/** Number of raw parameters per dimension for K bins. */
export const splineParamCount = (bins: number): number => 3 * bins - 1;

interface Knots {
  /** Left edges and sizes of the bins on the input (x) and output (y) axes, [..., K]. */
  xLeft: Tensor;
  width: Tensor;
  yLeft: Tensor;
  height: Tensor;
  /** Derivatives at the left and right knot of each bin, [..., K]. */
  dLeft: Tensor;
  dRight: Tensor;
}

/**
 * Softmax over the bins. On the last axis one Softmax node; on another axis (feature-major
 * samplers) exp(u - max) / sum, because onnxruntime's Softmax transposes a non-last axis to the end
 * and back. Likewise onnxruntime's Softplus kernel is scalar (about 17 ns per value here), so the
 * samplers use the composite softplus.
 */
function softmaxAlong(u: Tensor, ax: number): Tensor {
  if (ax === -1) return softmax(u, -1);
  const e = exp(sub(u, max(u, [ax], true)));
  return div(e, sum(e, [ax], true));
}

/** Bin sizes (softmax with a minimum, scaled to the interval [-B, B]) and left edges along `ax`. */
function binSizes(u: Tensor, bins: number, bound: number, ax: number): { left: Tensor; size: Tensor } {
  const s = add(mul(softmaxAlong(u, ax), 1 - MIN_BIN * bins), MIN_BIN);
  const size = mul(s, 2 * bound);
  return { left: sub(cumsum(size, ax, { exclusive: true }), bound), size };
}

/**
 * Knot positions from raw parameters (already scaled as the caller wishes) whose axis `ax` holds
 * the 3K - 1 values of each spline.
 */
function knots(raw: Tensor, bins: number, bound: number, ax: number): Knots {
  const [uw, uh, ud] = split(raw, ax, [bins, bins, bins - 1]);
  const w = binSizes(uw, bins, bound, ax);
  const h = binSizes(uh, bins, bound, ax);
  const inner = add(ax === -1 ? softplus(ud) : softplusStable(ud), MIN_DERIVATIVE);
  const one = fullLike(slice(inner, ax, 0, 1), 1);
  const d = concat([one, inner, one], ax);
  return {
    xLeft: w.left,
    width: w.size,
    yLeft: h.left,
    height: h.size,
    dLeft: slice(d, ax, 0, bins),
    dRight: slice(d, ax, 1, bins + 1),
  };
}

/** One-hot (bins on axis `ax`) of the bin containing v given the left edges (first edge -B). */
function binOneHot(v: Tensor, left: Tensor, bins: number, ax: number): Tensor {
  const ge = cast(greaterEqual(unsqueeze(v, [ax]), left), v.dtype);
  if (bins === 1) return ge;
  const next = concat([slice(ge, ax, 1, bins), fullLike(slice(ge, ax, 0, 1), 0)], ax);
  return sub(ge, next);
}

const pick = (onehot: Tensor, a: Tensor, ax: number): Tensor => sum(mul(onehot, a), [ax]);

/**
 * Forward spline: v [...] and raw parameters [..., 3K - 1] -> output [...] and log|dy/dv| [...].
 */
export function splineForward(
  v: Tensor,
  raw: Tensor,
  bins: number,
  bound: number,
): { y: Tensor; logDet: Tensor } {
  const k = knots(raw, bins, bound, -1);
  const inside = and(greaterEqual(v, -bound), lessEqual(v, bound));
  const vc = clip(v, -bound, bound);
  const oh = binOneHot(vc, k.xLeft, bins, -1);
  const [x0, w, y0, h, d0, d1] = [k.xLeft, k.width, k.yLeft, k.height, k.dLeft, k.dRight].map((a) =>
    pick(oh, a, -1),
  );
  const t = clip(div(sub(vc, x0), w), 0, 1);
  const s = div(h, w);
  const t1t = mul(t, sub(1, t));
  const num = mul(h, add(mul(s, square(t)), mul(d0, t1t)));
  const den = add(s, mul(sub(add(d1, d0), mul(s, 2)), t1t));
  const y = add(y0, div(num, den));
  const dnum = mul(square(s), add(add(mul(d1, square(t)), mul(mul(s, 2), t1t)), mul(d0, square(sub(1, t)))));
  const logDet = sub(log(dnum), mul(log(den), 2));
  return { y: where(inside, y, v), logDet: where(inside, logDet, 0) };
}

/**
 * Exclusive cumulative sums of `e` along the bin axis `ax` (-1 or -2) with the total appended:
 * K + 1 values, c_0 = 0 and c_K = the sum of all K. One product with a constant 0/1 triangle, which
 * onnxruntime runs faster than a CumSum and a separate ReduceSum over a non-last axis.
 */
function cumulativeWithTotal(e: Tensor, bins: number, ax: number): Tensor {
  // tri[i][k] = 1 where k < i: row i of the product is the sum of the first i bins.
  const tri = Array.from({ length: (bins + 1) * bins }, (_, j) => (j % bins < Math.floor(j / bins) ? 1 : 0));
  if (ax === -2) return matmul(e.graph.constant(tri, [bins + 1, bins], e.dtype), e);
  const triT = Array.from({ length: bins * (bins + 1) }, (_, j) =>
    Math.floor(j / (bins + 1)) < j % (bins + 1) ? 1 : 0,
  );
  return matmul(e, e.graph.constant(triT, [bins, bins + 1], e.dtype));
}

/**
 * A spline's raw parameters by kind, each on the bin axis: K widths, K heights, and the K - 1
 * interior knot derivatives with a zero at both ends (K + 1 values; the ends stand for the
 * boundary knots, whose derivative is 1 whatever the value).
 */
export interface SplineParts {
  widths: Tensor;
  heights: Tensor;
  derivatives: Tensor;
}

/** Split 3K - 1 raw parameters on axis `ax` into {@link SplineParts}. */
export function splitSplineParams(raw: Tensor, bins: number, ax: number): SplineParts {
  const [widths, heights, ud] = split(raw, ax, [bins, bins, bins - 1]);
  const pad = fullLike(slice(ud, ax, 0, 1), 0);
  return { widths, heights, derivatives: concat([pad, ud, pad], ax) };
}

/**
 * Inverse spline: y -> v (the root of the rational quadratic in the selected bin), from the raw
 * parameters split by kind ({@link SplineParts}, e.g. by a network whose output layer computes
 * each kind with a product of its own, so no Split and no padding Concat over the samples; or by
 * {@link splitSplineParams}). The bin axis is `ax`: -1 (y [...], parts [..., K]) or -2 for
 * feature-major samplers (y [..., N], parts [..., K, N]).
 *
 * Only the search for the bin needs all K bins, and only their height knots. With e = exp(u - max u)
 * and c the exclusive cumulative sums of e (c_K their total), the knot k of a softmax-with-minimum
 * layout is 2B ((1 - K m) c_k / c_K + m k) - B, the same function as softmax, affine map and
 * cumulative sum. So the heights need their K + 1 knots once; the widths need only exp and the
 * cumulative product, and their two knots at the selected bin are gathered before any arithmetic.
 * The bin's index is the number of interior height knots at or below y. The two knot derivatives
 * (softplus of the raw values, 1 at the interval's ends) are computed for that bin only.
 */
export function splineInverse(
  y: Tensor,
  parts: SplineParts,
  bins: number,
  bound: number,
  ax: number,
): Tensor {
  if (ax !== -1 && ax !== -2) throw new RangeError(`splineInverse: bin axis must be -1 or -2, got ${ax}`);
  const { widths: uw, heights: uh, derivatives: udp } = parts;
  const span = 2 * bound * (1 - MIN_BIN * bins);
  const step = 2 * bound * MIN_BIN;
  const cumulative = (u: Tensor) => cumulativeWithTotal(exp(sub(u, max(u, [ax], true))), bins, ax);
  const cw = cumulative(uw);
  const ch = cumulative(uh);
  // The scale span / c_K per spline ([..., 1, N]), then knots = c_k * scale + (step k - B).
  const scaleOf = (c: Tensor) => div(span, slice(c, ax, bins, bins + 1));
  const scaleW = scaleOf(cw);
  const scaleH = scaleOf(ch);
  const ramp = (from: number, to: number) => {
    const values = Array.from({ length: to - from }, (_, k) => step * (from + k) - bound);
    return y.graph.constant(values, ax === -2 ? [to - from, 1] : [to - from], y.dtype);
  };
  // Everything below keeps the bin axis with length 1 ([..., 1, N] for feature-major samplers), so
  // the gathered values need no squeeze; only the result loses it.
  const yK = unsqueeze(y, [ax]);
  const inside = and(greaterEqual(yK, -bound), lessEqual(yK, bound));
  const yc = clip(yK, -bound, bound);
  const interior = add(mul(slice(ch, ax, 1, bins), scaleH), ramp(1, bins));
  const index =
    bins === 1
      ? cast(mul(yc, 0), 'int64')
      : cast(sum(cast(greaterEqual(yc, interior), y.dtype), [ax], true), 'int64');
  const next = add(index, 1);
  const at = (a: Tensor, ix: Tensor) => gatherElements(a, ix, ax);
  const indexF = cast(index, y.dtype);
  // Knot position from its cumulative sum, scale and index: c * scale + step * k - B.
  const knot = (c: Tensor, scale: Tensor, k: Tensor) => add(mul(c, scale), sub(mul(k, step), bound));
  const x0 = knot(at(cw, index), scaleW, indexF);
  const w = add(mul(sub(at(cw, next), at(cw, index)), scaleW), step);
  const y0 = knot(at(ch, index), scaleH, indexF);
  const h = add(mul(sub(at(ch, next), at(ch, index)), scaleH), step);
  // Knot k (0..K) has derivative 1 at k = 0 and k = K, softplus(ud[k - 1]) + min otherwise; the
  // raw derivatives are padded at both ends so knots k and k + 1 of bin k are entries k and k + 1.
  const derivative = (k: Tensor, isEnd: Tensor) =>
    where(isEnd, 1, add(softplusStable(at(udp, k)), MIN_DERIVATIVE));
  const d0 = derivative(index, equal(index, 0));
  const d1 = derivative(next, equal(index, bins - 1));
  const s = div(h, w);
  const dy = sub(yc, y0);
  const c2 = sub(add(d1, d0), mul(s, 2));
  const a = add(mul(h, sub(s, d0)), mul(dy, c2));
  const b = sub(mul(h, d0), mul(dy, c2));
  const c = neg(mul(s, dy));
  const disc = maximum(sub(square(b), mul(mul(a, c), 4)), 0);
  const t = clip(div(mul(c, 2), sub(neg(b), sqrt(disc))), 0, 1);
  return squeeze(where(inside, add(mul(t, w), x0), yK), [ax]);
}
