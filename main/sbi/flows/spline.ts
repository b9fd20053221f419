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
  abs,
  add,
  and,
  cast,
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
 * Exclusive cumulative sums of `e` along the bin axis `ax` (-1 or -2), each plus (m / (1 - K m)) k
 * times the total: K + 1 values g_k = c_k + r k c_K with c_k the sum of the first k bins and
 * r = m / (1 - K m), so g_0 = 0 and g_K = c_K / (1 - K m). For the softmax-with-minimum layout
 * these are the knots up to one factor per spline: knot_k = 2B g_k / g_K - B. One product with a
 * constant matrix, which onnxruntime runs faster than a CumSum and a ReduceSum over a non-last axis.
 */
function knotSums(e: Tensor, bins: number, ax: number): Tensor {
  const r = MIN_BIN / (1 - MIN_BIN * bins);
  // m[k][j] = [j < k] + r k: row k of the product is g_k.
  const m = (k: number, j: number) => (j < k ? 1 : 0) + r * k;
  if (ax === -2) {
    const values = Array.from({ length: (bins + 1) * bins }, (_, i) => m(Math.floor(i / bins), i % bins));
    return matmul(e.graph.constant(values, [bins + 1, bins], e.dtype), e);
  }
  const values = Array.from({ length: bins * (bins + 1) }, (_, i) =>
    m(i % (bins + 1), Math.floor(i / (bins + 1))),
  );
  return matmul(e, e.graph.constant(values, [bins, bins + 1], e.dtype));
}

/**
 * Raw value of the boundary knots' derivative: softplus(BOUNDARY_RAW_DERIVATIVE) + 1e-3 = 1, the
 * slope of the identity tails.
 */
export const BOUNDARY_RAW_DERIVATIVE = Math.log(Math.expm1(1 - MIN_DERIVATIVE));

/**
 * A spline's raw parameters by kind, each on the bin axis: K widths, K heights, and the K - 1
 * interior knot derivatives with {@link BOUNDARY_RAW_DERIVATIVE} at both ends (K + 1 values, one
 * per knot).
 */
export interface SplineParts {
  widths: Tensor;
  heights: Tensor;
  derivatives: Tensor;
}

/** Split 3K - 1 raw parameters on axis `ax` into {@link SplineParts}. */
export function splitSplineParams(raw: Tensor, bins: number, ax: number): SplineParts {
  const [widths, heights, ud] = split(raw, ax, [bins, bins, bins - 1]);
  const pad = fullLike(slice(ud, ax, 0, 1), BOUNDARY_RAW_DERIVATIVE);
  return { widths, heights, derivatives: concat([pad, ud, pad], ax) };
}

/**
 * Inverse spline: y -> v (the root of the rational quadratic in the selected bin), from the raw
 * parameters split by kind ({@link SplineParts}, e.g. by a network whose output layer computes
 * each kind with a product of its own, so no Split and no padding Concat over the samples; or by
 * {@link splitSplineParams}). The bin axis is `ax`: -1 (y [...], parts [..., K]) or -2 for
 * feature-major samplers (y [..., N], parts [..., K, N]).
 *
 * Only the search for the bin needs all K bins, and only their heights. With e = exp(u - max u),
 * the knot sums g of {@link knotSums} (one product) give every knot as 2B g_k / g_K - B. The bin's
 * index is the number of interior height knots at or below y, counted in the sums' own scale
 * (g_k <= (y + B) g_K / 2B), so no full-size tensor is scaled. The bin's two width sums, two height
 * sums and two raw knot derivatives are gathered as pairs (one GatherElements each), and the
 * rational quadratic is solved on those alone.
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
  const g = y.graph;
  const sums = (u: Tensor) => knotSums(exp(sub(u, max(u, [ax], true))), bins, ax);
  const gw = sums(uw);
  const gh = sums(uh);
  // A constant along the bin axis ([n, 1] for feature-major layouts, [n] otherwise).
  const alongBins = (values: number[], dtype = y.dtype) =>
    g.constant(values, ax === -2 ? [values.length, 1] : [values.length], dtype);
  // Everything below keeps the bin axis with length 1 or 2 ([..., 1, N] for feature-major
  // samplers), so the gathered values need no squeeze; only the result loses it.
  const yK = unsqueeze(y, [ax]);
  const inside = lessEqual(abs(yK), bound);
  const yc = clip(yK, -bound, bound);
  // Knot k of a spline is g_k * scale - B with scale = 2B / g_K ([..., 1, N]).
  const scaleOf = (sums: Tensor) => div(2 * bound, slice(sums, ax, bins, bins + 1));
  const scaleW = scaleOf(gw);
  const scaleH = scaleOf(gh);
  const level = div(add(yc, bound), scaleH);
  // Sums at or below the level, knot 0 included (always) and knot K only at y = B, where min()
  // keeps the last bin: a product with a row of ones counts them.
  const below = cast(greaterEqual(level, gh), y.dtype);
  const count =
    ax === -2
      ? matmul(g.constant(new Array<number>(bins + 1).fill(1), [1, bins + 1], y.dtype), below)
      : sum(below, [ax], true);
  // The bin's two knots (index, index + 1), as a pair on the bin axis.
  const pair = cast(add(minimum(count, bins), alongBins([-1, 0])), 'int64');
  const knotPair = (sums: Tensor, scale: Tensor) => {
    const k = sub(mul(gatherElements(sums, pair, ax), scale), bound);
    const left = slice(k, ax, 0, 1);
    return { left, size: sub(slice(k, ax, 1, 2), left) };
  };
  const { left: x0, size: w } = knotPair(gw, scaleW);
  const { left: y0, size: h } = knotPair(gh, scaleH);
  const d = add(softplusStable(gatherElements(udp, pair, ax)), MIN_DERIVATIVE);
  const d0 = slice(d, ax, 0, 1);
  const d1 = slice(d, ax, 1, 2);
  // The root a t^2 + b t + c = 0 with c = -s dy, in the stable form 2c / (-b - sqrt(b^2 - 4ac)),
  // written with sdy = s dy = -c.
  const s = div(h, w);
  const dy = sub(yc, y0);
  const sdy = mul(s, dy);
  const c2 = sub(add(d1, d0), mul(s, 2));
  const dyc2 = mul(dy, c2);
  const a = add(mul(h, sub(s, d0)), dyc2);
  const b = sub(mul(h, d0), dyc2);
  const disc = maximum(add(square(b), mul(a, mul(sdy, 4))), 0);
  const t = clip(div(mul(sdy, 2), add(b, sqrt(disc))), 0, 1);
  return squeeze(where(inside, add(mul(t, w), x0), yK), [ax]);
}
