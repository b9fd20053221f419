/**
 * Neural spline flow as built by the sbi toolbox: rational-quadratic coupling transforms with
 * alternating masks (transform 0 changes dimensions 0, 2, 4, ... conditioned on the others, the
 * next the remaining ones, and so on), each conditioned through a residual network (two residual
 * blocks with ReLU and a sigmoid gate from the context). Linear tails: identity outside
 * [-tailBound, tailBound]. With one parameter the spline is conditioned on the context alone.
 * Sampling is one pass per transform.
 */
import type { Tensor } from '../../graph/tensor.ts';
import type { ParameterSet } from '../../graph/params.ts';
import { kaimingUniform } from '../../graph/init.ts';
import { add, mul, relu, sigmoid } from '../../graph/ops-elementwise.ts';
import { matmul, sum } from '../../graph/ops-nn.ts';
import { concat, fullLike, gather, reshape, slice, transpose, unsqueeze } from '../../graph/ops-shape.ts';
import {
  inversePermutation,
  linear,
  linearParams,
  smallInit,
  standardNormalLogProb,
  type LinearParams,
} from '../layers.ts';
import type { DensityModel, ModelSizes } from './model.ts';
import {
  splineForward,
  splineInverse,
  splineParamCount,
  splitSplineParams,
  type SplineParts,
} from './spline.ts';

interface Coupling {
  /** Dimensions left unchanged (conditioning) and changed by the spline. */
  identity: number[];
  transformed: number[];
  /**
   * Spline parameters [B, N, |transformed|, 3K - 1] from the identity part and the context, the
   * widths and heights already divided by sqrt(hidden features) as nflows does.
   */
  net(xi: Tensor | null, ctx: Tensor): Tensor;
  /**
   * The same in feature-major layout (samples on the last axis): identity part with a row of ones
   * below it [B, |identity| + 1, N] (null with one parameter) and context [B, 1, E] -> the spline
   * parameters by kind, [B, |transformed|, K or K + 1, N] (1 in place of N with one parameter).
   */
  netT(xi: Tensor | null, ctx: Tensor): SplineParts;
}

/** x W + b in feature-major layout: W^T x + b for x [B, in, N]. */
const linearT = (l: LinearParams, x: Tensor): Tensor => {
  const y = matmul(transpose(l.weight), x);
  return l.bias ? add(y, reshape(l.bias, [l.bias.shape[0], 1])) : y;
};

/** [B, 1, F] -> [B, F, 1] (a per-observation vector broadcast over the samples of a feature-major tensor). */
const perObservation = (v: Tensor): Tensor => transpose(v, [0, 2, 1]);

