/**
 * Bias gradients over a batch axis are a product with a row of ones (`ones:<factor>:<input>` for a dynamic
 * batch, fed by Session) when the rows' input is provable (rows.ts), else a ReduceSum. These tests
 * hold both against finite differences and check which one the graph uses.
 */
import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';

type Build = (g: G.Graph, x: G.Tensor, b: G.Tensor) => G.Tensor;

/** Analytic d loss / d b against central differences, for x of `rows` rows (float64). */
async function checkBiasGradient(build: Build, rows: number[], xShape: number[] = [-1, 3]) {
  const g = new G.Graph();
  const x = g.input('x', xShape, 'float64');
  const b = g.input('b', [3], 'float64');
  const loss = build(g, x, b);
  const [gb] = G.grad(loss, [b]);
  const full = await G.Session.create(G.emitModel({ outputs: { gb } }));
  const lossOnly = await G.Session.create(G.emitModel({ outputs: { loss } }));
  const rng = new G.Rng(3);
  for (const n of rows) {
    const size = (n * xShape.slice(1).reduce((p, d) => p * d, 1)) | 0;
    const xv = { data: rng.fillNormal(new Float64Array(size)), dims: [n, ...xShape.slice(1)] };
    const bv = rng.fillNormal(new Float64Array(3));
    const analytic = (await full.run({ x: xv, b: bv })).gb.data as Float64Array;
    for (let j = 0; j < 3; j++) {
      const at = async (d: number) => {
        const bj = bv.slice();
        bj[j] += d;
        return ((await lossOnly.run({ x: xv, b: bj })).loss.data as Float64Array)[0];
      };
      const numeric = ((await at(1e-6)) - (await at(-1e-6))) / 2e-6;
      expect(Math.abs(analytic[j] - numeric)).toBeLessThan(1e-6 * (1 + Math.abs(numeric)));
    }
  }
  const inputs = full.inputs.map((i) => i.name);
  await full.release();
  await lossOnly.release();
  return { op: gb.node.op, inputs };
}

