import { describe, expect, it } from 'vitest';
import { createEstimator } from '../../main/sbi/estimator.ts';
import { grid2d, untrainedPosterior } from './helpers.ts';

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
    const n = 4000;
    const h = 20 / n;
    const pts = Float32Array.from({ length: n }, (_, i) => -10 + (i + 0.5) * h);
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
