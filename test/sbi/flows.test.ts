import { describe, expect, it } from 'vitest';
import { createEstimator, emitSampler, initialParameters } from '../../main/sbi/estimator.ts';
import { Session } from '../../main/graph/runtime.ts';
import { Rng } from '../../main/sbi/rng.ts';
import { grid2d, metadataFor, unitZ, untrainedPosterior } from './helpers.ts';

const KINDS = ['maf', 'nsf', 'mdn'] as const;
const x = new Float32Array([0.3, -0.7]);

describe.each(KINDS)('%s density', (kind) => {
  it('integrates to 1 over a 2-D grid and its samples have the moments of its density', async () => {
    const est = createEstimator({
      kind,
      thetaDim: 2,
      xDim: 2,
      seed: 3,
      hiddenFeatures: 20,
      numTransforms: 3,
      numComponents: 4,
    });
    const post = await untrainedPosterior(est);
    const { points, cell } = grid2d(16, 400);
    const lp = await post.logProb(points, x);
    let mass = 0;
    const m = [0, 0, 0, 0]; // E[t1], E[t2], E[t1^2], E[t1 t2] by quadrature
    for (let i = 0; i < lp.length; i++) {
      const p = Math.exp(lp[i]) * cell;
      const a = points[2 * i];
      const b = points[2 * i + 1];
      mass += p;
      m[0] += p * a;
      m[1] += p * b;
      m[2] += p * a * a;
      m[3] += p * a * b;
    }
    expect(mass).toBeGreaterThan(0.99);
    expect(mass).toBeLessThan(1.01);
    const n = 40_000;
    const s = await post.sample(x, n, { seed: 11 });
    const e = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const a = s[2 * i];
      const b = s[2 * i + 1];
      e[0] += a / n;
      e[1] += b / n;
      e[2] += (a * a) / n;
      e[3] += (a * b) / n;
    }
    const sd = Math.sqrt(Math.max(m[2] - m[0] ** 2, 1e-6));
    // Monte Carlo error of a mean over 40k samples is about sd/200; allow 5 of those.
    expect(Math.abs(e[0] - m[0])).toBeLessThan(0.025 * sd + 0.01);
    expect(Math.abs(e[1] - m[1])).toBeLessThan(0.025 * Math.sqrt(Math.max(m[1] ** 2, 1)) + 0.01);
    expect(Math.abs(e[2] - m[2])).toBeLessThan(0.05 * m[2] + 0.01);
    expect(Math.abs(e[3] - m[3])).toBeLessThan(0.05 * Math.abs(m[2]) + 0.02);
    await post.dispose();
  });

  it('with one parameter, samples have the mean and variance of its density', async () => {
    const est = createEstimator({
      kind,
      thetaDim: 1,
      xDim: 2,
      seed: 5,
      hiddenFeatures: 20,
      numComponents: 3,
    });
    const post = await untrainedPosterior(est);
    // Untrained, the MAF's density is wide (std about 8): a wide grid.
    const points = Float32Array.from({ length: 6001 }, (_, i) => -60 + i * 0.02);
    const lp = await post.logProb(points, x);
    const m = [0, 0, 0]; // mass, E[t], E[t^2] by quadrature
    lp.forEach((v, i) => {
      const p = Math.exp(v) * 0.02;
      m[0] += p;
      m[1] += p * points[i];
      m[2] += p * points[i] ** 2;
    });
    expect(Math.abs(m[0] - 1)).toBeLessThan(0.01);
    const n = 40_000;
    const s = await post.sample(x, n, { seed: 2 });
    expect(s.length).toBe(n);
    const mean = s.reduce((a, v) => a + v, 0) / n;
    const second = s.reduce((a, v) => a + v * v, 0) / n;
    const sd = Math.sqrt(m[2] - m[1] ** 2);
    expect(Math.abs(mean - m[1])).toBeLessThan(0.025 * sd);
    expect(Math.abs(second - m[2])).toBeLessThan(0.05 * m[2]);
    await post.dispose();
  });

  it('conditions on x: different observations give different densities', async () => {
    const est = createEstimator({
      kind,
      thetaDim: 2,
      xDim: 2,
      seed: 5,
      hiddenFeatures: 20,
      numTransforms: 2,
      numComponents: 3,
    });
    const post = await untrainedPosterior(est);
    const theta = new Float32Array([0.1, 0.2, 0.1, 0.2]);
    const lp = await post.logProb(theta, new Float32Array([0, 0, 2, -2]));
    expect(Math.abs(lp[0] - lp[1])).toBeGreaterThan(1e-3);
    await post.dispose();
  });
});

