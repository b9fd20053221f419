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
import { sum } from '../../graph/ops-nn.ts';
import { concat, gather, split, unsqueeze } from '../../graph/ops-shape.ts';
import { inversePermutation, linear, smallInit, standardNormalLogProb } from '../layers.ts';
import type { DensityModel, ModelSizes } from './model.ts';
import { splineForward, splineInverse, splineParamCount } from './spline.ts';

interface Coupling {
  /** Dimensions left unchanged (conditioning) and changed by the spline. */
  identity: number[];
  transformed: number[];
  /** Spline parameters [B, N, |transformed|, 3K - 1] from the identity part and the context. */
  net(xi: Tensor | null, ctx: Tensor): Tensor;
}

function buildCoupling(p: ParameterSet, name: string, t: number, s: ModelSizes): Coupling {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const transformed = d === 1 ? [0] : [...Array(d).keys()].filter((i) => i % 2 === t % 2);
  const identity = [...Array(d).keys()].filter((i) => !transformed.includes(i));
  const nIn = identity.length + s.contextDim;
  const inLin =
    identity.length > 0 ? linear(p, `${name}.in`, identity.length, h, { init: kaimingUniform(nIn) }) : null;
  const ctxLin = linear(p, `${name}.in_ctx`, s.contextDim, h, {
    init: kaimingUniform(nIn),
    noBias: inLin !== null,
  });
  const blocks = [0, 1].map((b) => ({
    l0: linear(p, `${name}.block${b}.0`, h, h),
    l1: linear(p, `${name}.block${b}.1`, h, h, { init: smallInit }),
    gate: linear(p, `${name}.block${b}.ctx`, s.contextDim, h),
  }));
  const pc = splineParamCount(s.numBins);
  const nt = transformed.length;
  // One output GEMM for all transformed dimensions, then [..., nt * P] -> [..., nt, P] by split and concat
  // (a reshape cannot keep two dynamic axes, and a batched [nt, H, P] product runs as many tiny GEMMs).
  const outLin = linear(p, `${name}.out`, h, nt * pc);
  return {
    identity,
    transformed,
    net(xi, ctx) {
      let a = ctxLin(ctx);
      if (inLin && xi) a = add(inLin(xi), a);
      for (const b of blocks) {
        const r = b.l1(relu(b.l0(relu(a))));
        a = add(a, mul(r, sigmoid(b.gate(ctx))));
      }
      const out = outLin(a);
      if (nt === 1) return unsqueeze(out, [-2]);
      return concat(
        split(out, -1, new Array<number>(nt).fill(pc)).map((t) => unsqueeze(t, [-2])),
        -2,
      );
    },
  };
}

/** Build an NSF, reserving its parameters in `p` (same sizes, same buffer layout in every graph). */
export function buildNsf(p: ParameterSet, s: ModelSizes): DensityModel {
  const g = p.graph;
  const k = s.numBins;
  const scaleWH = 1 / Math.sqrt(s.hiddenFeatures);
  // nflows divides the raw widths and heights by sqrt(hidden features).
  const rawScale = g.constant(
    Array.from({ length: splineParamCount(k) }, (_, i) => (i < 2 * k ? scaleWH : 1)),
    [splineParamCount(k)],
  );
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
  const join = (l: (typeof layers)[number], xi: Tensor | null, xt: Tensor): Tensor =>
    xi ? gather(concat([xi, xt], -1), l.back, -1) : xt;
  return {
    noiseDim: s.thetaDim,
    logProb(u, ctx) {
      let x = u;
      let logDet: Tensor | null = null;
      for (const l of layers) {
        const xi = l.idI ? gather(x, l.idI, -1) : null;
        const raw = mul(l.c.net(xi, ctx), rawScale);
        const { y, logDet: ld } = splineForward(gather(x, l.idT, -1), raw, k, s.tailBound);
        const lds = sum(ld, [-1]);
        logDet = logDet ? add(logDet, lds) : lds;
        x = join(l, xi, y);
      }
      return add(standardNormalLogProb(x), logDet!);
    },
    sample(noise, ctx) {
      let y = noise;
      for (let t = layers.length - 1; t >= 0; t--) {
        const l = layers[t];
        const yi = l.idI ? gather(y, l.idI, -1) : null;
        const raw = mul(l.c.net(yi, ctx), rawScale);
        y = join(l, yi, splineInverse(gather(y, l.idT, -1), raw, k, s.tailBound));
      }
      return y;
    },
  };
}
