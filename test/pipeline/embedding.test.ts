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

  // From 400 points on, the first layer's kernel and stride grow with the input (twice as long at 400).
  it.each([
    [60, [7, 5, 5], [2, 2, 2]],
    [400, [14, 5, 5], [4, 2, 2]],
  ])(
    'computes strided convolutions, flatten and dense layers as written out in plain loops (%i points)',
    async (L, kernels, strides) => {
      const [c1, c2, hidden, outDim] = [3, 4, 5, 2];
      const emb = convEmbedding(L, { channels1: c1, channels2: c2, hidden, outDim });
      expect(emb.description).toContain(`k${kernels.join('/')} s${strides.join('/')}`);
      const g = new G.Graph();
      const params = new G.ParameterSet(g);
      const x = g.input('x', [-1, L]);
      const y = emb.build(params, x);
      const session = await G.Session.create(G.emitModel({ outputs: { y } }));
      const rng = new Rng(9);
      const pv = Float32Array.from({ length: params.size }, () => rng.normal() * 0.5);
      const B = 3;
      const xv = Float32Array.from({ length: B * L }, () => rng.normal());
      const got = (await session.run({ [params.name]: pv, x: { data: xv, dims: [B, L] } })).y
        .data as Float32Array;
      await session.release();

      const P = (name: string) => {
        const e = params.get(name);
        return Array.from(pv.subarray(e.offset, e.offset + e.size));
      };
      const chans = [1, c1, c2, c2];
      for (let b = 0; b < B; b++) {
        let h: number[][] = [Array.from(xv.subarray(b * L, (b + 1) * L))]; // [C][T]
        kernels.forEach((K, i) => {
          const w = P(`summary.conv${i}.weight`); // [O, C, K]
          const bias = P(`summary.conv${i}.bias`);
          const C = chans[i];
          const S = strides[i];
          const lout = Math.floor((h[0].length - K) / S) + 1;
          h = Array.from({ length: chans[i + 1] }, (_, o) =>
            Array.from({ length: lout }, (_, t) => {
              let s = bias[o];
              for (let c = 0; c < C; c++)
                for (let k = 0; k < K; k++) s += w[(o * C + c) * K + k] * h[c][t * S + k];
              return Math.max(s, 0);
            }),
          );
        });
        const flat = h.flat(); // channel by channel
        const wd = P('summary.dense.weight'); // [F, hidden]
        const bd = P('summary.dense.bias');
        const hid = bd.map((v, j) =>
          Math.max(
            flat.reduce((s, f, i) => s + f * wd[i * hidden + j], v),
            0,
          ),
        );
        const wo = P('summary.out.weight');
        const bo = P('summary.out.bias');
        for (let m = 0; m < outDim; m++) {
          const want = hid.reduce((s, v, j) => s + v * wo[j * outDim + m], bo[m]);
          expect(Math.abs(got[b * outDim + m] - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
        }
      }
    },
  );

  it('refuses inputs too short for its convolutions', () => {
    expect(() => convEmbedding(20)).toThrow(/too short/);
  });
});
