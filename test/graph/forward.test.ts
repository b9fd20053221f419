import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';

type Arr = Float32Array | Float64Array;

async function run(
  outputs: Record<string, G.Tensor>,
  feeds: Record<string, G.Feed>,
): Promise<Record<string, number[]>> {
  const s = await G.Session.create(G.emitModel({ outputs }));
  const r = await s.run(feeds);
  await s.release();
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, Array.from(t.data as Arr, Number)]));
}

function expectClose(got: number[], want: number[], tol = 1e-12): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]), `element ${i}: got ${got[i]}, want ${want[i]}`).toBeLessThanOrEqual(
      tol * (1 + Math.abs(want[i])),
    );
  }
}

const strides = (s: number[]): number[] => s.map((_, i) => s.slice(i + 1).reduce((p, d) => p * d, 1));

/** numpy broadcasting reference for a binary function. */
function bcast(a: number[], as: number[], b: number[], bs: number[], f: (x: number, y: number) => number) {
  const n = Math.max(as.length, bs.length);
  const A = [...Array(n - as.length).fill(1), ...as];
  const B = [...Array(n - bs.length).fill(1), ...bs];
  const out = A.map((d, i) => Math.max(d, B[i]));
  const [sa, sb, so] = [strides(A), strides(B), strides(out)];
  const size = out.reduce((p, d) => p * d, 1);
  const r: number[] = [];
  for (let k = 0; k < size; k++) {
    let ia = 0,
      ib = 0;
    for (let d = 0; d < n; d++) {
      const c = Math.floor(k / so[d]) % out[d];
      ia += (A[d] === 1 ? 0 : c) * sa[d];
      ib += (B[d] === 1 ? 0 : c) * sb[d];
    }
    r.push(f(a[ia], b[ib]));
  }
  return r;
}

const rng = new G.Rng(123);
const rand = (n: number, lo = -2, hi = 2): number[] =>
  Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());