describe('batch sums of bias gradients', () => {
  it('are a product with ones:1:x for rows that come from input x, fed by the session', async () => {
    const w = (g: G.Graph) => g.constant([0.5, -1.5, 2], [3], 'float64');
    const r = await checkBiasGradient((g, x, b) => G.sum(G.mul(G.tanh(G.add(x, b)), w(g))), [1, 5, 17]);
    expect(r.op).toBe('MatMul');
    expect(r.inputs).toContain('ones:1:x');
  });

  it('follow the rows through products, transposes and reshapes that keep them', async () => {
    const r = await checkBiasGradient(
      (g, x, b) => {
        const w = g.constant([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 6], 'float64');
        const h = G.matmul(G.reshape(x, [-1, 2]), w); // [B, 6]
        const t = G.transpose(G.reshape(h, [-1, 2, 3]), [0, 2, 1]); // [B, 3, 2]
        return G.sum(G.tanh(G.add(G.sum(t, [-1]), b)));
      },
      [4],
      [-1, 2],
    );
    expect(r.op).toBe('MatMul');
  });

  it('follow a reshape that folds another axis into the rows, with a whole factor', async () => {
    // x [B, 6] viewed as [2B, 3] (a convolution's positions as rows): ones twice as long as x.
    const r = await checkBiasGradient(
      (_g, x, b) => G.sum(G.tanh(G.add(G.reshape(x, [-1, 3]), b))),
      [1, 7],
      [-1, 6],
    );
    expect(r.op).toBe('MatMul');
    expect(r.inputs).toContain('ones:2:x');
  });

  it('fall back to a ReduceSum when a reshape divides the rows', async () => {
    // x [B, 3] viewed as [B / 2, 6] then [B / 2, 2, 3]: no whole factor of B.
    const r = await checkBiasGradient(
      (_g, x, b) => G.sum(G.tanh(G.add(G.sum(G.reshape(x, [-1, 2, 3]), [1]), b))),
      [2, 8],
      [-1, 3],
    );
    expect(r.op).toBe('ReduceSum');
    expect(r.inputs.some((n) => n.startsWith(G.ONES_PREFIX))).toBe(false);
  });

  it('fall back to a ReduceSum when two inputs meet whose rows may differ', async () => {
    const g = new G.Graph();
    const x = g.input('x', [-1, 3], 'float64');
    const y = g.input('y', [-1, 3], 'float64');
    const b = g.input('b', [3], 'float64');
    const [gb] = G.grad(G.sum(G.mul(G.add(x, b), y)), [b]);
    expect(gb.node.op).toBe('ReduceSum');
    const s = await G.Session.create(G.emitModel({ outputs: { gb } }));
    // y has one row and broadcasts over x's four: the sum runs over the four.
    const out = await s.run({
      x: { data: new Float64Array(12).fill(1), dims: [4, 3] },
      y: { data: Float64Array.of(1, 2, 3), dims: [1, 3] },
      b: new Float64Array(3),
    });
    expect(Array.from(out.gb.data as Float64Array)).toEqual([4, 8, 12]);
    await s.release();
  });

  it('share one row of ones between inputs declared to have the same rows', async () => {
    const g = new G.Graph();
    const x = g.input('x', [-1, 3], 'float64');
    const y = g.input('y', [-1, 3], 'float64');
    g.sameRows(x, y);
    const b = g.input('b', [3], 'float64');
    const [gb] = G.grad(G.sum(G.mul(G.add(x, b), y)), [b]);
    expect(gb.node.op).toBe('MatMul');
    const s = await G.Session.create(G.emitModel({ outputs: { gb } }));
    expect(s.inputs.map((i) => i.name).filter((n) => n.startsWith(G.ONES_PREFIX))).toEqual(['ones:1:x']);
    const out = await s.run({
      x: { data: new Float64Array(6).fill(1), dims: [2, 3] },
      y: { data: Float64Array.of(1, 2, 3, 4, 5, 6), dims: [2, 3] },
      b: new Float64Array(3),
    });
    expect(Array.from(out.gb.data as Float64Array)).toEqual([5, 7, 9]);
    // The raw path adds the ones to a copy of the caller's feeds.
    const raw = {
      x: s.toTensor('x', { data: new Float64Array(3).fill(2), dims: [1, 3] }),
      y: s.toTensor('y', { data: Float64Array.of(1, 1, 1), dims: [1, 3] }),
      b: s.toTensor('b', new Float64Array(3)),
    };
    expect(Array.from((await s.runRaw(raw)).gb.data as Float64Array)).toEqual([1, 1, 1]);
    expect(Object.keys(raw)).toEqual(['x', 'y', 'b']);
    await s.release();
    expect(() => g.sameRows(b)).toThrow(/dynamic leading axis/);
  });

  it('use a constant row of ones for a static batch (no extra input)', async () => {
    const g = new G.Graph();
    const x = g.input('x', [4, 2], 'float64');
    const b = g.input('b', [2], 'float64');
    const [gb] = G.grad(G.sum(G.mul(G.add(x, b), G.add(x, b))), [b]);
    const s = await G.Session.create(G.emitModel({ outputs: { gb } }));
    expect(s.inputs.map((i) => i.name)).toEqual(['x', 'b']);
    const out = (await s.run({ x: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8), b: Float64Array.of(0.5, -1) })).gb
      .data as Float64Array;
    // d/db sum((x + b)^2) = 2 * column sums of (x + b)
    expect(Array.from(out)).toEqual([2 * (1 + 3 + 5 + 7 + 4 * 0.5), 2 * (2 + 4 + 6 + 8 - 4)]);
    await s.release();
  });

  it('say so when asked for a second derivative through a bias gradient', () => {
    const g = new G.Graph();
    const x = g.input('x', [-1, 3], 'float64');
    const b = g.input('b', [3], 'float64');
    const [gb] = G.grad(G.sum(G.tanh(G.add(x, b))), [b]);
    expect(() => G.grad(G.sum(gb), [x])).toThrow(/second derivatives through bias gradients/);
  });
});
