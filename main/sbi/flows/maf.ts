/**
 * Masked autoregressive flow (Papamakarios et al. 2017) as built by the sbi toolbox: per transform
 * a MADE (masked input layer plus a linear context layer, two masked tanh blocks, masked output
 * layer giving scale and shift per dimension) with the affine map y = u * scale + shift,
 * scale = softplus(s) + 1e-3 (nflows >= 0.14), followed by a fixed random permutation. Sampling inverts each
 * transform with D passes of its MADE.
 */
import type { Tensor } from '../../graph/tensor.ts';
import type { ParameterSet } from '../../graph/params.ts';
import { add, div, log, mul, softplus, sub, tanh } from '../../graph/ops-elementwise.ts';
import { sum } from '../../graph/ops-nn.ts';
import { gather, split } from '../../graph/ops-shape.ts';
import { Rng } from '../rng.ts';
import { inversePermutation, linear, permutation, standardNormalLogProb } from '../layers.ts';
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

/** A MADE: scale and shift [B, N, D] given u [B, N, D] and the context [B, 1, E]. */
type Made = (u: Tensor, ctx: Tensor) => { scale: Tensor; shift: Tensor };

function buildMade(p: ParameterSet, name: string, s: ModelSizes): Made {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const inDeg = Array.from({ length: d }, (_, i) => i + 1);
  const hid = hiddenDegrees(h, d);
  const outDeg = [...inDeg, ...inDeg]; // [unconstrained scale (D), shift (D)]
  const lin = linear(p, `${name}.in`, d, h, { mask: degreeMask(inDeg, hid, (i, o) => o >= i) });
  const ctxLin = linear(p, `${name}.ctx`, s.contextDim, h);
  const maskHid = degreeMask(hid, hid, (i, o) => o >= i);
  const b0 = linear(p, `${name}.block0`, h, h, { mask: maskHid });
  const b1 = linear(p, `${name}.block1`, h, h, { mask: maskHid });
  const out = linear(p, `${name}.out`, h, 2 * d, { mask: degreeMask(hid, outDeg, (i, o) => o > i) });
  return (u, ctx) => {
    const a = tanh(b1(tanh(b0(add(lin(u), ctxLin(ctx))))));
    const [us, shift] = split(out(a), -1, [d, d]);
    return { scale: add(softplus(us), 1e-3), shift };
  };
}

/** Build a MAF, reserving its parameters in `p` (same sizes, same buffer layout in every graph). */
export function buildMaf(p: ParameterSet, s: ModelSizes): DensityModel {
  const d = s.thetaDim;
  const rng = new Rng(s.permutationSeed);
  const g = p.graph;
  const blocks = Array.from({ length: s.numTransforms }, (_, t) => {
    const perm = permutation(d, () => rng.uniform());
    return {
      made: buildMade(p, `maf${t}`, s),
      perm: g.constant(perm, [d], 'int64'),
      inv: g.constant(inversePermutation(perm), [d], 'int64'),
    };
  });
  return {
    noiseDim: d,
    logProb(u, ctx) {
      let h = u;
      let logDet: Tensor | null = null;
      for (const b of blocks) {
        const { scale, shift } = b.made(h, ctx);
        const ld = sum(log(scale), [-1]);
        logDet = logDet ? add(logDet, ld) : ld;
        h = gather(add(mul(h, scale), shift), b.perm, -1);
      }
      return add(standardNormalLogProb(h), logDet!);
    },
    sample(noise, ctx) {
      let z = noise;
      for (let t = blocks.length - 1; t >= 0; t--) {
        const b = blocks[t];
        z = gather(z, b.inv, -1);
        // Invert y = u * scale(u<i) + shift(u<i) one degree per pass, starting from u = 0.
        let u = mul(z, 0);
        for (let i = 0; i < d; i++) {
          const { scale, shift } = b.made(u, ctx);
          u = div(sub(z, shift), scale);
        }
        z = u;
      }
      return z;
    },
  };
}
