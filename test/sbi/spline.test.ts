import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';
import { splineForward, splineInverse, splitSplineParams } from '../../main/sbi/flows/spline.ts';
import { Rng } from '../../main/sbi/rng.ts';

const K = 10;
const B = 3;
const N = 2000;

/** Values across [-B, B] and beyond it (identity tails), and raw parameters of strongly bent splines. */
function data() {
  const r = new Rng(4);
  const v = Float64Array.from({ length: N }, (_, i) => -1.2 * B + (2.4 * B * (i + 0.5)) / N);
  const raw = Float64Array.from({ length: N * (3 * K - 1) }, () => 2 * r.normal());
  return { v, raw };
}

describe('rational-quadratic spline inverse', () => {
  it.each([-1, -2] as const)('inverts the forward spline with the bins on axis %i', async (ax) => {
    const { v, raw } = data();
    const g = new G.Graph();
    const vIn = g.input('v', [N], 'float64');
    const rawIn = g.input('raw', [N, 3 * K - 1], 'float64'); // last axis: the forward's layout
    const { y } = splineForward(vIn, rawIn, K, B);
    // Axis -2 is the samplers' feature-major layout: bins first, samples last.
    const back =
      ax === -1
        ? splineInverse(y, splitSplineParams(rawIn, K, -1), K, B, -1)
        : G.squeeze(
            splineInverse(
              G.unsqueeze(y, [0]),
              splitSplineParams(G.unsqueeze(G.transpose(rawIn, [1, 0]), [0]), K, -2),
              K,
              B,
              -2,
            ),
            [0],
          );
    const s = await G.Session.create(G.emitModel({ outputs: { y, back } }));
    const out = await s.run({ v, raw });
    await s.release();
    const yv = out.y.data as Float64Array;
    const bv = out.back.data as Float64Array;
    let bent = 0;
    for (let i = 0; i < N; i++) {
      expect(Math.abs(bv[i] - v[i]), `v = ${v[i]}`).toBeLessThan(1e-9);
      if (Math.abs(v[i]) > B)
        expect(yv[i]).toBe(v[i]); // identity tails
      else bent = Math.max(bent, Math.abs(yv[i] - v[i]));
    }
    expect(bent).toBeGreaterThan(0.3); // the splines are far from the identity
  });

  it('refuses a bin axis other than -1 or -2', () => {
    const g = new G.Graph();
    const raw = g.input('raw', [4, 3 * K - 1, 1, 1]);
    expect(() => splineInverse(g.input('y', [4, 1, 1]), splitSplineParams(raw, K, 1), K, B, 1)).toThrow(
      'splineInverse: bin axis must be -1 or -2, got 1',
    );
  });
});
