import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';

function mlp(batch: number) {
  const g = new G.Graph();
  const params = new G.ParameterSet(g);
  const x = g.input('x', [batch, 4]);
  const y = G.softmax(G.linear(params, 'l2', G.elu(G.linear(params, 'l1', x, 8)), 3));
  return { g, params, x, y };
}

describe('ONNX emission and loading', () => {
  it('pins the opset and writes inputs, outputs and metadata that read back', async () => {
    const { params, y } = mlp(-1);
    const model = G.emitModel({ outputs: { probs: y }, metadata: { estimator: 'mlp', prior_low: '[0,1]' } });
    const info = G.readModelInfo(model.bytes);
    expect(info.opset).toBe(G.ONNX_OPSET);
    expect(G.ONNX_OPSET).toBeGreaterThanOrEqual(17);
    expect(info.inputs).toEqual([
      { name: 'params', dtype: 'float32', shape: [params.size] },
      { name: 'x', dtype: 'float32', shape: [-1, 4] },
    ]);
    expect(info.outputs).toEqual([{ name: 'probs', dtype: 'float32', shape: [-1, 3] }]);
    expect(info.metadata).toEqual({ estimator: 'mlp', prior_low: '[0,1]' });
    const s = await G.Session.create(model.bytes);
    expect(s.inputs.map((i) => i.name)).toEqual(['params', 'x']);
    expect(s.metadata.estimator).toBe('mlp');
    await s.release();
  });

  it('exports an inference graph with the trained buffer as an initializer that reproduces the training graph', async () => {
    // Train a few steps on a static-batch graph, then export the same architecture with a dynamic batch.
    const train = mlp(16);
    const target = train.g.input('t', [16, 3]);
    const loss = G.mseLoss(train.y, target);
    const trainer = await G.Trainer.create(
      { loss, params: train.params },
      { initial: train.params.initialValues(4) },
    );
    const rng = new G.Rng(8);
    const xs = rng.fillNormal(new Float32Array(64));
    for (let i = 0; i < 5; i++) await trainer.step({ x: xs, t: rng.fillUniform(new Float32Array(48)) }, 0.01);
    const trained = trainer.parameters();
    const reference = await G.Session.create(G.emitModel({ outputs: { probs: train.y } }));
    const want = (await reference.run({ params: trained, x: xs })).probs.data as Float32Array;

    const inf = mlp(-1);
    const exported = G.emitModel({
      outputs: { probs: inf.y },
      bind: { params: trained },
      metadata: { kind: 'test' },
    });
    expect(G.readModelInfo(exported.bytes).inputs.map((i) => i.name)).toEqual(['x']);
    const s = await G.Session.create(exported.bytes);
    const got = (await s.run({ x: xs })).probs;
    expect(got.dims).toEqual([16, 3]);
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want));
    // Only standard-domain operators.
    expect(Object.keys(G.countOps(exported.bytes)).every((op) => /^[A-Z][A-Za-z]+$/.test(op))).toBe(true);
    await Promise.all([s.release(), reference.release(), trainer.release()]);
  });

  it('every op of the builder emits a graph onnxruntime loads (float32 and float64)', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const g = new G.Graph();
      const x = g.input('x', [2, 3, 6], dtype);
      const flat = G.reshape(x, [6, 6]);
      const outs: Record<string, G.Tensor> = {
        a: G.softplus(x),
        b: G.elu(x),
        c: G.logSumExp(x, 2),
        d: G.cumsum(x, 2),
        e: G.maxPool1d(x, 2),
        f: G.matmul(flat, flat),
        h: G.gather(x, g.constant([0, 0], [2], 'int64'), 2),
        i: G.clip(x, -1, 1),
      };
      if (dtype === 'float32') {
        outs.j = G.conv1d(x, g.constant(new Array(18).fill(0.1), [2, 3, 3], dtype));
        outs.k = G.avgPool1d(x, 2);
      }
      const s = await G.Session.create(G.emitModel({ outputs: outs }));
      const r = await s.run({
        x: dtype === 'float32' ? new Float32Array(36).fill(0.5) : new Float64Array(36).fill(0.5),
      });
      expect(Object.keys(r).sort()).toEqual(Object.keys(outs).sort());
      await s.release();
    }
  });

  it('emits the same tensor under two output names and an input as an output', async () => {
    const g = new G.Graph();
    const x = g.input('x', [2]);
    const y = G.mul(x, 3);
    const s = await G.Session.create(G.emitModel({ outputs: { y1: y, y2: y, echo: x } }));
    const r = await s.run({ x: Float32Array.of(1, 2) });
    expect(Array.from(r.y1.data as Float32Array)).toEqual([3, 6]);
    expect(Array.from(r.y2.data as Float32Array)).toEqual([3, 6]);
    expect(Array.from(r.echo.data as Float32Array)).toEqual([1, 2]);
    await s.release();
  });

  it('rejects invalid names, duplicate inputs, unknown bindings and corrupt model bytes with clear errors', async () => {
    const g = new G.Graph();
    const x = g.input('x', [2]);
    expect(() => g.input('x', [3])).toThrow('input "x" already exists');
    expect(() => g.input('bad name', [3])).toThrow(/input name "bad name" is invalid/);
    expect(() => G.emitModel({ outputs: { 'y y': x } })).toThrow(/output name "y y" is invalid/);
    expect(() => G.emitModel({ outputs: { y: G.neg(x) }, bind: { nope: [1] } })).toThrow(
      /bound input nope is not an input/,
    );
    expect(() => G.emitModel({ outputs: { y: G.neg(x) }, bind: { x: [1, 2, 3] } })).toThrow(
      /expects 2 values for \[2\], got 3/,
    );
    expect(() => G.readModelInfo(new Uint8Array([1, 2, 3, 250, 251]))).toThrow(/not an ONNX model/);
    await expect(G.Session.create(new TextEncoder().encode('hello, not onnx'))).rejects.toThrow(/ONNX/);
  });

  it('checks feeds against the signature: names, dtypes, shapes', async () => {
    const g = new G.Graph();
    const x = g.input('x', [-1, 3]);
    const k = g.input('k', [2], 'int64');
    const s = await G.Session.create(G.emitModel({ outputs: { y: G.gather(x, k, 0) } }));
    const ok = await s.run({ x: new Float32Array(9), k: BigInt64Array.of(0n, 2n) });
    expect(ok.y.dims).toEqual([2, 3]);
    await expect(s.run({ x: new Float32Array(9) })).rejects.toThrow('missing input k int64[2]');
    await expect(
      s.run({ x: new Float32Array(9), k: BigInt64Array.of(0n, 2n), z: new Float32Array(1) }),
    ).rejects.toThrow(/unknown input z; the model takes x, k/);
    await expect(s.run({ x: new Float32Array(10), k: BigInt64Array.of(0n, 2n) })).rejects.toThrow(
      /10 values do not fit shape \[N,3\]/,
    );
    await expect(
      s.run({ x: { data: new Float32Array(9), dims: [9, 1] }, k: BigInt64Array.of(0n, 2n) }),
    ).rejects.toThrow('input x: expected shape [N,3], got [9,1]');
    await expect(s.run({ x: new Float32Array(9), k: Float32Array.of(0, 2) })).rejects.toThrow(
      'input k: expected int64 data, got float32',
    );
    await s.release();
  });
});

