import { describe, expect, it } from 'vitest';
import { c2st, checkC2st } from '../../main/diagnostics/c2st.ts';
import { Rng } from '../../main/sbi/rng.ts';

function gaussian(n: number, dim: number, shift: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return r.fillNormal(new Float32Array(n * dim)).map((v, i) => (i % dim === 0 ? v + shift : v));
}

describe('c2st', () => {
  it('scores samples of the same distribution near 0.5', async () => {
    const { accuracy, foldAccuracies } = await c2st(gaussian(600, 2, 0, 1), gaussian(600, 2, 0, 2), 2, {
      maxEpochs: 40,
    });
    expect(foldAccuracies).toHaveLength(5);
    expect(accuracy).toBeGreaterThan(0.44);
    expect(accuracy).toBeLessThan(0.56);
  });

  it('scores a shifted distribution near the Bayes-optimal accuracy', async () => {
    // Shift 1.5 in one coordinate: best possible accuracy Phi(0.75) = 0.773.
    const { accuracy } = await c2st(gaussian(600, 2, 0, 3), gaussian(600, 2, 1.5, 4), 2, { maxEpochs: 40 });
    expect(accuracy).toBeGreaterThan(0.72);
    expect(accuracy).toBeLessThan(0.81);
  });

  it('is invariant to the scale of the data (z-scored by the reference)', async () => {
    const a = gaussian(600, 2, 0, 5);
    const b = gaussian(600, 2, 1.5, 6);
    const r1 = await c2st(a, b, 2, { maxEpochs: 30 });
    const r2 = await c2st(
      a.map((v) => v * 1000 + 5),
      b.map((v) => v * 1000 + 5),
      2,
      { maxEpochs: 30 },
    );
    expect(Math.abs(r1.accuracy - r2.accuracy)).toBeLessThan(0.03);
  });

  it('rejects mismatched widths and non-finite samples', async () => {
    await expect(c2st(new Float32Array(5), new Float32Array(4), 2)).rejects.toThrow(/reference has 5 values/);
    await expect(c2st(new Float32Array(20), new Float32Array([NaN, 0]), 2)).rejects.toThrow(
      /estimate samples contain NaN/,
    );
  });

  it('judges a score against a threshold', () => {
    expect(checkC2st(0.55, 0.58).pass).toBe(true);
    expect(checkC2st(0.61, 0.58)).toEqual({
      pass: false,
      message: 'C2ST accuracy 0.610 > 0.58 (0.5 = indistinguishable)',
    });
  });
});
