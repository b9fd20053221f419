import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';

function mixedSet() {
  const g = new G.Graph();
  const params = new G.ParameterSet(g, 'params', 'float64');
  const shapes: [string, number[]][] = [
    ['a', [3]],
    ['W1', [2, 4]],
    ['c', [4]],
    ['W2', [5, 4]],
    ['K', [2, 3, 4]],
    ['W3', [4, 2]],
    ['unused', [3, 2]],
    ['d', [1]],
  ];
  const views = Object.fromEntries(shapes.map(([n, s]) => [n, params.add(n, s, G.normalInit(1))]));
  return { g, params, views };
}

describe('flat parameter buffer', () => {
  it('groups parameters into banks (1-D, then by last dimension) in order of first appearance', () => {
    const { params } = mixedSet();
    expect(params.banks.map((b) => [b.width, b.entries.map((e) => e.name)])).toEqual([
      [0, ['a', 'c', 'd']],
      [4, ['W1', 'W2', 'K']],
      [2, ['W3', 'unused']],
    ]);
    expect(params.size).toBe(3 + 4 + 1 + 8 + 20 + 24 + 8 + 6);
    expect(params.get('W1').offset).toBe(8);
    expect(params.banks.map((b) => b.offset)).toEqual([0, 8, 60]);
  });

  it('views read the right values and the flat gradient places each view gradient at its offset', async () => {
    const { g, params, views } = mixedSet();
    const rng = new G.Rng(3);
    const used = Object.entries(views).filter(([n]) => n !== 'unused');
    let loss: G.Tensor | null = null;
    for (const [, v] of used) {
      const w = g.constant(rng.fillUniform(new Float64Array(v.size), -1, 1), v.shape, 'float64');
      const term = G.sum(G.mul(G.tanh(v), w));
      loss = loss ? G.add(loss, term) : term;
    }
    const grads = G.grad(loss!, [params.flat, ...used.map(([, v]) => v)]);
    const outputs: Record<string, G.Tensor> = { flat: grads[0] };
    used.forEach(([n, v], i) => {
      outputs[`v_${n}`] = v;
      outputs[`g_${n}`] = grads[i + 1];
    });
    const s = await G.Session.create(G.emitModel({ outputs }));
    const values = params.initialValues64(5);
    const r = await s.run({ params: values });
    const flat = r.flat.data as Float64Array;
    expect(flat.length).toBe(params.size);
    for (const [n] of used) {
      expect(Array.from(r[`v_${n}`].data as Float64Array)).toEqual(Array.from(params.read(values, n)));
      const e = params.get(n);
      expect(Array.from(flat.slice(e.offset, e.offset + e.size))).toEqual(
        Array.from(r[`g_${n}`].data as Float64Array),
      );
    }
    const u = params.get('unused');
    expect(Array.from(flat.slice(u.offset, u.offset + u.size))).toEqual(new Array(6).fill(0));
    await s.release();
  });

  it('initial values are seeded per parameter in the order parameters were added', () => {
    const { params } = mixedSet();
    const v = params.initialValues(11);
    const rng = new G.Rng(11);
    for (const e of [...params.entries].sort((p, q) => p.index - q.index)) {
      const want = new Float32Array(e.size);
      G.normalInit(1)(want, rng);
      expect(Array.from(params.read(v, e.name))).toEqual(Array.from(want));
    }
    params.write(v, 'W3', new Array(8).fill(2));
    expect(Array.from(params.read(v, 'W3'))).toEqual(new Array(8).fill(2));
    expect(() => params.write(v, 'W3', [1])).toThrow('parameter W3: expected 8 values for [4,2], got 1');
    expect(() => params.read(new Float32Array(2), 'W3')).toThrow(/expected 74 values, got 2/);
    expect(() => params.add('W3', [2], G.constantInit())).toThrow('parameter "W3" already exists');
  });
});
