/**
 * Masked autoregressive flow (Papamakarios et al. 2017) after the sbi toolbox: per transform
 * a MADE (masked input layer plus a linear context layer, two masked tanh blocks, masked output
 * layer giving scale and shift per dimension, plus a linear term of the context in the shift)
 * with the affine map y = u * scale + shift,
 * scale = softplus(s) + 1e-3 (nflows >= 0.14), and a fixed random permutation between transforms.
 * Sampling inverts each transform with D passes, pass k through the part of its MADE that
 * coordinate k depends on (`invertMade`).
 *
 * Known differences from the sbi toolbox's MADE (nflows, feed-forward blocks):
 * - nflows computes out(tanh(L1(tanh(L0(tanh(W u + tanh(C c))))))), with a tanh after the input
 *   layer and on the context projection; this MADE computes out(tanh(L1(tanh(L0(W u + C c))))),
 *   so its input layer and first block compose into one masked linear map (two tanh layers
 *   instead of three). Same masks and parameter count. The nflows form was measured too (one
 *   fine-tuning restart) and did worse on gaussian_linear, whose posterior mean is linear in x:
 *   C2ST 0.511 and 0.509 at 100,000 simulations (seeds 0, 1) against 0.504 and 0.507, 0.540 at
 *   10,000 against 0.521; so this form stays.
 * - Each shift has a linear term in the context, S_t c (E x D weights per transform, starting at
 *   zero; an unmasked input, since the context may feed every coordinate). The tanh units alone
 *   bend a shift that should be linear in x where x is large: on gaussian_linear at 100,000
 *   simulations the posterior means were off by 0.07-0.08 posterior standard deviations (rms over
 *   the coordinates) for the observations of largest |x| and 0.02-0.04 for the others, and C2ST
 *   was 0.5055 / 0.5042 (seeds 0 / 1); with the term the errors were 0.01-0.04 and C2ST 0.502 /
 *   0.502 (docs/sbi-measurements.md).
 * The measurements in docs/sbi-measurements.md name the form they used.
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
import { matmul, sum } from '../../graph/ops-nn.ts';
import { concat, fullLike, gather, reshape, slice, split, transpose } from '../../graph/ops-shape.ts';
import { Rng } from '../rng.ts';
import { linearParams, permutation } from '../layers.ts';
import { constantInit } from '../../graph/init.ts';
import { applyAffine, type DensityModel, type ModelSizes } from './model.ts';

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

/**
 * A MADE: scale and shift [B, N, D] given u [B, N, D], its context projection [B, 1, H] and the
 * context's linear term of the shift [B, 1, D].
 */
type MadeFn = (u: Tensor, ctxProj: Tensor, ctxShift: Tensor) => { scale: Tensor; shift: Tensor };

/** A MADE and what its inverse needs: the (masked) weights and the degrees. */
interface Made {
  apply: MadeFn;
  inDeg: number[];
  hidDeg: number[];
  w: { in: Tensor; b0: Tensor; b1: Tensor; out: Tensor };
  b: { in: Tensor; b0: Tensor; b1: Tensor; out: Tensor };
}

/** A MADE whose input coordinate j has autoregressive degree inDeg[j] (a permutation of 1..D). */
function buildMade(p: ParameterSet, name: string, s: ModelSizes, inDeg: number[]): Made {
  const d = s.thetaDim;
  const h = s.hiddenFeatures;
  const hid = hiddenDegrees(h, d);
  const outDeg = [...inDeg, ...inDeg]; // [unconstrained scale (D), shift (D)]
  const maskHid = degreeMask(hid, hid, (i, o) => o >= i);
  const lin = linearParams(p, `${name}.in`, d, h, { mask: degreeMask(inDeg, hid, (i, o) => o >= i) });
  const b0 = linearParams(p, `${name}.block0`, h, h, { mask: maskHid });
  const b1 = linearParams(p, `${name}.block1`, h, h, { mask: maskHid });
  const out = linearParams(p, `${name}.out`, h, 2 * d, { mask: degreeMask(hid, outDeg, (i, o) => o > i) });
  return {
    apply(u, ctxProj, ctxShift) {
      const a = tanh(b1.apply(tanh(b0.apply(add(lin.apply(u), ctxProj)))));
      const [us, shift] = split(out.apply(a), -1, [d, d]);
      return { scale: add(softplus(us), 1e-3), shift: add(shift, ctxShift) };
    },
    inDeg,
    hidDeg: hid,
    w: { in: lin.weight, b0: b0.weight, b1: b1.weight, out: out.weight },
    b: { in: lin.bias!, b0: b0.bias!, b1: b1.bias!, out: out.bias! },
  };
}

/**
 * Inverse of one MAF transform in feature-major layout: u [B, D, N] from y [B, D, N] with
 * y = u * scale(u_<k) + shift(u_<k); `ctxBias` [B, H, 1] is the context projection plus the input
 * layer's bias, `ctxShift` [B, D, 1] the context's linear term of the shift.
 *
 * A hidden unit of degree j depends only on the coordinates of degree <= j (the MADE masks), so
 * its value is final as soon as those are known and never changes in later passes. Pass k (from 0)
 * therefore computes, in each hidden layer, only the units of degree k, appends them to the units
 * computed before, and evaluates just the two outputs of the coordinate of degree
 * k + 1 from all units of degree <= k. The input layer has no nonlinearity, so it is composed with
 * the first block into one masked map (the product of the two masked weight matrices) and one
 * per-observation bias. The whole inverse then costs less than one pass through the MADE's
 * non-zero weights instead of D full passes (1,988 against 42,350 multiply-adds per sample for
 * D = 7 and 50 hidden units), with the same values up to rounding: the terms left out are the
 * masked ones, which are exactly zero. The weight blocks are products and gathers of the trained
 * weights, folded into constants by onnxruntime.
 *
 * Samples run along the last axis, so every elementwise operation works on rows of N values;
 * onnxruntime broadcasts a [.., 1] or [.., 2] last axis element by element, which made those
 * operations 20-50 times slower per value in the sample-major layout.
 */
