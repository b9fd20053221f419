import { describe, expect, it } from 'vitest';
import { createEstimator, initialParameters } from '../../main/sbi/estimator.ts';
import { grid2d, unitZ, untrainedPosterior } from './helpers.ts';

/**
 * The NSF sampler is its own graph (feature-major, unit coordinates, the bin search by counting
 * knots): its samples must follow the density the log-density graph describes, also where the
 * splines are far from the identity and the context moves them.
 */
describe('NSF sampler against the log-density', () => {
  it.each([
    [0, [0.3, -0.7]],
    [1, [-1.5, 2]],
  ] as const)(
    'observation %i: cell masses of 200,000 samples match the density on a grid',
    async (_i, obs) => {
      const est = createEstimator({
        kind: 'nsf',
        thetaDim: 2,
        xDim: 2,
        seed: 7,
        hiddenFeatures: 24,
        numTransforms: 3,
      });
      // Weights 2.5 times their initial scale: strongly bent splines that depend on the context (at
      // 4 times, features narrower than the grid's spacing appear).
      const params = initialParameters(est, unitZ(2, 2)).map((v) => v * 2.5);
      const post = await untrainedPosterior(est, unitZ(2, 2), params);
      const x = new Float32Array(obs);
      const l = 8;
      const { points, cell } = grid2d(l, 800);
      const lp = await post.logProb(points, x);
      const cells = 8; // 8 x 8 cells of width 2 over [-8, 8]^2
      const at = (v: number) => Math.min(cells - 1, Math.max(0, Math.floor(((v + l) / (2 * l)) * cells)));
      const density = new Float64Array(cells * cells);
      const gauss = new Float64Array(cells * cells);
      for (let i = 0; i < lp.length; i++) {
        const [a, b] = [points[2 * i], points[2 * i + 1]];
        density[at(a) * cells + at(b)] += Math.exp(lp[i]) * cell;
        gauss[at(a) * cells + at(b)] += (Math.exp(-(a * a + b * b) / 2) / (2 * Math.PI)) * cell;
      }
      // The grid resolves the density: its mass is 1.
      expect(Math.abs(density.reduce((a, v) => a + v, 0) - 1)).toBeLessThan(0.005);
      const n = 200_000;
      const s = await post.sample(x, n, { seed: 3 });
      const counted = new Float64Array(cells * cells);
      for (let i = 0; i < n; i++) counted[at(s[2 * i]) * cells + at(s[2 * i + 1])] += 1 / n;
      let worst = 0;
      let fromGauss = 0;
      for (let c = 0; c < cells * cells; c++) {
        worst = Math.max(worst, Math.abs(counted[c] - density[c]));
        fromGauss += Math.abs(density[c] - gauss[c]) / 2;
      }
      // A cell's sampling error is at most sqrt(0.25 / n) = 0.0011: 5 of those.
      expect(worst).toBeLessThan(0.0056);
      // The density is far from the base normal (total variation over the cells).
      expect(fromGauss).toBeGreaterThan(0.2);
      await post.dispose();
    },
  );
});
