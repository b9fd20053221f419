import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';

/** y = tanh(x W) for x [-1, 3] and a fixed W [3, 2]; z = sum of x over its rows. */
function model(): Uint8Array {
  const g = new G.Graph();
  const x = g.input('x', [-1, 3]);
  const w = g.constant([0.5, -1, 2, 0.25, -0.75, 1.5], [3, 2]);
  return G.emitModel({ outputs: { y: G.tanh(G.matmul(x, w)), z: G.sum(x, [1]) }, name: 'pool_test' }).bytes;
}

describe('SessionPool', () => {
  const bytes = model();
  let pool: G.SessionPool;
  let here: G.Session;
  beforeAll(async () => {
    pool = await G.SessionPool.create({ m: bytes }, { workers: 2 });
    here = await G.Session.create(bytes);
  });
  afterAll(async () => {
    await pool.close();
    await here.release();
  });

  it('runs many calls side by side, each answered with its own outputs', async () => {
    expect(pool.size).toBe(2);
    const inputs = Array.from({ length: 12 }, (_, k) =>
      Float32Array.from({ length: (k + 1) * 3 }, (_, i) => Math.sin(k + 0.7 * i)),
    );
    const outs = await Promise.all(
      inputs.map((x) => pool.run('m', { x: { data: x, dims: [x.length / 3, 3] } })),
    );
    for (const [k, x] of inputs.entries()) {
      const want = await here.run({ x });
      expect(outs[k].y.dims).toEqual([k + 1, 2]);
      expect(outs[k].y.data).toEqual(want.y.data);
      expect(outs[k].z.data).toEqual(want.z.data);
    }
  });

  it('copies feeds unless they are handed over, and then moves their buffer', async () => {
    const kept = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const view = kept.subarray(3); // a view: only its 3 values are sent
    const given = Float32Array.from([1, 0, 0, 0, 1, 0]);
    const a = await pool.run('m', { x: { data: view, dims: [1, 3] } });
    expect(Array.from(a.z.data as Float32Array)).toEqual([15]);
    expect(kept.length).toBe(6);
    const b = await pool.run('m', { x: { data: given, dims: [2, 3] } }, [given]);
    expect(Array.from(b.z.data as Float32Array)).toEqual([1, 1]);
    expect(given.length).toBe(0); // detached: the worker owns it now
  });

  it('rejects an unknown model and a feed onnxruntime refuses, and keeps working', async () => {
    await expect(pool.run('nope', { x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(
      /unknown model nope; the pool has m/,
    );
    const refused = pool.run('m', { x: { data: new Float32Array(4), dims: [1, 4] } });
    await expect(refused).rejects.toThrow(/^onnxruntime: /);
    await expect(refused).rejects.toThrow(/index: 1 Got: 4 Expected: 3/);
    const ok = await pool.run('m', { x: { data: new Float32Array(3), dims: [1, 3] } });
    expect(Array.from(ok.z.data as Float32Array)).toEqual([0]);
    expect(pool.usable).toBe(true);
  });

  it('fails the runs of a model onnxruntime cannot load, naming onnxruntime', async () => {
    const bad = await G.SessionPool.create({ junk: new Uint8Array([1, 2, 3, 4]) }, { workers: 1 });
    await expect(bad.run('junk', { x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(
      /onnxruntime: /,
    );
    await bad.close();
  });

  it('is no longer usable once a worker has stopped', async () => {
    const p = await G.SessionPool.create({ m: bytes }, { workers: 2 });
    await p.run('m', { x: { data: new Float32Array(3), dims: [1, 3] } });
    // The thread ends while idle, as a crash would end it.
    type Internals = { slots: { worker: { terminate(): Promise<number> } }[] };
    await (p as unknown as Internals).slots[1].worker.terminate();
    expect(p.usable).toBe(false);
    await expect(p.run('m', { x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(
      /a session worker stopped \(exit code 1\)/,
    );
    await p.close();
  });

  it('lets the runs in flight end before it stops the workers', async () => {
    const p = await G.SessionPool.create({ m: bytes }, { workers: 2 });
    const x = Float32Array.from({ length: 600_000 }, (_, i) => Math.sin(i));
    const want = (await here.run({ x })).z.data;
    const runs = [0, 1, 2, 3].map(() => p.run('m', { x: { data: x, dims: [200_000, 3] } }));
    await p.close(); // stopping a worker inside a run would abort the process
    for (const r of runs) expect((await r).z.data).toEqual(want);
    await expect(p.run('m', { x: { data: x, dims: [200_000, 3] } })).rejects.toThrow(
      /the session pool was closed/,
    );
  });

  it('after close, says so instead of running', async () => {
    const p = await G.SessionPool.create({ m: bytes }, { workers: 1 });
    await p.close();
    expect(p.usable).toBe(false);
    await expect(p.run('m', { x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(
      /the session pool was closed/,
    );
  });

  it('refuses a worker count that is not a positive integer', async () => {
    await expect(G.SessionPool.create({ m: bytes }, { workers: 0 })).rejects.toThrow(
      /workers must be a positive integer, got 0/,
    );
  });
});