describe('graph construction errors state expected and actual shapes', () => {
  const g = new G.Graph();
  const a = g.input('a', [2, 3]);
  const b = g.input('b', [4, 5]);
  it.each([
    ['broadcast', () => G.add(a, b), 'Add: shapes [2,3] and [4,5] do not broadcast (axis 0: 2 vs 4)'],
    [
      'matmul',
      () => G.matmul(a, b),
      'MatMul: inner dimensions differ: [2,3] x [4,5] (expected 3 rows in the right operand, got 4)',
    ],
    ['reshape', () => G.reshape(a, [4, 2]), 'Reshape: expected 6 elements for [2,3], target [4,2] has 8'],
    ['concat', () => G.concat([a, b], 0), 'Concat: input 1 has shape [4,5], expected [2,3] except on axis 0'],
    ['axis', () => G.sum(a, 2), 'ReduceSum: axis 2 is out of range for rank 2'],
    [
      'dtype',
      () => G.add(a, g.input('i', [2, 3], 'float64')),
      'Add: dtypes differ: expected float32 for both operands, got float64',
    ],
    [
      'conv',
      () => G.conv1d(g.input('x3', [1, 2, 5]), g.input('w3', [4, 3, 2])),
      'Conv: weight expects 3 input channels, x [1,2,5] has 2',
    ],
    ['constant', () => g.constant([1, 2], [3]), 'constant values: expected 3 values for shape [3], got 2'],
    [
      'grad of non-scalar',
      () => G.grad(a, [a]),
      'grad: output has shape [2,3]; pass a seed or reduce it to one element',
    ],
    ['split', () => G.split(a, 1, [1, 1]), 'Split: sizes [1,1] must be positive and sum to axis 1 length 3'],
    [
      'float64 convolution',
      () => G.conv1d(g.input('x64', [1, 2, 5], 'float64'), g.input('w64', [1, 2, 2], 'float64')),
      'Conv: onnxruntime runs Conv in float32 only, got a float64 input',
    ],
  ])('%s', (_name, f, msg) => {
    expect(f).toThrow(msg);
  });
});