describe.each(KINDS)('%s z-scoring of theta', (kind) => {
  it('samples are the unit-scale samples mapped by std and mean; log-densities shift by log std', async () => {
    const est = createEstimator({
      kind,
      thetaDim: 3,
      xDim: 2,
      seed: 4,
      hiddenFeatures: 16,
      numTransforms: 3,
      numComponents: 3,
    });
    const unit = unitZ(3, 2);
    const scaled = { ...unit, theta: { mean: [1, -2, 0.25], std: [3, 0.5, 2] } };
    // The same weights: only the output affine differs.
    const params = initialParameters(est, unit);
    const a = await untrainedPosterior(est, unit, params);
    const b = await untrainedPosterior(est, scaled, params);
    const xs = new Float32Array([0.3, -0.7, 1.2, 0.4]);
    const sa = await a.sample(xs, 500, { seed: 9 });
    const sb = await b.sample(xs, 500, { seed: 9 });
    for (let i = 0; i < sa.length; i++) {
      const c = i % 3;
      const expected = scaled.theta.std[c] * sa[i] + scaled.theta.mean[c];
      expect(Math.abs(sb[i] - expected)).toBeLessThan(1e-4 * (1 + Math.abs(expected)));
    }
    const la = await a.logProb(sa, xs);
    const lb = await b.logProb(sb, xs);
    const logStd = scaled.theta.std.reduce((acc, v) => acc + Math.log(v), 0);
    for (let i = 0; i < la.length; i++) expect(lb[i]).toBeCloseTo(la[i] - logStd, 3);
    await a.dispose();
    await b.dispose();
  });
});

describe('one-parameter estimators', () => {
  it.each(KINDS)('%s normalizes in 1-D', async (kind) => {
    const est = createEstimator({
      kind,
      thetaDim: 1,
      xDim: 3,
      seed: 2,
      hiddenFeatures: 16,
      numTransforms: 2,
      numComponents: 3,
    });
    const post = await untrainedPosterior(est);
    // The grid covers [-20, 20]: the untrained densities are wide (one is centred near -2.3).
    const n = 8000;
    const h = 40 / n;
    const pts = Float32Array.from({ length: n }, (_, i) => -20 + (i + 0.5) * h);
    const lp = await post.logProb(pts, new Float32Array([0.5, -1, 2]));
    let mass = 0;
    for (const v of lp) mass += Math.exp(v) * h;
    expect(mass).toBeCloseTo(1, 2);
    await post.dispose();
  });
});

describe('spline tails', () => {
  it('keeps the density continuous at the spline bound', async () => {
    const est = createEstimator({
      kind: 'nsf',
      thetaDim: 2,
      xDim: 1,
      seed: 4,
      hiddenFeatures: 16,
      numTransforms: 2,
      tailBound: 3,
    });
    const post = await untrainedPosterior(est);
    const eps = 1e-3;
    const theta = new Float32Array([3 - eps, 0.2, 3 + eps, 0.2, -3 - eps, -0.4, -3 + eps, -0.4]);
    const lp = await post.logProb(theta, new Float32Array([0.1]));
    expect(Math.abs(lp[0] - lp[1])).toBeLessThan(0.02);
    expect(Math.abs(lp[2] - lp[3])).toBeLessThan(0.02);
    await post.dispose();
  });
});

