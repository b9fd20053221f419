/**
 * Masked autoregressive flow (Papamakarios et al. 2017) as built by the sbi toolbox: per transform
 * a MADE (masked input layer plus a linear context layer, two masked tanh blocks, masked output
 * layer giving scale and shift per dimension) with the affine map y = u * scale + shift,
 * scale = softplus(s) + 1e-3 (nflows >= 0.14), and a fixed random permutation between transforms.
 * Sampling inverts each transform with D passes of its MADE.
 *
 * Two equivalent formulations keep the graphs small:
 * - The permutations are folded into the MADEs' input degrees: transform t assigns degree k to the
 *   coordinate that the permutations so far moved to position k, so no tensor is ever permuted.
 *   (A MADE on permuted inputs equals a MADE with permuted degrees; the standard-normal base
 *   density does not depend on the order of its coordinates.)
 * - The context layers of all transforms are one linear layer [E, T*H] whose output is split per
 *   transform, so the context is projected once for the whole flow.
 */
import type { Tensor } from '../../graph/tensor.ts';
import type { ParameterSet } from '../../graph/params.ts';
import { add, div, log, mul, softplus, sub, tanh } from '../../graph/ops-elementwise.ts';
import { sum } from '../../graph/ops-nn.ts';
import { split } from '../../graph/ops-shape.ts';
import { Rng } from '../rng.ts';
import { linear, permutation, standardNormalLogProb } from '../layers.ts';
import type { DensityModel, ModelSizes } from './model.ts';

/** Degrees of MADE hidden units (nflows, non-random masks): arange(H) % max(1, D-1) + min(1, D-1). */
function hiddenDegrees(h: number, d: number): number[] {
  const mx = Math.max(1, d - 1);
  const mn = Math.min(1, d - 1);
  return Array.from({ length: h }, (_, i) => (i % mx) + mn);
}

/** 0/1 mask [in, out] with mask[i][o] = rule(inDeg[i], outDeg[o]). */
function degreeMask(
  inDeg: number[],
  outDeg: number[],
  rule: (i: number, o: number) => boolean,
): Float32Array {
  const m = new Float32Array(inDeg.length * outDeg.length);
  inDeg.forEach((di, i) => outDeg.forEach((dout, o) => (m[i * outDeg.length + o] = rule(di, dout) ? 1 : 0)));
  return m;
}

/** A MADE: scale and shift [B, N, D] given u [B, N, D] and its context projection [B, 1, H]. */
type Made = (u: Tensor, ctxProj: Tensor) => { scale: Tensor; shift: Tensor };

/** A MADE whose input coordinate j has autoregressive degree inDeg[j] (a permutation of 1..D). */
function buildMade(p: ParameterSet, name: string, s: ModelSizes, inDeg: number[]): Made {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const hid = hiddenDegrees(h, d);
  const outDeg = [...inDeg, ...inDeg]; // [unconstrained scale (D), shift (D)]
  const lin = linear(p, `${name}.in`, d, h, { mask: degreeMask(inDeg, hid, (i, o) => o >= i) });
  const maskHid = degreeMask(hid, hid, (i, o) => o >= i);
  const b0 = linear(p, `${name}.block0`, h, h, { mask: maskHid });
  const b1 = linear(p, `${name}.block1`, h, h, { mask: maskHid });
  const out = linear(p, `${name}.out`, h, 2 * d, { mask: degreeMask(hid, outDeg, (i, o) => o > i) });
  return (u, ctxProj) => {
    const a = tanh(b1(tanh(b0(add(lin(u), ctxProj)))));
    const [us, shift] = split(out(a), -1, [d, d]);
    return { scale: add(softplus(us), 1e-3), shift };
  };
}

/**
 * Input degrees of each transform. Transform t sees the coordinates in the order `order`, where
 * order[k] is the coordinate at position k after the permutations of transforms 0..t-1
 * (position k has degree k + 1).
 */
function transformDegrees(s: ModelSizes): number[][] {
  const d = s.thetaDim;
  const rng = new Rng(s.permutationSeed);
  let order = Array.from({ length: d }, (_, i) => i);
  const out: number[][] = [];
  for (let t = 0; t < s.numTransforms; t++) {
    const deg = new Array<number>(d);
    order.forEach((coord, k) => (deg[coord] = k + 1));
    out.push(deg);
    const perm = permutation(d, () => rng.uniform());
    order = perm.map((i) => order[i]);
  }
  return out;
}

/** Build a MAF, reserving its parameters in `p` (same sizes, same buffer layout in every graph). */
export function buildMaf(p: ParameterSet, s: ModelSizes): DensityModel {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const T = s.numTransforms;
  const ctxLin = linear(p, 'maf.ctx', s.contextDim, T * h);
  const mades = transformDegrees(s).map((deg, t) => buildMade(p, `maf${t}`, s, deg));
  const project = (ctx: Tensor): Tensor[] =>
    T === 1
      ? [ctxLin(ctx)]
      : split(
          ctxLin(ctx),
          -1,
          mades.map(() => h),
        );
  return {
    noiseDim: d,
    logProb(u, ctx) {
      const proj = project(ctx);
      let y = u;
      let logDet: Tensor | null = null;
      mades.forEach((made, t) => {
        const { scale, shift } = made(y, proj[t]);
        const ld = sum(log(scale), [-1]);
        logDet = logDet ? add(logDet, ld) : ld;
        y = add(mul(y, scale), shift);
      });
      return add(standardNormalLogProb(y), logDet!);
    },
    sample(noise, ctx) {
      const proj = project(ctx);
      let z = noise;
      for (let t = T - 1; t >= 0; t--) {
        // Invert y = u * scale(u_<k) + shift(u_<k) one degree per pass, starting from u = 0.
        let u = mul(z, 0);
        for (let i = 0; i < d; i++) {
          const { scale, shift } = mades[t](u, proj[t]);
          u = div(sub(z, shift), scale);
        }
        z = u;
      }
      return z;
    },
  };
}
