/**
 * Mixture density network with full-covariance Gaussian components, as in the sbi toolbox (pyknos'
 * MultivariateGaussianMDN): a 3-layer ReLU network on the context gives per component a logit, a
 * mean and an upper-triangular precision factor U (positive diagonal exp(.)), precision = U^T U, so
 *
 *   log q(u) = logsumexp_k [ log pi_k + sum_i log U_k,ii - |U_k (u - mu_k)|^2 / 2 - D/2 log 2 pi ].
 *
 * Sampling: the last noise column picks the component (through the normal CDF), the first D
 * columns z give u = mu_k + U_k^-1 z. U_k^-1 comes from back-substitution unrolled in the graph,
 * once per observation and component, not per sample.
 */
import type { Tensor } from '../../graph/tensor.ts';
import type { ParameterSet } from '../../graph/params.ts';
import {
  abs,
  add,
  cast,
  div,
  exp,
  less,
  minimum,
  mul,
  neg,
  reciprocal,
  relu,
  sign,
  square,
  sub,
} from '../../graph/ops-elementwise.ts';
import { cumsum, logSoftmax, logSumExp, matmul, softmax, sum } from '../../graph/ops-nn.ts';
import { concat, fullLike, reshape, slice, squeeze, unsqueeze } from '../../graph/ops-shape.ts';
import { linear } from '../layers.ts';
import { applyAffine, type DensityModel, type ModelSizes } from './model.ts';