describe('seeded random numbers and initializers', () => {
  it('the same seed gives the same stream and different seeds differ', () => {
    const a = new G.Rng(42);
    const b = new G.Rng(42);
    const c = new G.Rng(43);
    const sa = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(sa);
  });

  it('uniform and normal have the right first two moments', () => {
    const r = new G.Rng(1);
    const n = 200_000;
    const u = r.fillUniform(new Float64Array(n));
    const z = r.fillNormal(new Float64Array(n));
    const mean = (v: Float64Array) => v.reduce((s, x) => s + x, 0) / v.length;
    const varOf = (v: Float64Array) => mean(v.map((x) => x * x)) - mean(v) ** 2;
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(varOf(u) - 1 / 12)).toBeLessThan(0.002);
    expect(Math.abs(mean(z))).toBeLessThan(0.01);
    expect(Math.abs(varOf(z) - 1)).toBeLessThan(0.015);
    expect(u.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('shuffle is a seeded permutation', () => {
    const p = new G.Rng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).toEqual(new G.Rng(5).shuffle(Array.from({ length: 50 }, (_, i) => i)));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('linear layers use PyTorch bounds U(-1/sqrt(fanIn), 1/sqrt(fanIn)) and parameters are read back by name', () => {
    const g = new G.Graph();
    const params = new G.ParameterSet(g);
    G.linear(params, 'l', g.input('x', [1, 25]), 40);
    const values = params.initialValues(3);
    const w = params.read(values, 'l.weight');
    expect(w.length).toBe(1000);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.2);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.19);
    expect(params.get('l.bias').offset).toBe(1000);
    expect(Array.from(params.initialValues(3))).toEqual(Array.from(values));
  });

  it('a linear layer before a ReLU can start from He bounds U(-sqrt(6/fanIn), sqrt(6/fanIn))', () => {
    const g = new G.Graph();
    const params = new G.ParameterSet(g);
    G.linear(params, 'l', g.input('x', [1, 24]), 50, true, G.heUniform(24));
    const values = params.initialValues(5);
    const w = params.read(values, 'l.weight');
    const bound = Math.sqrt(6 / 24); // 0.5
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.98 * bound);
    // Variance of U(-b, b) is b^2 / 3 = 2 / fanIn (what keeps ReLU activations from shrinking).
    const variance = Array.from(w).reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan(0.9 * (2 / 24));
    expect(variance).toBeLessThan(1.1 * (2 / 24));
    // The bias keeps PyTorch's default bound 1/sqrt(fanIn).
    expect(Math.max(...params.read(values, 'l.bias').map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(24));
  });
});