function invertMade(m: Made, y: Tensor, ctxBias: Tensor, ctxShift: Tensor): Tensor {
  const g = y.graph;
  const d = m.inDeg.length;
  const index = (ix: number[]) => g.constant(ix, [ix.length], 'int64');
  const column = (v: Tensor) => reshape(v, [v.shape[0], 1]);
  const sub2 = (w: Tensor, rows: Tensor, cols: Tensor) => transpose(gather(gather(w, rows, 0), cols, 1));
  const coordOf = Array.from({ length: d }, (_, k) => m.inDeg.indexOf(k + 1)); // coordinate of degree k+1
  // The input layer is linear, so it composes with the first block's weights: one masked map
  // [D, H] from the coordinates and one per-observation bias [B, H, 1] (context, both biases).
  const wIn0 = matmul(m.w.in, m.w.b0);
  const bias0 = add(matmul(transpose(m.w.b0), ctxBias), column(m.b.b0));
  // The output layer's bias per observation [B, 2D, 1]: the shift rows get the context's term.
  const biasOut = add(column(m.b.out), concat([fullLike(ctxShift, 0), ctxShift], 1));
  let known: Tensor | null = null; // u of the coordinates of degree 1..k, in degree order [B, k, N]
  // Activations of the two tanh layers' units computed so far, in the order `done` ([B, |done|, N]).
  const done: number[] = [];
  let act1: Tensor | null = null;
  let act2: Tensor | null = null;
  for (let k = 0; k < d; k++) {
    const c = coordOf[k];
    const fresh = m.hidDeg.flatMap((deg, i) => (deg === k ? [i] : [])); // degree k: first needed now
    if (fresh.length > 0) {
      const F = index(fresh);
      done.push(...fresh);
      let a = gather(bias0, F, 1); // [B, |F|, 1]
      if (known) a = add(matmul(sub2(wIn0, index(coordOf.slice(0, k)), F), known), a);
      const z1 = tanh(a);
      act1 = act1 ? concat([act1, z1], 1) : z1;
      const z2 = tanh(add(matmul(sub2(m.w.b1, index(done), F), act1), column(gather(m.b.b1, F, 0))));
      act2 = act2 ? concat([act2, z2], 1) : z2;
    }
    const outIx = index([c, d + c]);
    // Unconstrained scale and shift of coordinate c: [B, 2, N], or [B, 2, 1] without units.
    const bias = gather(biasOut, outIx, 1);
    const o = done.length === 0 ? bias : add(matmul(sub2(m.w.out, index(done), outIx), act2!), bias);
    const us = slice(o, 1, 0, 1);
    const shift = slice(o, 1, 1, 2);
    const u = div(sub(gather(y, index([c]), 1), shift), add(softplus(us), 1e-3));
    known = known ? concat([known, u], 1) : u;
  }
  if (d === 1) return known!;
  // Back to coordinate order: coordinate c sits at position inDeg[c] - 1.
  return gather(known!, index(m.inDeg.map((k) => k - 1)), 1);
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
  const ctxLin = linearParams(p, 'maf.ctx', s.contextDim, T * h);
  const mades = transformDegrees(s).map((deg, t) => buildMade(p, `maf${t}`, s, deg));
  // The shift's linear term in the context, per transform (starts at zero): one product together
  // with the hidden layers' context projection.
  const ctxShiftW = p.add('maf.ctx_shift.weight', [s.contextDim, T * d], constantInit(0));
  const projW = concat([ctxLin.weight, ctxShiftW], 1);
  const projB = concat([ctxLin.bias!, p.graph.constant(new Array<number>(T * d).fill(0), [T * d])], 0);
  /** Per transform: the hidden layers' context projection [.., H] and the shift's term [.., D]. */
  const project = (ctx: Tensor): { hidden: Tensor; shift: Tensor }[] => {
    const parts = split(add(matmul(ctx, projW), projB), -1, [...mades.map(() => h), ...mades.map(() => d)]);
    return mades.map((_, t) => ({ hidden: parts[t], shift: parts[T + t] }));
  };
  return {
    noiseDim: d,
    logProb(u, ctx) {
      const proj = project(ctx);
      let y = u;
      // Log-scales summed over the transforms elementwise, then one sum over the coordinates
      // together with the base density: one reduction (and one gradient expansion) instead of T + 1.
      let logScale: Tensor | null = null;
      mades.forEach((made, t) => {
        const { scale, shift } = made.apply(y, proj[t].hidden, proj[t].shift);
        const ls = log(scale);
        logScale = logScale ? add(logScale, ls) : ls;
        y = add(mul(y, scale), shift);
      });
      return sub(sum(sub(logScale!, mul(mul(y, y), 0.5)), [-1]), 0.5 * d * Math.log(2 * Math.PI));
    },
    sample(noise, ctx, out) {
      const proj = project(ctx);
      // Feature-major [B, D, N] between the transforms (see invertMade).
      let z = transpose(noise, [0, 2, 1]);
      for (let t = T - 1; t >= 0; t--) {
        z = invertMade(
          mades[t],
          z,
          transpose(add(proj[t].hidden, mades[t].b.in), [0, 2, 1]),
          transpose(proj[t].shift, [0, 2, 1]),
        );
      }
      return transpose(applyAffine(z, out, -2), [0, 2, 1]);
    },
  };
}