describe('forward values match straightforward JavaScript references', () => {
  it('unary elementwise ops', async () => {
    const g = new G.Graph();
    const x = g.input('x', [2, 5], 'float64');
    const xs = rand(10, 0.1, 3);
    const ops: [string, (t: G.Tensor) => G.Tensor, (v: number) => number][] = [
      ['neg', G.neg, (v) => -v],
      ['exp', G.exp, Math.exp],
      ['log', G.log, Math.log],
      ['tanh', G.tanh, Math.tanh],
      ['relu', (t) => G.relu(G.sub(t, 1)), (v) => Math.max(v - 1, 0)],
      ['sigmoid', G.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
      ['abs', (t) => G.abs(G.sub(t, 1)), (v) => Math.abs(v - 1)],
      ['sign', (t) => G.sign(G.sub(t, 1)), (v) => Math.sign(v - 1)],
      ['sqrt', G.sqrt, Math.sqrt],
      ['reciprocal', G.reciprocal, (v) => 1 / v],
      ['softplus', (t) => G.softplus(G.sub(t, 1.5)), (v) => Math.log1p(Math.exp(v - 1.5))],
      ['softplusFarBelow0', (t) => G.softplus(G.mul(t, -30)), (v) => Math.log1p(Math.exp(-30 * v))],
      ['softplusAbove80', (t) => G.softplus(G.mul(t, 40)), (v) => Math.log1p(Math.exp(40 * v))],
      ['elu', (t) => G.elu(G.sub(t, 1.5), 0.5), (v) => (v > 1.5 ? v - 1.5 : 0.5 * Math.expm1(v - 1.5))],
      [
        'eluComposite',
        (t) => G.eluComposite(G.sub(t, 1.5), 0.5),
        (v) => (v > 1.5 ? v - 1.5 : 0.5 * Math.expm1(v - 1.5)),
      ],
      ['square', G.square, (v) => v * v],
      ['clip', (t) => G.clip(t, 0.5, 2), (v) => Math.min(Math.max(v, 0.5), 2)],
      ['logSigmoid', (t) => G.logSigmoid(G.sub(t, 1)), (v) => -Math.log1p(Math.exp(1 - v))],
    ];
    const res = await run(Object.fromEntries(ops.map(([n, f]) => [n, f(x)])), { x: Float64Array.from(xs) });
    for (const [n, , ref] of ops) expectClose(res[n], xs.map(ref), 1e-12);
    expect(() => G.clip(x, 2, 0.5)).toThrow(
      'clip: the bounds must be numbers with lo <= hi, got lo 2 and hi 0.5',
    );
    expect(() => G.clip(x, NaN, 1)).toThrow('got lo NaN and hi 1');
  });

  it('binary ops broadcast like numpy', async () => {
    const g = new G.Graph();
    const a = g.input('a', [2, 1, 3], 'float64');
    const b = g.input('b', [4, 1], 'float64');
    const av = rand(6, 0.5, 2);
    const bv = rand(4, 0.5, 2);
    const ops: [string, (p: G.Tensor, q: G.Tensor) => G.Tensor, (x: number, y: number) => number][] = [
      ['add', G.add, (x, y) => x + y],
      ['sub', G.sub, (x, y) => x - y],
      ['mul', G.mul, (x, y) => x * y],
      ['div', G.div, (x, y) => x / y],
      ['pow', G.pow, (x, y) => x ** y],
      ['min', G.minimum, Math.min],
      ['max', G.maximum, Math.max],
      ['gt', (p, q) => G.cast(G.greater(p, q), 'float64'), (x, y) => +(x > y)],
      ['where', (p, q) => G.where(G.less(p, q), p, q), (x, y) => (x < y ? x : y)],
    ];
    const res = await run(Object.fromEntries(ops.map(([n, f]) => [n, f(a, b)])), {
      a: Float64Array.from(av),
      b: Float64Array.from(bv),
    });
    for (const [n, , ref] of ops) expectClose(res[n], bcast(av, [2, 1, 3], bv, [4, 1], ref), 1e-12);
  });

  it('batched matmul with broadcasting', async () => {
    const g = new G.Graph();
    const a = g.input('a', [2, 3, 4], 'float64');
    const b = g.input('b', [4, 5], 'float64');
    const av = rand(24);
    const bv = rand(20);
    const want: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 5; j++) {
          let s = 0;
          for (let k = 0; k < 4; k++) s += av[n * 12 + i * 4 + k] * bv[k * 5 + j];
          want.push(s);
        }
    const res = await run({ y: G.matmul(a, b) }, { a: Float64Array.from(av), b: Float64Array.from(bv) });
    expectClose(res.y, want);
  });

  it('reductions, softmax family and cumsum', async () => {
    const g = new G.Graph();
    const x = g.input('x', [3, 4], 'float64');
    const xv = rand(12);
    const rows = [0, 1, 2].map((r) => xv.slice(4 * r, 4 * r + 4));
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const res = await run(
      {
        sum: G.sum(x, 1),
        mean: G.mean(x, 0),
        max: G.max(x, 1),
        all: G.sum(x),
        sm: G.softmax(x),
        lsm: G.logSoftmax(x),
        lse: G.logSumExp(x, 1),
        cs: G.cumsum(x, 1),
        cse: G.cumsum(x, 1, { exclusive: true, reverse: true }),
      },
      { x: Float64Array.from(xv) },
    );
    expectClose(
      res.sum,
      rows.map((r) => r.reduce((s, v) => s + v, 0)),
    );
    expectClose(
      res.mean,
      [0, 1, 2, 3].map((c) => (xv[c] + xv[4 + c] + xv[8 + c]) / 3),
    );
    expectClose(
      res.max,
      rows.map((r) => Math.max(...r)),
    );
    expectClose(res.all, [xv.reduce((s, v) => s + v, 0)]);
    expectClose(
      res.sm,
      rows.flatMap((r) => r.map((v) => Math.exp(v - lse(r)))),
    );
    expectClose(
      res.lsm,
      rows.flatMap((r) => r.map((v) => v - lse(r))),
    );
    expectClose(res.lse, rows.map(lse));
    expectClose(
      res.cs,
      rows.flatMap((r) => r.map((_, i) => r.slice(0, i + 1).reduce((s, v) => s + v, 0))),
    );
    expectClose(
      res.cse,
      rows.flatMap((r) => r.map((_, i) => r.slice(i + 1).reduce((s, v) => s + v, 0))),
    );
  });

  it('conv1d and pooling', async () => {
    const g = new G.Graph();
    const [N, C, L, O, K, s, p, d] = [2, 3, 10, 2, 3, 2, 1, 2];
    const x = g.input('x', [N, C, L]);
    const w = g.input('w', [O, C, K]);
    const b = g.input('b', [O]);
    const xv = rand(N * C * L).map(Math.fround);
    const wv = rand(O * C * K).map(Math.fround);
    const bv = rand(O).map(Math.fround);
    const at = (n: number, c: number, i: number) => (i < 0 || i >= L ? 0 : xv[(n * C + c) * L + i]);
    const lout = Math.floor((L + 2 * p - d * (K - 1) - 1) / s) + 1;
    const conv: number[] = [];
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let t = 0; t < lout; t++) {
          let acc = bv[o];
          for (let c = 0; c < C; c++)
            for (let k = 0; k < K; k++) acc += wv[(o * C + c) * K + k] * at(n, c, t * s + k * d - p);
          conv.push(acc);
        }
    const pool = (kind: 'avg' | 'max', k: number, st: number, pd: number) => {
      const lo2 = Math.floor((L + 2 * pd - k) / st) + 1;
      const out: number[] = [];
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++)
          for (let t = 0; t < lo2; t++) {
            const vals: number[] = [];
            for (let j = 0; j < k; j++) {
              const i = t * st + j - pd;
              if (i >= 0 && i < L) vals.push(at(n, c, i));
            }
            out.push(kind === 'max' ? Math.max(...vals) : vals.reduce((q, v) => q + v, 0) / vals.length);
          }
      return out;
    };
    const res = await run(
      {
        conv: G.conv1d(x, w, b, { stride: s, pad: p, dilation: d }),
        avg: G.avgPool1d(x, 3, { stride: 2, pad: 1 }),
        max: G.maxPool1d(x, 2, { stride: 2 }),
      },
      { x: Float32Array.from(xv), w: Float32Array.from(wv), b: Float32Array.from(bv) },
    );
    expectClose(res.conv, conv, 1e-5);
    expectClose(res.avg, pool('avg', 3, 2, 1), 1e-6);
    expectClose(res.max, pool('max', 2, 2, 0), 0);
  });

  it('shape and indexing ops', async () => {
    const g = new G.Graph();
    const x = g.input('x', [2, 3], 'float64');
    const xv = [1, 2, 3, 4, 5, 6];
    const idx = g.constant([2, 0], [2], 'int64');
    const idxE = g.constant([1, 1, 0, 2, 0, 0], [2, 3], 'int64');
    const [s0, s1] = G.split(x, 1, [1, 2]);
    const res = await run(
      {
        t: G.transpose(x),
        r: G.reshape(x, [3, 2]),
        c: G.concat([x, x], 0),
        sl: G.slice(x, 1, 1, 3),
        s0,
        s1,
        ga: G.gather(x, idx, 1),
        ge: G.gatherElements(x, idxE, 1),
        // int32 indices, here cast from float (as the NSF sampler computes its bin indices)
        ge32: G.gatherElements(x, G.cast(g.constant([1.9, 1, 0, 2, 0.2, 0], [2, 3]), 'int32'), 1),
        e: G.expand(G.slice(x, 0, 0, 1), [2, 2, 3]),
        u: G.unsqueeze(x, [1]),
        p: G.pad(x, [0, 1, 1, 0]),
      },
      { x: Float64Array.from(xv) },
    );
    expect(res.t).toEqual([1, 4, 2, 5, 3, 6]);
    expect(res.r).toEqual(xv);
    expect(res.c).toEqual([...xv, ...xv]);
    expect(res.sl).toEqual([2, 3, 5, 6]);
    expect(res.s0).toEqual([1, 4]);
    expect(res.s1).toEqual([2, 3, 5, 6]);
    expect(res.ga).toEqual([3, 1, 6, 4]);
    expect(res.ge).toEqual([2, 2, 1, 6, 4, 4]);
    expect(res.ge32).toEqual([2, 2, 1, 6, 4, 4]);
    // Gather's gradient is a ScatterND, which takes int64 indices only.
    expect(() => G.gather(x, g.constant([2, 0], [2], 'int32'), 1)).toThrow(
      'Gather: indices must be int64, got int32',
    );
    expect(res.e).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(res.u).toEqual(xv);
    expect(res.p).toEqual([0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0]);
  });

  it('reshape keeps input dimensions marked 0, dynamic ones included', async () => {
    const g = new G.Graph();
    const x = g.input('x', [-1, 4, -1], 'float64');
    const y = G.reshape(x, [0, 2, 2, -1]);
    expect(y.shape).toEqual([-1, 2, 2, -1]);
    const s = await G.Session.create(G.emitModel({ outputs: { y } }));
    const xv = Float64Array.from({ length: 2 * 4 * 3 }, (_, i) => i);
    const r = await s.run({ x: { data: xv, dims: [2, 4, 3] } });
    await s.release();
    expect(r.y.dims).toEqual([2, 2, 2, 3]);
    expect(Array.from(r.y.data as Float64Array)).toEqual(Array.from(xv));
    expect(G.reshape(g.input('s', [2, 3, 4]), [0, -1]).shape).toEqual([2, 12]);
    expect(() => G.reshape(x, [0, 0, 0, 0])).toThrow('copies axis 3 of [N,4,N], which has none');
  });

  it('squeezing the axes an unsqueeze added gives its input back, other squeezes are nodes', async () => {
    const g = new G.Graph();
    const x = g.input('x', [-1, 3], 'float64');
    expect(G.squeeze(G.unsqueeze(x, [1]), [1])).toBe(x);
    expect(G.squeeze(G.unsqueeze(x, [0, -1]), [3, 0])).toBe(x);
    const partial = G.squeeze(G.unsqueeze(x, [0, 2]), [2]);
    expect(partial.node.op).toBe('Squeeze');
    expect(partial.shape).toEqual([1, -1, 3]);
    const s = await G.Session.create(G.emitModel({ outputs: { y: partial } }));
    const r = await s.run({ x: { data: Float64Array.of(1, 2, 3, 4, 5, 6), dims: [2, 3] } });
    await s.release();
    expect(r.y.dims).toEqual([1, 2, 3]);
    expect(Array.from(r.y.data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('runs one graph with a dynamic batch dimension at several batch sizes, gradients included', async () => {
    const g = new G.Graph();
    const params = new G.ParameterSet(g, 'params', 'float64');
    const x = g.input('x', [-1, 3], 'float64');
    const h = G.linear(params, 'l', x, 2);
    const loss = G.mean(G.square(G.logSumExp(h, 1)));
    const [gp] = G.grad(loss, [params.flat]);
    const s = await G.Session.create(G.emitModel({ outputs: { h, loss, gp } }));
    const pv = params.initialValues64(1);
    for (const n of [1, 5, 7]) {
      const xv = Float64Array.from(rand(3 * n));
      const r = await s.run({ params: pv, x: xv });
      expect(r.h.dims).toEqual([n, 2]);
      // Reference by the same graph built with a static batch of n.
      const g2 = new G.Graph();
      const p2 = new G.ParameterSet(g2, 'params', 'float64');
      const x2 = g2.input('x', [n, 3], 'float64');
      const l2 = G.mean(G.square(G.logSumExp(G.linear(p2, 'l', x2, 2), 1)));
      const ref = await run({ loss: l2, gp: G.grad(l2, [p2.flat])[0] }, { params: pv, x: xv });
      expectClose(Array.from(r.loss.data as Float64Array), ref.loss, 1e-12);
      expectClose(Array.from(r.gp.data as Float64Array), ref.gp, 1e-12);
    }
    await s.release();
  });
});