describe('mixture density network in more dimensions', () => {
  it('samples a single 5-D component with the covariance of its density', async () => {
    // For one Gaussian component, 2 (log q(mean) - log q(theta)) over its own samples is chi-square
    // with D degrees of freedom (mean D, variance 2D). A wrong inverse factor breaks that.
    const d = 5;
    const est = createEstimator({
      kind: 'mdn',
      thetaDim: d,
      xDim: 2,
      seed: 7,
      hiddenFeatures: 20,
      numComponents: 1,
    });
    const post = await untrainedPosterior(est);
    const n = 20_000;
    const s = await post.sample(x, n, { seed: 3 });
    const mean = new Float32Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += s[i * d + j] / n;
    const [lpMean] = await post.logProb(mean, x);
    const lp = await post.logProb(s, x);
    let q = 0;
    for (let i = 0; i < n; i++) q += (2 * (lpMean - lp[i])) / n;
    // Standard error of the mean of chi-square(5) over 20k draws is sqrt(10 / 20000) = 0.022.
    expect(Math.abs(q - d)).toBeLessThan(0.15);
    await post.dispose();
  });
});

// Hidden sizes: 16 gives every MADE degree hidden units; 2 leaves degree 3 without any, so the
// MAF sampler's passes that add no new units are exercised too.
describe.each([
  ['maf', 16],
  ['maf', 2],
  ['nsf', 16],
] as const)('%s (%i hidden units) as a bijection', (kind, hiddenFeatures) => {
  it('log q(sample(u)) = log N(u) - log|det d sample/du| in 4-D with strongly non-linear weights', async () => {
    // Checks the autoregressive structure end to end: a wrong triangular order breaks the
    // log-determinant, a wrong inversion order breaks the sampler; either moves the two sides apart.
    const d = 4;
    const est = createEstimator({
      kind,
      thetaDim: d,
      xDim: 3,
      seed: 8,
      hiddenFeatures,
      numTransforms: 3,
    });
    const z = unitZ(d, 3);
    const p = initialParameters(est, z).map((v) => 2.5 * v);
    const meta = metadataFor(est, z);
    const sampler = await Session.create(emitSampler(est, meta, p));
    const post = await untrainedPosterior(est, z, p);
    const x = new Float32Array([0.4, -1.1, 0.7]);
    const rng = new Rng(5);
    // log|det d sample/du| at u0 by central differences of step h (float32 sampler).
    const logDetJ = async (u0: number[], h: number) => {
      const pts: number[] = [...u0];
      for (let j = 0; j < d; j++)
        for (const s of [1, -1]) pts.push(...u0.map((v, k) => (k === j ? v + s * h : v)));
      const n = 1 + 2 * d;
      const out = await sampler.run({
        x: { data: x, dims: [1, 3] },
        noise: { data: Float32Array.from(pts), dims: [1, n, d] },
      });
      const th = out.theta.data as Float32Array;
      const jac: number[][] = Array.from({ length: d }, (_, r) =>
        Array.from({ length: d }, (_, j) => (th[(1 + 2 * j) * d + r] - th[(2 + 2 * j) * d + r]) / (2 * h)),
      );
      return { theta: th.slice(0, d), logDet: Math.log(Math.abs(det(jac))) };
    };
    let checked = 0;
    for (let trial = 0; trial < 20 && checked < 4; trial++) {
      const u0 = Array.from({ length: d }, () => rng.normal());
      const a = await logDetJ(u0, 1e-2);
      // With these exaggerated weights a spline bin can be so narrow that the map bends sharply
      // within 0.01 (slopes from 7 to 70 within 0.001 were seen); there the differences do not
      // resolve the Jacobian, which shows as disagreement between two step sizes. Such points are
      // skipped; at least 4 of 20 points must be resolved and agree.
      const b = await logDetJ(u0, 5e-3);
      if (Math.abs(a.logDet - b.logDet) > 0.02) continue;
      checked++;
      const lp = (await post.logProb(a.theta, x))[0];
      const logN = u0.reduce((s, v) => s - 0.5 * v * v - 0.5 * Math.log(2 * Math.PI), 0);
      expect(lp).toBeCloseTo(logN - a.logDet, 1);
    }
    expect(checked).toBe(4);
    await sampler.release();
    await post.dispose();
  });
});

/** Determinant by Gaussian elimination with partial pivoting. */
function det(a: number[][]): number {
  const m = a.map((r) => [...r]);
  const n = m.length;
  let dt = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    if (piv !== c) {
      [m[piv], m[c]] = [m[c], m[piv]];
      dt = -dt;
    }
    dt *= m[c][c];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return dt;
}
