import { describe, expect, it } from 'vitest';
import { checkSbc, runSbc } from '../../main/diagnostics/sbc.ts';
import { coverageCurve, hpdLevels, runCalibration } from '../../main/diagnostics/coverage.ts';
import type { BatchedPosterior, HeldOut } from '../../main/diagnostics/types.ts';
import { Rng } from '../../main/sbi/rng.ts';

// Linear Gaussian task: theta ~ N(0, I_2), x = theta + N(0, s^2 I). Exact posterior N(x / (1 + s^2), s^2 / (1 + s^2) I).
const S2 = 0.25;
const POST_VAR = S2 / (1 + S2);

/** The exact posterior, optionally with its standard deviation scaled (scale < 1: overconfident) and mean shifted. */
function gaussianPosterior(scale = 1, shift = 0, seed = 1): BatchedPosterior {
  const rng = new Rng(seed);
  const sd = Math.sqrt(POST_VAR) * scale;
  return {
    thetaDim: 2,
    xDim: 2,
    async sample(x, n) {
      const b = x.length / 2;
      const out = new Float32Array(b * n * 2);
      for (let i = 0; i < b; i++)
        for (let s = 0; s < n; s++)
          for (let d = 0; d < 2; d++)
            out[(i * n + s) * 2 + d] = x[i * 2 + d] / (1 + S2) + shift + sd * rng.normal();
      return out;
    },
    async logProb(theta, x) {
      const b = x.length / 2;
      const n = theta.length / (2 * b);
      const out = new Float32Array(b * n);
      for (let i = 0; i < b; i++)
        for (let s = 0; s < n; s++) {
          let lp = 0;
          for (let d = 0; d < 2; d++) {
            const z = (theta[(i * n + s) * 2 + d] - x[i * 2 + d] / (1 + S2) - shift) / sd;
            lp += -0.5 * z * z - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
          }
          out[i * n + s] = lp;
        }
      return out;
    },
  };
}

function heldOut(n: number, seed: number): HeldOut {
  const rng = new Rng(seed);
  const theta = new Float32Array(n * 2);
  const x = new Float32Array(n * 2);
  for (let k = 0; k < n * 2; k++) {
    theta[k] = rng.normal();
    x[k] = theta[k] + Math.sqrt(S2) * rng.normal();
  }
  return { n, theta, x };
}

describe('simulation-based calibration', () => {
  it('passes an exact posterior', async () => {
    const sbc = await runSbc(gaussianPosterior(), heldOut(1000, 7), { nSamples: 99 });
    expect(sbc.ranks.length).toBe(2000);
    expect(Math.max(...sbc.ranks)).toBeLessThanOrEqual(99);
    const check = checkSbc(sbc);
    expect(check.bins).toBe(20);
    expect(check.pass).toBe(true);
  });

  it('fails an overconfident posterior and a biased one', async () => {
    expect(checkSbc(await runSbc(gaussianPosterior(0.5), heldOut(1000, 7), { nSamples: 99 })).pass).toBe(
      false,
    );
    const biased = checkSbc(await runSbc(gaussianPosterior(1, 0.3), heldOut(1000, 7), { nSamples: 99 }));
    expect(biased.parameters.every((p) => !p.uniform)).toBe(true);
  });

  it('rejects held-out data whose shape does not match the posterior', async () => {
    await expect(
      runSbc(gaussianPosterior(), { n: 3, theta: new Float32Array(6), x: new Float32Array(5) }),
    ).rejects.toThrow(/expected 3 x 2 values, got 5/);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runSbc(gaussianPosterior(), heldOut(10, 1), {}, { signal: ac.signal })).rejects.toThrow();
  });
});

describe('expected coverage', () => {
  it('keeps HPD and marginal coverage error small for the exact posterior', async () => {
    const progress: number[] = [];
    const cal = await runCalibration(
      gaussianPosterior(),
      heldOut(1000, 3),
      { nSamples: 200 },
      {
        onProgress: (p) => progress.push(p.done),
      },
    );
    expect(progress.at(-1)).toBe(1000);
    expect(cal.hpd!.maxError).toBeLessThan(0.05);
    for (const m of cal.marginal) expect(m.maxError).toBeLessThan(0.05);
    // Mean log-density of the truth: E[log N(theta*; mu, POST_VAR)] = -log(2 pi POST_VAR) - 1 in two dimensions.
    expect(cal.meanLogProb!).toBeCloseTo(-Math.log(2 * Math.PI * POST_VAR) - 1, 1);
  });

  it('shows under-coverage for an overconfident posterior', async () => {
    const cal = await runCalibration(gaussianPosterior(0.6), heldOut(500, 3), { nSamples: 200 });
    expect(cal.hpd!.maxError).toBeGreaterThan(0.15);
    expect(cal.hpd!.worstSigned).toBeLessThan(0);
  });

  it('counts levels at or below each credibility level', () => {
    const c = coverageCurve([0.1, 0.3, 0.5, 0.95], [0.25, 0.5, 0.9]);
    expect(c.coverage).toEqual([0.25, 0.75, 0.75]);
    expect(c.maxError).toBeCloseTo(0.25, 10);
    expect(Array.from(hpdLevels(Float32Array.from([1, 2, 3, 4]), Float32Array.from([2.5]), 4))).toEqual([
      0.5,
    ]);
  });
});
