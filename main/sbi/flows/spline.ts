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
  equal,
  clip,
  div,
  exp,
  greaterEqual,
  lessEqual,
  log,
  maximum,
  minimum,
  mul,
  softplus,
  sqrt,
  square,
  sub,
  where,
} from '../../graph/ops-elementwise.ts';
import { cumsum, matmul, mean, softmax, sum } from '../../graph/ops-nn.ts';
import { concat, fullLike, gatherElements, slice, split, squeeze, unsqueeze } from '../../graph/ops-shape.ts';

const MIN_BIN = 1e-3;
/** Smallest knot derivative: softplus(raw) + MIN_DERIVATIVE. */
export const MIN_DERIVATIVE = 1e-3;

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

/** Bin sizes (softmax with a minimum, scaled to the interval [-B, B]) and left edges, bins last. */
function binSizes(u: Tensor, bins: number, bound: number): { left: Tensor; size: Tensor } {
  const s = add(mul(softmax(u, -1), 1 - MIN_BIN * bins), MIN_BIN);
  const size = mul(s, 2 * bound);
  return { left: sub(cumsum(size, -1, { exclusive: true }), bound), size };
}

/**
 * Knot positions from raw parameters (already scaled as the caller wishes) whose last axis holds
 * the 3K - 1 values of each spline.
 */