function buildCoupling(p: ParameterSet, name: string, t: number, s: ModelSizes): Coupling {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const transformed = d === 1 ? [0] : [...Array(d).keys()].filter((i) => i % 2 === t % 2);
  const identity = [...Array(d).keys()].filter((i) => !transformed.includes(i));
  const nIn = identity.length + s.contextDim;
  const inLin =
    identity.length > 0
      ? linearParams(p, `${name}.in`, identity.length, h, { init: kaimingUniform(nIn) })
      : null;
  const ctxLin = linear(p, `${name}.in_ctx`, s.contextDim, h, {
    init: kaimingUniform(nIn),
    noBias: inLin !== null,
  });
  const blocks = [0, 1].map((b) => ({
    l0: linearParams(p, `${name}.block${b}.0`, h, h),
    l1: linearParams(p, `${name}.block${b}.1`, h, h, { init: smallInit }),
    gate: linear(p, `${name}.block${b}.ctx`, s.contextDim, h),
  }));
  const pc = splineParamCount(s.numBins);
  const nt = transformed.length;
  // One output GEMM for all transformed dimensions, then [..., nt * P] -> [..., nt, P] by a reshape
  // that keeps the leading axes (a batched [nt, H, P] product runs as many tiny GEMMs).
  const outLin = linearParams(p, `${name}.out`, h, nt * pc);
  // nflows divides the raw widths and heights by sqrt(hidden features); per output column.
  const rawScaleRow = p.graph.constant(
    Array.from({ length: nt * pc }, (_, i) => (i % pc < 2 * s.numBins ? 1 / Math.sqrt(h) : 1)),
    [nt * pc],
  );
  /** One parameter: the spline depends on the context alone ([B, H, 1] throughout). */
  const netTNoIdentity = (ctx: Tensor): SplineParts => {
    let a = perObservation(ctxLin(ctx));
    for (const b of blocks) {
      const gate = perObservation(sigmoid(b.gate(ctx)));
      const u = relu(linearT(b.l0, relu(a)));
      a = add(a, mul(linearT(b.l1, u), gate));
    }
    const scaled: LinearParams = {
      weight: mul(outLin.weight, rawScaleRow),
      bias: mul(outLin.bias!, rawScaleRow),
      apply: outLin.apply,
    };
    return splitSplineParams(reshape(linearT(scaled, a), [0, nt, pc, -1]), s.numBins, -2);
  };

  return {
    identity,
    transformed,
    net(xi, ctx) {
      let a = ctxLin(ctx);
      if (inLin && xi) a = add(inLin.apply(xi), a);
      for (const b of blocks) {
        const r = b.l1.apply(relu(b.l0.apply(relu(a))));
        a = add(a, mul(r, sigmoid(b.gate(ctx))));
      }
      const out = mul(outLin.apply(a), rawScaleRow);
      return reshape(out, [...out.shape.slice(0, -1).map(() => 0), nt, pc]);
    },
    netT(xi, ctx) {
      if (!inLin || !xi) return netTNoIdentity(ctx);
      // Every bias rides on a constant row of ones: xi carries it as its last row (the sampler
      // keeps one below the coordinates), each matrix gets the bias as an extra column and passes
      // the ones on by an extra row [0 ... 0 1] (ReLU keeps them), and the gated product adds a
      // zero row. So the network is products only, with no full-size bias Add after each; the
      // per-observation context term and gates are columns and rows of small [B, H + 1, .]
      // matrices. Same function as net(), in feature-major layout.
      const ctxCol = perObservation(ctxLin(ctx)); // [B, H, 1]
      const zerosB = mul(slice(ctxCol, 1, 0, 1), 0); // [B, 1, 1]
      const lastRow = (cols: number, value: number) =>
        p.graph.constant(
          Array.from({ length: cols }, (_, j) => (j === cols - 1 ? value : 0)),
          [1, cols],
        );
      const column = (v: Tensor) => reshape(v, [v.shape[0], 1]);
      const ni = identity.length;
      const inTop = concat(
        [add(transpose(inLin.weight), zerosB), inLin.bias ? add(ctxCol, column(inLin.bias)) : ctxCol],
        2,
      ); // [B, H, ni + 1]
      let a = matmul(concat([inTop, add(lastRow(ni + 1, 1), zerosB)], 1), xi); // [B, H + 1, N]
      for (const b of blocks) {
        const gate = perObservation(sigmoid(b.gate(ctx))); // [B, H, 1]
        const w0 = concat([concat([transpose(b.l0.weight), column(b.l0.bias!)], 1), lastRow(h + 1, 1)], 0); // [H + 1, H + 1]
        const u = relu(matmul(w0, relu(a)));
        const g1 = concat(
          [
            concat([mul(transpose(b.l1.weight), gate), mul(column(b.l1.bias!), gate)], 2),
            add(lastRow(h + 1, 0), zerosB),
          ],
          1,
        ); // [B, H + 1, H + 1]
        a = add(a, matmul(g1, u));
      }
      // The raw-parameter scale is folded into the output layer's weights and bias (constants).
      // Its rows, with a zero row appended (index nt * P), are gathered into one matrix per kind of
      // spline parameter, the derivatives with a zero row at both ends of each dimension's K - 1:
      // the products then give the parts splineInverse takes, with no Split and no padding
      // Concat over the samples. All of it is constant and folded when the session loads.
      const out = concat(
        [
          concat([transpose(mul(outLin.weight, rawScaleRow)), column(mul(outLin.bias!, rawScaleRow))], 1),
          p.graph.constant(new Array<number>(h + 1).fill(0), [1, h + 1]),
        ],
        0,
      ); // [nt * P + 1, H + 1]
      const k = s.numBins;
      const zero = nt * pc;
      const rows = (perDim: (i: number) => number[]) => {
        const index = Array.from({ length: nt }, (_, i) => perDim(i)).flat();
        return gather(out, p.graph.constant(index, [index.length], 'int64'), 0);
      };
      const range = (from: number, n: number) => Array.from({ length: n }, (_, j) => from + j);
      // [B, nt * R, N] -> [B, nt, R, N]: the batch axis is kept (0) and the sample axis inferred.
      const part = (w: Tensor, r: number) => reshape(matmul(w, a), [0, nt, r, -1]);
      return {
        widths: part(
          rows((i) => range(i * pc, k)),
          k,
        ),
        heights: part(
          rows((i) => range(i * pc + k, k)),
          k,
        ),
        derivatives: part(
          rows((i) => [zero, ...range(i * pc + 2 * k, k - 1), zero]),
          k + 1,
        ),
      };
    },
  };
}