/** Standard normal CDF from exp and arithmetic (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function normalCdf(w: Tensor): Tensor {
  const x = mul(abs(w), Math.SQRT1_2);
  const t = reciprocal(add(mul(x, 0.3275911), 1));
  const coeffs = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592];
  let poly: Tensor = mul(t, coeffs[0]);
  for (const c of coeffs.slice(1)) poly = mul(add(poly, c), t);
  const erf = sub(1, mul(poly, exp(neg(square(x)))));
  return mul(add(mul(sign(w), erf), 1), 0.5);
}

/** Build an MDN, reserving its parameters in `p` (same sizes, same buffer layout in every graph). */
export function buildMdn(p: ParameterSet, s: ModelSizes): DensityModel {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const k = s.numComponents;
  const g = p.graph;
  const l1 = linear(p, 'mdn.hidden0', s.contextDim, h);
  const l2 = linear(p, 'mdn.hidden1', h, h);
  const l3 = linear(p, 'mdn.hidden2', h, h);
  const logits = linear(p, 'mdn.logits', h, k);
  // Heads are plain linear layers; the context path has one dynamic axis (observations), so their
  // outputs reshape to per-component blocks.
  const means = linear(p, 'mdn.means', h, k * d);
  const diag = linear(p, 'mdn.diag', h, k * d);
  const upper = linear(p, 'mdn.upper', h, k * d * d);
  const strictUpper = new Float32Array(d * d);
  const eye = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    eye[i * d + i] = 1;
    for (let j = i + 1; j < d; j++) strictUpper[i * d + j] = 1;
  }
  const maskU = g.constant(strictUpper, [d, d]);
  const eyeC = g.constant(eye, [d, d]);

  /** Mixture parameters from ctx [B, 1, E]: log weights [B,1,K], means [B,1,K,D], U [B,1,K,D,D], log|U| [B,1,K]. */
  const mixture = (ctx: Tensor) => {
    const a = relu(l3(relu(l2(relu(l1(ctx)))))); // [B, 1, H]
    const mu = reshape(means(a), [-1, 1, k, d]);
    const rawDiag = reshape(diag(a), [-1, 1, k, d]);
    const up = reshape(upper(a), [-1, 1, k, d, d]);
    const u = add(mul(up, maskU), mul(unsqueeze(exp(rawDiag), [-1]), eyeC));
    return { logW: logSoftmax(logits(a), -1), mu, u, logDet: sum(rawDiag, [-1]) };
  };

  /** U^-1 of every component, row-major flattened: [B, 1, K, D * D] (back-substitution on U Y = I). */
  const inverseFactor = (u: Tensor): Tensor => {
    const rows: Tensor[] = new Array(d);
    for (let i = d - 1; i >= 0; i--) {
      const row = squeeze(slice(u, -2, i, i + 1), [-2]); // [B, 1, K, D]
      const unit = new Float32Array(d);
      unit[i] = 1;
      let r: Tensor = g.constant(unit, [d]);
      if (i < d - 1) {
        const later = concat(
          rows.slice(i + 1).map((y) => unsqueeze(y, [-2])),
          -2,
        ); // [B, 1, K, D-i-1, D]
        const coeff = unsqueeze(slice(row, -1, i + 1, d), [-1]); // [B, 1, K, D-i-1, 1]
        r = sub(r, sum(mul(coeff, later), [-2]));
      }
      rows[i] = div(r, slice(row, -1, i, i + 1)); // row i of U^-1: [B, 1, K, D]
    }
    return d > 1 ? concat(rows, -1) : rows[0];
  };
  // Constant maps for theta_i = sum_j Y_ij z_j on flattened Y: z -> (z_j at i * D + j), and the
  // sums over j of each row.
  const rep = new Float32Array(d * d * d);
  const sumR = new Float32Array(d * d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      rep[j * d * d + i * d + j] = 1;
      sumR[(i * d + j) * d + i] = 1;
    }
  }
  const repeatZ = g.constant(rep, [d, d * d]);
  const sumRows = g.constant(sumR, [d * d, d]);

  return {
    noiseDim: d + 1,
    logProb(x, ctx) {
      const m = mixture(ctx);
      const diff = sub(unsqueeze(x, [2]), m.mu); // [B, N, K, D]
      const ud = sum(mul(m.u, unsqueeze(diff, [3])), [-1]); // [B, N, K, D]
      const comp = sub(
        add(m.logW, m.logDet),
        add(mul(sum(square(ud), [-1]), 0.5), 0.5 * d * Math.log(2 * Math.PI)),
      );
      return logSumExp(comp, [-1]);
    },
    sample(noise, ctx, out) {
      const mm = mixture(ctx);
      const m = { ...mm, uInv: inverseFactor(mm.u) };
      const z = unsqueeze(slice(noise, -1, 0, d), [2]); // [B, N, 1, D]
      const w = normalCdf(slice(noise, -1, d, d + 1)); // [B, N, 1]
      // One-hot of the first component whose cumulative weight exceeds w.
      const cum = cumsum(softmax(m.logW, -1), -1);
      const cumFixed =
        k > 1 ? concat([slice(cum, -1, 0, k - 1), fullLike(slice(cum, -1, 0, 1), 2)], -1) : fullLike(cum, 2);
      const lt = cast(less(minimum(w, 0.9999999), cumFixed), 'float32'); // [B, N, K]
      const onehot =
        k > 1 ? sub(lt, concat([fullLike(slice(lt, -1, 0, 1), 0), slice(lt, -1, 0, k - 1)], -1)) : lt;
      // theta = mu_k + U_k^-1 z for the chosen k. U^-1 is computed once per observation and
      // component (on [B, 1, K, D, D]), then one batched MatMul with the one-hot picks each
      // sample's mean and inverse factor; the per-sample work is two small constant MatMuls.
      // The output affine is folded into the table (per observation): scale_i mu_i + shift_i and
      // row i of U^-1 times scale_i, so no full-size node broadcasts along the short last axis.
      const inv = m.uInv; // [B, 1, K, D * D]
      const tableScale = [
        ...out.scale,
        ...Array.from({ length: d * d }, (_, e) => out.scale[Math.floor(e / d)]),
      ];
      const tableShift = [...out.shift, ...new Array<number>(d * d).fill(0)];
      const table = applyAffine(
        squeeze(concat([m.mu, inv], -1), [1]),
        { scale: tableScale, shift: tableShift },
        -1,
      ); // [B, K, D + D * D]
      const picked = matmul(onehot, table); // [B, N, D + D * D]
      const zRep = matmul(squeeze(z, [2]), repeatZ); // [B, N, D * D]: z_j at position i * D + j
      const y = matmul(mul(slice(picked, -1, d, d + d * d), zRep), sumRows); // [B, N, D]
      return add(slice(picked, -1, 0, d), y);
    },
  };
}
