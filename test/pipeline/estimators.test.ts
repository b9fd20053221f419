import { describe, expect, it } from 'vitest';
import {
  boxPosterior,
  boxToUnbounded,
  ensemblePosterior,
  seededPosterior,
  unboundedToBox,
} from '../../main/pipeline/estimators.ts';
import { createEstimator, emitLogProb, emitSampler, initialParameters } from '../../main/sbi/estimator.ts';
import { Posterior } from '../../main/sbi/posterior.ts';
import { metadataFor, unitZ, untrainedPosterior } from '../sbi/helpers.ts';
import type { BatchedPosterior } from '../../main/diagnostics/types.ts';
import { Rng } from '../../main/sbi/rng.ts';

/** Standard normal in one dimension, ignoring x (xDim 1), shifted by `mu`. */
function normal1d(mu: number, seed = 1): BatchedPosterior {
  const rng = new Rng(seed);
  return {
    thetaDim: 1,
    xDim: 1,
    sample: async (x, n) => Float32Array.from({ length: x.length * n }, () => mu + rng.normal()),
    logProb: async (theta) =>
      Float32Array.from(theta, (t) => -0.5 * (t - mu) ** 2 - 0.5 * Math.log(2 * Math.PI)),
  };
}

describe('box posterior on logit coordinates', () => {
  const box = { low: [2], high: [6] };

  it('maps to the real line and back', () => {
    const theta = Float32Array.from([2.5, 4, 5.99]);
    const back = unboundedToBox(boxToUnbounded(theta, box), box);
    for (let i = 0; i < 3; i++) expect(back[i]).toBeCloseTo(theta[i], 4);
    expect(boxToUnbounded(Float32Array.of(4), box)[0]).toBeCloseTo(0, 6);
  });

  it('keeps samples inside the box and its density integrates to one', async () => {
    const post = boxPosterior(normal1d(0.7), box);
    const s = await post.sample(Float32Array.of(0), 2000);
    expect(Math.min(...s)).toBeGreaterThan(2);
    expect(Math.max(...s)).toBeLessThan(6);
    const grid = Float32Array.from({ length: 4000 }, (_, i) => 2 + (i + 0.5) * 0.001);
    const lp = await post.logProb(grid, Float32Array.of(0));
    const mass = lp.reduce((a, v) => a + Math.exp(v) * 0.001, 0);
    expect(mass).toBeCloseTo(1, 2);
    const outside = await post.logProb(Float32Array.of(1.5, 6.5), Float32Array.of(0));
    expect(outside[0]).toBe(-Infinity);
    expect(outside[1]).toBe(-Infinity);
  });
});

describe('ensemble posterior', () => {
  it('splits samples evenly over members and averages densities', async () => {
    const ens = ensemblePosterior([normal1d(-10, 1), normal1d(10, 2)]);
    const s = await ens.sample(Float32Array.of(0, 0), 10); // two observations
    expect(s.length).toBe(20);
    for (let o = 0; o < 2; o++) {
      const row = Array.from(s.subarray(o * 10, o * 10 + 10));
      expect(row.filter((v) => v < 0).length).toBe(5);
    }
    const lp = await ens.logProb(Float32Array.of(-10, 10, 0), Float32Array.of(0));
    const peak = -0.5 * Math.log(2 * Math.PI) + Math.log(0.5);
    expect(lp[0]).toBeCloseTo(peak, 4);
    expect(lp[1]).toBeCloseTo(peak, 4);
    expect(lp[2]).toBeCloseTo(-50 - 0.5 * Math.log(2 * Math.PI), 3);
  });
});

describe('ensemble posterior with a failing member', () => {
  it("fails with the member's error only after every other member's call has ended", async () => {
    let slowEnded = false;
    const slow = normal1d(0);
    const members: BatchedPosterior[] = [
      {
        ...slow,
        logProb: async (theta, x) => {
          await new Promise((r) => setTimeout(r, 50));
          const lp = await slow.logProb(theta, x);
          slowEnded = true;
          return lp;
        },
      },
      { ...normal1d(1), logProb: () => Promise.reject(new Error('member 2 failed')) },
    ];
    const call = ensemblePosterior(members).logProb(Float32Array.of(0), Float32Array.of(0));
    await expect(call).rejects.toThrow('member 2 failed');
    expect(slowEnded).toBe(true);
  });
});

describe('seeded posterior', () => {
  it('draws the same samples for the same seed and call sequence, and other samples for another seed', async () => {
    const post = await untrainedPosterior(createEstimator({ kind: 'mdn', thetaDim: 3, xDim: 2, seed: 1 }));
    const x = Float32Array.of(0.2, -0.4);
    const draw = async (seed: number) => {
      const p = seededPosterior(post, seed);
      return [...(await p.sample(x, 50)), ...(await p.sample(x, 50))];
    };
    const a = await draw(5);
    expect(await draw(5)).toEqual(a);
    expect(a.slice(0, 150)).not.toEqual(a.slice(150)); // the stream advances between calls
    expect(await draw(6)).not.toEqual(a);
    const lp = await seededPosterior(post, 5).logProb(Float32Array.of(0, 0, 0), x);
    expect(Array.from(lp)).toEqual(Array.from(await post.logProb(Float32Array.of(0, 0, 0), x)));
    await post.dispose();
  });

  it('refuses a thread count that is not a positive integer before loading anything', async () => {
    const est = createEstimator({ kind: 'mdn', thetaDim: 2, xDim: 2, seed: 1 });
    const z = unitZ(2, 2);
    const meta = metadataFor(est, z);
    const p = initialParameters(est, z);
    await expect(
      Posterior.fromBytes(emitSampler(est, meta, p), emitLogProb(est, meta, p), 'e', { threads: 0 }),
    ).rejects.toThrow('threads must be a positive integer, got 0');
  });
});