/** Build an NSF, reserving its parameters in `p` (same sizes, same buffer layout in every graph). */
export function buildNsf(p: ParameterSet, s: ModelSizes): DensityModel {
  const g = p.graph;
  const k = s.numBins;
  const layers = Array.from({ length: s.numTransforms }, (_, t) => {
    const c = buildCoupling(p, `nsf${t}`, t, s);
    const order = [...c.identity, ...c.transformed];
    // The sampler's layout has a row of ones below the D coordinates (index D), which the
    // identity part carries along for netT's biases.
    const orderT = [...c.identity, s.thetaDim, ...c.transformed];
    return {
      c,
      idI: c.identity.length ? g.constant(c.identity, [c.identity.length], 'int64') : null,
      idT: g.constant(c.transformed, [c.transformed.length], 'int64'),
      back: g.constant(inversePermutation(order), [order.length], 'int64'),
      idIT: c.identity.length
        ? g.constant([...c.identity, s.thetaDim], [c.identity.length + 1], 'int64')
        : null,
      backT: g.constant(inversePermutation(orderT), [orderT.length], 'int64'),
    };
  });
  // Identity and transformed parts back in coordinate order along `axis`.
  const join = (l: (typeof layers)[number], xi: Tensor | null, xt: Tensor, axis: number): Tensor =>
    xi ? gather(concat([xi, xt], axis), l.back, axis) : xt;
  return {
    noiseDim: s.thetaDim,
    logProb(u, ctx) {
      let x = u;
      let logDet: Tensor | null = null;
      for (const l of layers) {
        const xi = l.idI ? gather(x, l.idI, -1) : null;
        const { y, logDet: ld } = splineForward(gather(x, l.idT, -1), l.c.net(xi, ctx), k, s.tailBound);
        const lds = sum(ld, [-1]);
        logDet = logDet ? add(logDet, lds) : lds;
        x = join(l, xi, y, -1);
      }
      return add(standardNormalLogProb(x), logDet!);
    },
    sample(noise, ctx) {
      // Feature-major [B, D, N]: samples on the last axis, so the spline's elementwise operations
      // run over rows of N values (onnxruntime broadcasts a short last axis element by element).
      const d = s.thetaDim;
      let y = transpose(noise, [0, 2, 1]);
      if (d === 1) {
        // The spline depends on the context alone ([B, 1, 3K - 1, 1]); its bin gathers need it
        // spread over the N samples.
        const spread = mul(unsqueeze(y, [2]), 0); // [B, 1, 1, N]
        for (let t = layers.length - 1; t >= 0; t--) {
          const { widths, heights, derivatives } = layers[t].c.netT(null, ctx);
          const parts = {
            widths: add(widths, spread),
            heights: add(heights, spread),
            derivatives: add(derivatives, spread),
          };
          y = splineInverse(y, parts, k, s.tailBound, -2);
        }
        return transpose(y, [0, 2, 1]);
      }
      y = concat([y, fullLike(slice(y, 1, 0, 1), 1)], 1); // [B, D + 1, N], row D all ones
      for (let t = layers.length - 1; t >= 0; t--) {
        const l = layers[t];
        const yi = gather(y, l.idIT!, 1);
        const v = splineInverse(gather(y, l.idT, 1), l.c.netT(yi, ctx), k, s.tailBound, -2);
        y = gather(concat([yi, v], 1), l.backT, 1);
      }
      return transpose(slice(y, 1, 0, d), [0, 2, 1]);
    },
  };
}
