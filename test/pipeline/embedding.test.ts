import { describe, expect, it } from 'vitest';
import { buildLossGraph, createEstimator, initialParameters } from '../../main/sbi/estimator.ts';
import { convEmbedding } from '../../main/pipeline/embedding.ts';
import * as G from '../../main/graph/index.ts';
import { Rng } from '../../main/sbi/rng.ts';

describe('convolutional learned summary', () => {
  it('trains jointly with a density estimator: the loss falls on a trace-shaped task', async () => {
    // theta = frequency of a noisy sinusoid of 100 points; the embedding must extract it.
    const L = 100;
    const B = 128;
    const rng = new Rng(5);
    const batch = () => {
      const theta = new Float32Array(B);
      const x = new Float32Array(B * L);
      for (let i = 0; i < B; i++) {
        theta[i] = rng.uniform();
        for (let k = 0; k < L; k++) x[i * L + k] = Math.sin((0.1 + 0.4 * theta[i]) * k) + 0.1 * rng.normal();
      }
      return { theta: { data: theta, dims: [B, 1] }, x: { data: x, dims: [B, L] } };
    };
    const est = createEstimator({
      kind: 'mdn',
      thetaDim: 1,
      xDim: L,
      numComponents: 2,
      embedding: convEmbedding(L, { outDim: 4 }),
    });
    const z = {
      theta: { mean: [0.5], std: [0.29] },
      x: { mean: new Array(L).fill(0), std: new Array(L).fill(0.7) },
    };
    const { loss, params } = buildLossGraph(est, z);
    expect(params.entries.some((e) => e.name === 'summary.conv0.weight')).toBe(true);
    const trainer = await G.Trainer.create({ loss, params }, { initial: initialParameters(est, z) });
    const test = batch();
    const before = await trainer.evaluate(test);
    for (let s = 0; s < 150; s++) await trainer.step(batch(), 3e-3);
    const after = await trainer.evaluate(test);
    // Prior N.L.L. of U(0,1) in z-units is about 0; a useful summary pushes it well below.
    expect(after).toBeLessThan(before - 0.5);
    expect(after).toBeLessThan(-0.3);
    await trainer.release();
  });

  it('refuses inputs too short for its convolutions', () => {
    expect(() => convEmbedding(20)).toThrow(/too short/);
  });
});
