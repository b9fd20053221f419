import { describe, expect, it } from 'vitest';
import { arrayPairSource } from '../../main/sbi/data.ts';
import { createEstimator } from '../../main/sbi/estimator.ts';
import { train } from '../../main/sbi/train.ts';
import { Rng } from '../../main/sbi/rng.ts';

// theta ~ N(0, I_2), x = theta + N(0, 0.5^2 I): exact posterior N(0.8 x, 0.2 I).
const SIGMA = 0.5;
const POST_VAR = 1 / (1 + 1 / SIGMA ** 2);
const SHRINK = POST_VAR / SIGMA ** 2;

describe.each(['maf', 'nsf', 'mdn'] as const)('%s on the linear-Gaussian task', (kind) => {
  it('recovers the exact posterior mean and covariance', async () => {
    const r = new Rng(10);
    const n = 3000;
    const theta = r.fillNormal(new Float32Array(n * 2));
    const x = theta.map((t) => t + SIGMA * r.normal());
    // Small networks and a higher learning rate keep this test quick; accuracy at default settings is in the benchmark.
    const est = createEstimator({
      kind,
      thetaDim: 2,
      xDim: 2,
      seed: 1,
      hiddenFeatures: 20,
      numTransforms: 3,
      numComponents: 3,
    });
    const run = await train(est, arrayPairSource(theta, x, 2, 2), {
      maxEpochs: 50,
      seed: 1,
      learningRate: 2e-3,
    });
    const post = await run.posterior();
    const obs = new Float32Array([0.5, -1, -0.8, 0.3]);
    const m = 20_000;
    const s = await post.sample(obs, m, { seed: 2 });
    for (let o = 0; o < 2; o++) {
      const mean = [0, 0];
      const cov = [0, 0, 0];
      for (let i = 0; i < m; i++) {
        mean[0] += s[(o * m + i) * 2] / m;
        mean[1] += s[(o * m + i) * 2 + 1] / m;
      }
      for (let i = 0; i < m; i++) {
        const a = s[(o * m + i) * 2] - mean[0];
        const b = s[(o * m + i) * 2 + 1] - mean[1];
        cov[0] += (a * a) / m;
        cov[1] += (a * b) / m;
        cov[2] += (b * b) / m;
      }
      expect(Math.abs(mean[0] - SHRINK * obs[2 * o])).toBeLessThan(0.1);
      expect(Math.abs(mean[1] - SHRINK * obs[2 * o + 1])).toBeLessThan(0.1);
      // With 3000 simulations and 40 epochs the fit is rough; a posterior ignoring x would have ratio 5.
      expect(cov[0] / POST_VAR).toBeGreaterThan(0.7);
      expect(cov[0] / POST_VAR).toBeLessThan(1.6);
      expect(cov[2] / POST_VAR).toBeGreaterThan(0.7);
      expect(cov[2] / POST_VAR).toBeLessThan(1.6);
      expect(Math.abs(cov[1])).toBeLessThan(0.05);
    }
    // The log-density at the exact posterior mean is close to the exact value log N(0; 0, 0.2 I).
    const lp = await post.logProb(new Float32Array([SHRINK * 0.5, SHRINK * -1]), obs.subarray(0, 2));
    expect(lp[0]).toBeCloseTo(-Math.log(2 * Math.PI * POST_VAR), 0);
    await post.dispose();
  }, 600_000);
});