function knots(raw: Tensor, bins: number, bound: number): Knots {
  const [uw, uh, ud] = split(raw, -1, [bins, bins, bins - 1]);
  const w = binSizes(uw, bins, bound);
  const h = binSizes(uh, bins, bound);
  const inner = add(softplus(ud), MIN_DERIVATIVE);
  const one = fullLike(slice(inner, -1, 0, 1), 1);
  const d = concat([one, inner, one], -1);
  return {
    xLeft: w.left,
    width: w.size,
    yLeft: h.left,
    height: h.size,
    dLeft: slice(d, -1, 0, bins),
    dRight: slice(d, -1, 1, bins + 1),
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
  const k = knots(raw, bins, bound);
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
 * A constant [rows, K] matrix M (or its transpose for bins on the last axis) applied to e along
 * the bin axis `ax` (-1 or -2): row r of the result is sum_j M[r][j] e_j. One product, which
 * onnxruntime runs faster than a CumSum and a ReduceSum over a non-last axis.
 */
function alongBins(e: Tensor, m: number[][], ax: number): Tensor {
  const rows = m.length;
  const cols = m[0].length;
  if (ax === -2) return matmul(e.graph.constant(m.flat(), [rows, cols], e.dtype), e);
  const t = Array.from({ length: cols * rows }, (_, i) => m[i % rows][Math.floor(i / rows)]);
  return matmul(e, e.graph.constant(t, [cols, rows], e.dtype));
}

/**
 * Knot sums of the softmax-with-minimum layout: for k = 0..K, g_k = c_k + r k c_K with c_k the
 * sum of the first k values of e and r = m / (1 - K m), so g_0 = 0 and g_K = c_K / (1 - K m); the
 * knots are then 2B g_k / g_K - B. As the rows of a constant matrix.
 */
function knotRows(bins: number): number[][] {
  const r = MIN_BIN / (1 - MIN_BIN * bins);
  return Array.from({ length: bins + 1 }, (_, k) =>
    Array.from({ length: bins }, (_, j) => (j < k ? 1 : 0) + r * k),
  );
}

/**
 * Raw value of the boundary knots' derivative: softplus(BOUNDARY_RAW_DERIVATIVE) + 1e-3 = 1, the
 * slope of the identity tails.
 */
export const BOUNDARY_RAW_DERIVATIVE = Math.log(Math.expm1(1 - MIN_DERIVATIVE));

/**
 * A spline's raw parameters by kind, each on the bin axis: K bin-width logits, K bin-height
 * logits, and the K - 1 interior raw knot derivatives with {@link BOUNDARY_RAW_DERIVATIVE} at
 * both ends, each plus {@link MIN_DERIVATIVE} (K + 1 values, one per knot; the inverse's softplus
 * takes the offset in this form). The softmax is shift-invariant, so the logits may carry any
 * shift per spline; the inverse expects them centred (mean 0 over the bins), which a network
 * gets for free by centring the rows of its output weights. The inverse exponentiates centred
 * logits without subtracting their maximum: exact unless one exceeds 88 (float32's exp overflows,
 * and the sample becomes NaN), which would take a spread of logits far beyond a trained flow's.
 */
export interface SplineParts {
  widths: Tensor;
  heights: Tensor;
  derivatives: Tensor;
}

/** Split 3K - 1 raw parameters on axis `ax` into {@link SplineParts}, centring the logits. */
export function splitSplineParams(raw: Tensor, bins: number, ax: number): SplineParts {
  const [uw, uh, ud] = split(raw, ax, [bins, bins, bins - 1]);
  const centred = (u: Tensor) => sub(u, mean(u, [ax], true));
  const pad = fullLike(slice(ud, ax, 0, 1), BOUNDARY_RAW_DERIVATIVE);
  const derivatives = add(concat([pad, ud, pad], ax), MIN_DERIVATIVE);
  return { widths: centred(uw), heights: centred(uh), derivatives };
}

/**
 * Inverse spline in unit coordinates u = (y + B) / 2B (the interval [-B, B] is [0, 1]): u(y) ->
 * u(v), the root of the rational quadratic in the selected bin and the identity outside, from the
 * raw parameters split by kind ({@link SplineParts}, e.g. by a network whose output layer
 * computes each kind with a product of its own; or by {@link splitSplineParams}). The bin axis is
 * `ax`: -1 (u [...], parts [..., K]) or -2 for feature-major samplers (u [..., N], parts
 * [..., K, N]). The samplers carry every value in these units between transforms, so no transform
 * converts.
 *
 * One product per kind gives the knot sums g_0..g_K of exp(logits) (knot k at g_k / g_K in unit
 * coordinates, see {@link knotRows}). The value's level in the heights' sums is L = u g_K, and the
 * bin's index i is the number of interior knots with g_k <= L: a product of the comparisons with a
 * constant matrix gives i and i + 1 as a pair, one GatherElements per kind picks the bin's two
 * knot sums (and raw derivatives), and the rational quadratic is solved on those alone. Its
 * coefficients are homogeneous in the bin height h and the offset dy, so both stay in the sums'
 * units. With S = 2 h / w (real units), q = S dy and D0, D1 the bin's knot derivatives,
 * b = h D0 - dy (D0 + D1 - S) and the root is t = q / (b + sqrt((b - q)^2 + q S (h - dy))): nflows'
 * stable form 2c / (-b - sqrt(b^2 - 4ac)) written out, with e = h - dy and b - q = e D0 - dy D1
 * formed directly.
 */
export function splineInverseUnit(u: Tensor, parts: SplineParts, bins: number, ax: number): Tensor {
  if (ax !== -1 && ax !== -2) throw new RangeError(`splineInverse: bin axis must be -1 or -2, got ${ax}`);
  const { widths: uw, heights: uh, derivatives: udp } = parts;
  const k = bins;
  const gw = alongBins(exp(uw), knotRows(k), ax);
  const gh = alongBins(exp(uh), knotRows(k), ax);
  // Everything below keeps the bin axis with length 1 or 2 ([..., 1, N] for feature-major
  // samplers), so the gathered values need no squeeze; only the result loses it.
  const uK = unsqueeze(u, [ax]);
  const uc = clip(uK, 0, 1);
  const inside = equal(uc, uK);
  const totalW = slice(gw, ax, k, k + 1);
  const totalH = slice(gh, ax, k, k + 1);
  const level = mul(uc, totalH);
  // g_0 = 0 <= level always, so column 0 of the constant matrix adds 0 or 1: the rows give the
  // bin's index i (interior knots 1..K-1 at or below the level) and i + 1, in both orders.
  const below = cast(greaterEqual(level, gh), u.dtype);
  const row = (first: number) => Array.from({ length: k + 1 }, (_, j) => (j === 0 ? first : j < k ? 1 : 0));
  // int32 indices: the cast, the split and the gathers move half the bytes of int64 ones.
  const index = cast(alongBins(below, [row(0), row(1), row(1), row(0)], ax), 'int32');
  const [pair, reversed] = split(index, ax, [2, 2]);
  const [xl, xr] = split(gatherElements(gw, pair, ax), ax, [1, 1]);
  // [g_{i+1} - L, g_i - L] = [e, -dy]: the bin's height above and (minus) below the level.
  const offsets = sub(gatherElements(gh, reversed, ax), level);
  const [above, minusDy] = split(offsets, ax, [1, 1]);
  // The bin's knot derivatives [D0, D1] = softplus(raw) + m = log(e^m + e^(raw + m)), or raw + m
  // itself once the exponential would overflow (parts carry raw + m).
  const dv = gatherElements(udp, pair, ax);
  const d = maximum(log(add(exp(minimum(dv, 80)), Math.exp(MIN_DERIVATIVE))), dv);
  const h = sub(above, minusDy);
  const w = sub(xr, xl);
  const slope = div(mul(h, totalW), mul(w, totalH)); // h / w in real units
  const s2 = add(slope, slope);
  const minusQ = mul(s2, minusDy);
  // b - q = e D0 - dy D1: one product of the two pairs, summed over the pair.
  const bq = sum(mul(offsets, d), [ax], true);
  const b = sub(bq, minusQ);
  const disc = maximum(sub(square(bq), mul(minusQ, mul(s2, above))), 0);
  const minusT = clip(div(minusQ, add(b, sqrt(disc))), -1, 0);
  return squeeze(where(inside, div(sub(xl, mul(minusT, w)), totalW), uK), [ax]);
}

/**
 * Inverse spline: y -> v in the spline's own units ({@link splineInverseUnit} with the
 * coordinates converted before and after).
 */
export function splineInverse(
  y: Tensor,
  parts: SplineParts,
  bins: number,
  bound: number,
  ax: number,
): Tensor {
  const unit = splineInverseUnit(add(mul(y, 1 / (2 * bound)), 0.5), parts, bins, ax);
  return sub(mul(unit, 2 * bound), bound);
}
