/**
 * Neural spline flow as built by the sbi toolbox: rational-quadratic coupling transforms with
 * alternating masks (transform 0 changes dimensions 0, 2, 4, ... conditioned on the others, the
 * next the remaining ones, and so on), each conditioned through a residual network (two residual
 * blocks with ReLU and a sigmoid gate from the context). Linear tails: identity outside
 * [-tailBound, tailBound]. With one parameter the spline is conditioned on the context alone.
 * Sampling is one pass per transform.
 */
import type { Graph, Tensor } from '../../graph/tensor.ts';
import type { ParameterSet } from '../../graph/params.ts';
import { kaimingUniform } from '../../graph/init.ts';
import { add, mul, relu, sigmoid, sub } from '../../graph/ops-elementwise.ts';
import { matmul, mean, sum } from '../../graph/ops-nn.ts';
import {
  concat,
  fullLike,
  gather,
  reshape,
  slice,
  split,
  transpose,
  unsqueeze,
} from '../../graph/ops-shape.ts';
import {
  inversePermutation,
  linearParams,
  smallInit,
  standardNormalLogProb,
  type LinearParams,
} from '../layers.ts';
import { applyAffine, type DensityModel, type ModelSizes } from './model.ts';
import {
  BOUNDARY_RAW_DERIVATIVE,
  MIN_DERIVATIVE,
  splineForward,
  splineInverseUnit,
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
   * The same in feature-major layout (samples on the last axis), for the sampler: identity part
   * in unit coordinates (y + B) / 2B (the sampler's units, see splineInverseUnit) with a row of ones
   * below it [B, |identity| + 1, N] and the per-observation columns of {@link contextLayers} ->
   * the spline parameters by kind, [B, |transformed|, K or K + 1, N], the logits centred.
   */
  netT(xi: Tensor, columns: ContextColumns): SplineParts;
  /** With one parameter: the spline parameters from the context [B, 1, E] alone ([B, 1, K or K + 1, 1]). */
  netTNoIdentity(ctx: Tensor): SplineParts;
  /**
   * The layers that read the context directly, for the sampler to apply once per observation:
   * the first layer's context term (no bias) and the two blocks' gates.
   */
  contextLayers: { first: LinearParams; gates: LinearParams[] };
}

/**
 * Per-observation columns [B, H + 1, 1] of a coupling network (zero or unused in the last row,
 * which belongs to the row of ones): the first layer's context term and the gates after their
 * sigmoid.
 */
interface ContextColumns {
  first: Tensor;
  gates: Tensor[];
}

/** x W + b in feature-major layout: W^T x + b for x [B, in, N]. */
const linearT = (l: LinearParams, x: Tensor): Tensor => {
  const y = matmul(transpose(l.weight), x);
  return l.bias ? add(y, reshape(l.bias, [l.bias.shape[0], 1])) : y;
};

/** [B, 1, F] -> [B, F, 1] (a per-observation vector broadcast over the samples of a feature-major tensor). */
const perObservation = (v: Tensor): Tensor => transpose(v, [0, 2, 1]);

/** [1, cols] constant, zero but for `value` in its last column. */
const lastRow = (g: Graph, cols: number, value: number): Tensor =>
  g.constant(
    Array.from({ length: cols }, (_, j) => (j === cols - 1 ? value : 0)),
    [1, cols],
  );
const column = (v: Tensor): Tensor => reshape(v, [v.shape[0], 1]);
/**
 * Layer (w [in, out], b [out]) as the matrix [[w^T | b]; [0 ... 0 ones]] [out + 1, in + 1]: it maps
 * [x; 1] to [w^T x + b; ones] (ones = 0 gives a zero last row).
 */
const augmented = (w: Tensor, b: Tensor, ones: number): Tensor =>
  concat([concat([transpose(w), column(b)], 1), lastRow(w.graph, w.shape[0] + 1, ones)], 0);
/** [in, H] weight -> [H + 1, in] with a zero row below (the ones row gets no contribution). */
const withZeroRow = (w: Tensor): Tensor =>
  concat([transpose(w), fullLike(slice(transpose(w), 0, 0, 1), 0)], 0);

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
  const ctxLin = linearParams(p, `${name}.in_ctx`, s.contextDim, h, {
    init: kaimingUniform(nIn),
    noBias: inLin !== null,
  });
  const blocks = [0, 1].map((b) => ({
    l0: linearParams(p, `${name}.block${b}.0`, h, h),
    l1: linearParams(p, `${name}.block${b}.1`, h, h, { init: smallInit }),
    gate: linearParams(p, `${name}.block${b}.ctx`, s.contextDim, h),
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
  const noIdentity = (ctx: Tensor): SplineParts => {
    let a = perObservation(ctxLin.apply(ctx));
    for (const b of blocks) {
      const gate = perObservation(sigmoid(b.gate.apply(ctx)));
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
      let a = ctxLin.apply(ctx);
      if (inLin && xi) a = add(inLin.apply(xi), a);
      for (const b of blocks) {
        const r = b.l1.apply(relu(b.l0.apply(relu(a))));
        a = add(a, mul(r, sigmoid(b.gate.apply(ctx))));
      }
      const out = mul(outLin.apply(a), rawScaleRow);
      return reshape(out, [...out.shape.slice(0, -1).map(() => 0), nt, pc]);
    },
    netTNoIdentity: noIdentity,
    contextLayers: { first: ctxLin, gates: blocks.map((b) => b.gate) },
    netT(xi, columns) {
      if (!inLin) throw new RangeError('NSF: netT needs an identity part; use netTNoIdentity');
      // Every bias rides on a constant row of ones: xi carries it as its last row (the sampler
      // keeps one below the coordinates), each matrix gets the bias as an extra column and passes
      // the ones on by an extra row [0 ... 0 1] (ReLU keeps them), and the gated product has a
      // zero row there. So the network is products only, with no full-size bias Add after each.
      // The per-observation parts (the first layer's context term, the gates) are columns
      // [B, H + 1, 1], which add to or scale constant matrices. Same function as net(), in
      // feature-major layout.
      const g = p.graph;
      const ni = identity.length;
      // [[W_in^T | b_in + C c]; [0 ... 0 1]]: the constant part plus the context column in the last
      // column. xi is in unit coordinates (y = 2B xi - B), so the weight is 2B W_in and the bias
      // b_in - B W_in^T 1.
      const inBias = sub(inLin.bias!, mul(sum(inLin.weight, [0]), s.tailBound));
      const inConst = augmented(mul(inLin.weight, 2 * s.tailBound), inBias, 1); // [H + 1, ni + 1]
      let a = matmul(add(inConst, mul(columns.first, lastRow(g, ni + 1, 1))), xi); // [B, H + 1, N]
      blocks.forEach((b, i) => {
        const u = relu(matmul(augmented(b.l0.weight, b.l0.bias!, 1), relu(a)));
        a = add(a, matmul(mul(augmented(b.l1.weight, b.l1.bias!, 0), columns.gates[i]), u));
      });
      // The raw-parameter scale is folded into the output layer's weights and bias (constants).
      // Its rows, with a row for the boundary knots appended (index nt * P: the constant
      // BOUNDARY_RAW_DERIVATIVE on the row of ones), are gathered into one matrix per kind of
      // spline parameter, the derivatives with the boundary row at both ends of each dimension's
      // K - 1: the products then give the parts splineInverse takes, with no Split and no padding
      // Concat over the samples. All of it is constant and folded when the session loads.
      const out = concat(
        [
          concat([transpose(mul(outLin.weight, rawScaleRow)), column(mul(outLin.bias!, rawScaleRow))], 1),
          lastRow(g, h + 1, BOUNDARY_RAW_DERIVATIVE),
        ],
        0,
      ); // [nt * P + 1, H + 1]
      const k = s.numBins;
      const end = nt * pc;
      const rows = (perDim: (i: number) => number[]) => {
        const index = Array.from({ length: nt }, (_, i) => perDim(i)).flat();
        return gather(out, p.graph.constant(index, [index.length], 'int64'), 0);
      };
      const range = (from: number, n: number) => Array.from({ length: n }, (_, j) => from + j);
      // Each spline's K logit rows minus their mean: centred logits (the softmax is unchanged).
      const centred = (w: Tensor) => {
        const perDim = reshape(w, [nt, k, h + 1]);
        return reshape(sub(perDim, mean(perDim, [1], true)), [nt * k, h + 1]);
      };
      // [B, nt * R, N] -> [B, nt, R, N]: the batch axis is kept (0) and the sample axis inferred.
      const part = (w: Tensor, r: number) => reshape(matmul(w, a), [0, nt, r, -1]);
      return {
        widths: part(centred(rows((i) => range(i * pc, k))), k),
        heights: part(centred(rows((i) => range(i * pc + k, k))), k),
        // The raw derivatives plus MIN_DERIVATIVE (SplineParts), the offset on the row of ones.
        derivatives: part(
          add(
            rows((i) => [end, ...range(i * pc + 2 * k, k - 1), end]),
            lastRow(g, h + 1, MIN_DERIVATIVE),
          ),
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
    return {
      c,
      idI: c.identity.length ? g.constant(c.identity, [c.identity.length], 'int64') : null,
      idT: g.constant(c.transformed, [c.transformed.length], 'int64'),
      back: g.constant(inversePermutation(order), [order.length], 'int64'),
    };
  });
  for (let t = 1; t < layers.length && s.thetaDim > 1; t++) {
    const [a, b] = [layers[t - 1].c, layers[t].c];
    if (a.identity.join() !== b.transformed.join() || a.transformed.join() !== b.identity.join())
      throw new RangeError(`NSF: the masks of transforms ${t - 1} and ${t} do not alternate`);
  }
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
    sample(noise, ctx, out) {
      // Feature-major [B, D, N]: samples on the last axis, so the spline's elementwise operations
      // run over rows of N values (onnxruntime broadcasts a short last axis element by element).
      // Every value is in unit coordinates u = (y + B) / 2B (splineInverseUnit) between the
      // first map, noise -> u, and the last, u -> theta = 2B scale u + shift - B scale.
      const d = s.thetaDim;
      const bound = s.tailBound;
      const toTheta = (c: number) => ({
        scale: 2 * bound * out.scale[c],
        shift: out.shift[c] - bound * out.scale[c],
      });
      const z = transpose(noise, [0, 2, 1]);
      if (d === 1) {
        let y = applyAffine(z, { scale: [1 / (2 * bound)], shift: [0.5] }, -2);
        // The spline depends on the context alone ([B, 1, 3K - 1, 1]); its bin gathers need it
        // spread over the N samples.
        const spread = mul(unsqueeze(y, [2]), 0); // [B, 1, 1, N]
        for (let t = layers.length - 1; t >= 0; t--) {
          const { widths, heights, derivatives } = layers[t].c.netTNoIdentity(ctx);
          const parts = {
            widths: add(widths, spread),
            heights: add(heights, spread),
            derivatives: add(derivatives, spread),
          };
          y = splineInverseUnit(y, parts, k, -2);
        }
        const { scale, shift } = toTheta(0);
        return transpose(applyAffine(y, { scale: [scale], shift: [shift] }, -2), [0, 2, 1]);
      }
      // The masks alternate: each transform's identity part is the next one's transformed part
      // and the other way round, so going backwards the spline's output becomes the identity
      // part (with the row of ones below it that netT's biases ride on) and the identity rows
      // become the part to invert: no gathers between transforms. The first and the last map
      // are products with constant matrices, which pick, scale and shift the coordinates (the
      // shift on a row of ones).
      const g = p.graph;
      const matrix = (rows: number[][]) => g.constant(rows.flat(), [rows.length, rows[0].length]);
      const ones = fullLike(slice(z, 1, 0, 1), 1); // [B, 1, N]
      const zAug = concat([z, ones], 1); // [B, D + 1, N]
      const unitRow = (c: number) =>
        Array.from({ length: d + 1 }, (_, j) => (j === c ? 1 / (2 * bound) : j === d ? 0.5 : 0));
      const onesRow = (n: number) => Array.from({ length: n }, (_, j) => (j === n - 1 ? 1 : 0));
      // Every transform's per-observation columns from one product with the context and one
      // sigmoid: the first layers' context terms, then the gates, [H + 1] rows each.
      const h1 = s.hiddenFeatures + 1;
      const firsts = layers.map((l) => l.c.contextLayers.first);
      const gates = layers.flatMap((l) => l.c.contextLayers.gates);
      const biasRows = (l: LinearParams) =>
        l.bias ? concat([l.bias, g.constant([0], [1])], 0) : g.constant(new Array<number>(h1).fill(0), [h1]);
      const all = [...firsts, ...gates];
      const columns = add(
        matmul(
          concat(
            all.map((l) => withZeroRow(l.weight)),
            0,
          ),
          transpose(ctx, [0, 2, 1]),
        ),
        reshape(concat(all.map(biasRows), 0), [all.length * h1, 1]),
      ); // [B, (T + 2T)(H + 1), 1]
      const [firstPart, gatePart] = split(columns, 1, [firsts.length * h1, gates.length * h1]);
      const firstCols = split(
        firstPart,
        1,
        firsts.map(() => h1),
      );
      const gateCols = split(
        sigmoid(gatePart),
        1,
        gates.map(() => h1),
      );
      const columnsOf = (t: number): { first: Tensor; gates: Tensor[] } => ({
        first: firstCols[t],
        gates: gateCols.slice(2 * t, 2 * t + 2),
      });
      const last = layers[layers.length - 1].c;
      // The identity part alone ([B, |identity|, N]) is the next transform's part to invert; later
      // it is the previous spline's output.
      let xi = matmul(matrix(last.identity.map(unitRow)), zAug);
      let yi = matmul(matrix([...last.identity.map(unitRow), onesRow(d + 1)]), zAug); // [B, |identity| + 1, N]
      let yt = matmul(matrix(last.transformed.map(unitRow)), zAug);
      for (let t = layers.length - 1; t >= 0; t--) {
        const c = layers[t].c;
        const v = splineInverseUnit(yt, c.netT(yi, columnsOf(t)), k, -2);
        if (t === 0) {
          // [v; identity; 1] -> theta in coordinate order.
          const order = [...c.transformed, ...c.identity];
          const rows = Array.from({ length: d }, (_, coord) => {
            const { scale, shift } = toTheta(coord);
            return Array.from({ length: d + 1 }, (_, j) =>
              j === d ? shift : order[j] === coord ? scale : 0,
            );
          });
          return transpose(matmul(matrix(rows), concat([v, yi], 1)), [0, 2, 1]);
        }
        yt = xi;
        xi = v;
        yi = concat([v, ones], 1);
      }
      throw new RangeError('NSF: no transforms');
    },
  };
}
