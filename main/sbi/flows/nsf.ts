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
import { concat, gather, reshape, transpose } from '../../graph/ops-shape.ts';
import {
  inversePermutation,
  linear,
  linearParams,
  smallInit,
  standardNormalLogProb,
  type LinearParams,
} from '../layers.ts';
import type { DensityModel, ModelSizes } from './model.ts';
import { splineForward, splineInverse, splineParamCount } from './spline.ts';

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
   * The same in feature-major layout (samples on the last axis): identity part [B, |identity|, N]
   * and context [B, 1, E] -> [B, |transformed|, 3K - 1, N].
   */
  netT(xi: Tensor | null, ctx: Tensor): Tensor;
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
      let a = perObservation(ctxLin(ctx)); // [B, H, 1]
      if (inLin && xi) {
        // The input layer's bias joins the per-observation context term before the one full-size sum.
        const bias = inLin.bias ? add(a, reshape(inLin.bias, [h, 1])) : a;
        a = add(matmul(transpose(inLin.weight), xi), bias);
      }
      for (const b of blocks) {
        // The gate scales the second layer's rows per observation: (g W1^T) u + g b1, one batched
        // product with [B, H, H] weights instead of a full-size product with the gate.
        const gate = perObservation(sigmoid(b.gate(ctx))); // [B, H, 1]
        const u = relu(linearT(b.l0, relu(a)));
        const gated = matmul(mul(transpose(b.l1.weight), gate), u);
        a = add(add(a, gated), b.l1.bias ? mul(reshape(b.l1.bias, [h, 1]), gate) : 0);
      }
      // [B, nt * P, N] -> [B, nt, P, N]: the batch axis is kept (0) and the sample axis inferred.
      // The raw-parameter scale is folded into the output layer's weights and bias (constants).
      const scaled: LinearParams = {
        weight: mul(outLin.weight, rawScaleRow),
        bias: mul(outLin.bias!, rawScaleRow),
        apply: outLin.apply,
      };
      return reshape(linearT(scaled, a), [0, nt, pc, -1]);
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
    return {
      c,
      idI: c.identity.length ? g.constant(c.identity, [c.identity.length], 'int64') : null,
      idT: g.constant(c.transformed, [c.transformed.length], 'int64'),
      back: g.constant(inversePermutation(order), [order.length], 'int64'),
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
      let y = transpose(noise, [0, 2, 1]);
      for (let t = layers.length - 1; t >= 0; t--) {
        const l = layers[t];
        const yi = l.idI ? gather(y, l.idI, 1) : null;
        const v = splineInverse(gather(y, l.idT, 1), l.c.netT(yi, ctx), k, s.tailBound, -2);
        y = join(l, yi, v, 1);
      }
      return transpose(y, [0, 2, 1]);
    },
  };
}
