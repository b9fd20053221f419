import { describe, expect, it } from 'vitest';
import * as G from '../../main/graph/index.ts';

/** A linear regression problem: loss = mean((x W + b - y)^2). */
function linearProblem(batch = 8) {
  const g = new G.Graph();
  const params = new G.ParameterSet(g);
  const x = g.input('x', [batch, 3]);
  const y = g.input('y', [batch, 2]);
  const loss = G.mseLoss(G.linear(params, 'l', x, 2), y);
  const rng = new G.Rng(11);
  const xs = rng.fillNormal(new Float32Array(batch * 3));
  const ys = rng.fillNormal(new Float32Array(batch * 2));
  return { g, params, loss, xs, ys };
}

async function lossAndGrad(p: ReturnType<typeof linearProblem>, values: Float32Array) {
  const [gFlat] = G.grad(p.loss, [p.params.flat]);
  const s = await G.Session.create(G.emitModel({ outputs: { loss: p.loss, grad: gFlat } }));
  const r = await s.run({ params: values, x: p.xs, y: p.ys });
  await s.release();
  return { loss: (r.loss.data as Float32Array)[0], grad: Float64Array.from(r.grad.data as Float32Array) };
}

/** PyTorch's Adam (with clip_grad_norm_) in plain JavaScript, float64. */
function adamReference(
  p: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: Float64Array,
  t: number,
  lr: number,
  clip: number | null,
  weightDecay = 0,
) {
  const b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  const scale = clip === null ? 1 : Math.min(1, clip / (norm + 1e-6));
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * scale;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
    p[i] = p[i] * (1 - lr * weightDecay) - (lr / (1 - b1 ** t)) * (m[i] / denom);
  }
  return norm;
}

describe('training step (forward, backward, clipping and Adam in one onnxruntime run)', () => {
  for (const [clip, weightDecay] of [
    [null, 0],
    [0.05, 0],
    [0.05, 3],
  ] as const) {
    it(`matches a JavaScript Adam reference for two steps (clipNorm ${clip}, weight decay ${weightDecay})`, async () => {
      const prob = linearProblem();
      const init = prob.params.initialValues(3);
      const trainer = await G.Trainer.create(
        { loss: prob.loss, params: prob.params, adam: { clipNorm: clip, weightDecay } },
        { initial: init },
      );
      const P = prob.params.size;
      const ref = Float64Array.from(init);
      const m = new Float64Array(P);
      const v = new Float64Array(P);
      for (let t = 1; t <= 2; t++) {
        const { loss, grad } = await lossAndGrad(prob, Float32Array.from(ref));
        const norm = adamReference(ref, m, v, grad, t, 0.01, clip, weightDecay);
        const got = await trainer.step({ x: prob.xs, y: prob.ys }, 0.01);
        expect(got).toBeCloseTo(loss, 5);
        expect(trainer.lastGradNorm).toBeCloseTo(norm, 4);
        if (clip !== null) expect(norm).toBeGreaterThan(clip); // clipping really engaged
        const p = trainer.parameters();
        for (let i = 0; i < P; i++)
          expect(Math.abs(p[i] - ref[i])).toBeLessThan(1e-5 * (1 + Math.abs(ref[i])));
        const st = trainer.state();
        for (let i = 0; i < P; i++) {
          expect(Math.abs(st.m[i] - m[i])).toBeLessThan(1e-6 * (1 + Math.abs(m[i])));
          expect(Math.abs(st.v[i] - v[i])).toBeLessThan(1e-6 * (1 + Math.abs(v[i])));
        }
      }
      expect(trainer.stepCount).toBe(2);
      expect(trainer.session.inputs.some((i) => i.name === 'adam_decay')).toBe(weightDecay > 0);
      await trainer.release();
    });
  }

  it('clipping bounds the update: with a tiny clip norm the first Adam step still moves each weight by lr', async () => {
    const prob = linearProblem();
    const init = prob.params.initialValues(5);
    const trainer = await G.Trainer.create(
      { loss: prob.loss, params: prob.params, adam: { clipNorm: 1e-3 } },
      { initial: init },
    );
    await trainer.step({ x: prob.xs, y: prob.ys }, 0.1);
    const p = trainer.parameters();
    // Adam's first step is lr * sign(g) regardless of gradient scale (eps aside).
    for (let i = 0; i < p.length; i++) expect(Math.abs(Math.abs(p[i] - init[i]) - 0.1)).toBeLessThan(1e-3);
    await trainer.release();
  });

  it('training a small MLP on a toy regression decreases the loss', async () => {
    const g = new G.Graph();
    const params = new G.ParameterSet(g);
    const B = 64;
    const x = g.input('x', [B, 2]);
    const y = g.input('y', [B, 1]);
    const h = G.tanh(G.linear(params, 'l2', G.tanh(G.linear(params, 'l1', x, 32)), 32));
    const loss = G.mseLoss(G.linear(params, 'out', h, 1), y);
    const trainer = await G.Trainer.create({ loss, params }, { initial: params.initialValues(1) });
    const rng = new G.Rng(2);
    const batch = () => {
      const xs = rng.fillUniform(new Float32Array(B * 2), -2, 2);
      const ys = new Float32Array(B);
      for (let i = 0; i < B; i++) ys[i] = Math.sin(xs[2 * i]) + 0.5 * xs[2 * i + 1] ** 2;
      return { x: xs, y: ys };
    };
    const evalBatch = batch();
    const before = await trainer.evaluate(evalBatch);
    for (let i = 0; i < 400; i++) await trainer.step(batch(), 1e-2);
    const after = await trainer.evaluate(evalBatch);
    expect(after).toBeLessThan(before / 10);
    await trainer.release();
  });

  it('masked parameters start at zero and stay there; the other entries train', async () => {
    const g = new G.Graph();
    const params = new G.ParameterSet(g);
    const B = 16;
    const x = g.input('x', [B, 3]);
    const y = g.input('y', [B, 3]);
    // Lower-triangular weight (an autoregressive layer): mask[i][o] = 1 where o >= i.
    const mask = Float32Array.from([1, 1, 1, 0, 1, 1, 0, 0, 1]);
    const w = params.add('w', [3, 3], G.normalInit(1), { mask });
    const loss = G.mseLoss(G.matmul(x, w), y);
    const initial = params.initialValues(4);
    expect([initial[3], initial[6], initial[7]]).toEqual([0, 0, 0]);
    expect(params.gradientMask()).toEqual(mask);
    const trainer = await G.Trainer.create({ loss, params }, { initial });
    const rng = new G.Rng(3);
    // The target needs every entry (a dense map), so without the mask all nine would move.
    const batch = () => {
      const xs = rng.fillNormal(new Float32Array(B * 3));
      const ys = new Float32Array(B * 3);
      for (let i = 0; i < B; i++)
        for (let o = 0; o < 3; o++) ys[3 * i + o] = xs[3 * i] + xs[3 * i + 1] - xs[3 * i + 2] * (o + 1);
      return { x: xs, y: ys };
    };
    for (let i = 0; i < 50; i++) await trainer.step(batch(), 0.05);
    const after = trainer.parameters();
    expect([after[3], after[6], after[7]]).toEqual([0, 0, 0]);
    for (const k of [0, 1, 2, 4, 5, 8]) expect(after[k]).not.toBe(initial[k]);
    const bad = after.slice();
    bad[6] = 0.5;
    expect(() => trainer.loadState({ ...trainer.state(), params: bad })).toThrow(
      'parameter w: element 6 is 0.5 where its mask holds it at zero',
    );
    await expect(G.Trainer.create({ loss, params }, { initial: bad })).rejects.toThrow(
      /parameter w: element 6/,
    );
    expect(() => params.add('w2', [2, 2], G.normalInit(1), { mask: new Float32Array(3) })).toThrow(
      'parameter w2: the mask must hold 4 values, each 0 or 1 (got 3)',
    );
    await trainer.release();
  });

  it('state() and loadState() resume training exactly', async () => {
    const prob = linearProblem();
    const trainer = await G.Trainer.create(
      { loss: prob.loss, params: prob.params },
      { initial: prob.params.initialValues(9) },
    );
    for (let i = 0; i < 3; i++) await trainer.step({ x: prob.xs, y: prob.ys }, 0.01);
    const saved = trainer.state();
    const first: number[] = [];
    for (let i = 0; i < 3; i++) first.push(await trainer.step({ x: prob.xs, y: prob.ys }, 0.01));
    trainer.loadState(saved);
    const second: number[] = [];
    for (let i = 0; i < 3; i++) second.push(await trainer.step({ x: prob.xs, y: prob.ys }, 0.01));
    expect(second).toEqual(first);
    expect(() => trainer.loadState({ ...saved, m: new Float32Array(3) })).toThrow(
      /trainer state m: expected 8 values, got 3/,
    );
    await trainer.release();
  });

  it('rejects a batch of the wrong shape naming expected and actual shapes', async () => {
    const prob = linearProblem();
    const trainer = await G.Trainer.create(
      { loss: prob.loss, params: prob.params },
      { initial: prob.params.initialValues(0) },
    );
    await expect(
      trainer.step({ x: { data: new Float32Array(24), dims: [4, 6] }, y: prob.ys }, 0.01),
    ).rejects.toThrow('input x: expected shape [8,3], got [4,6]');
    await expect(trainer.step({ x: new Float32Array(5), y: prob.ys }, 0.01)).rejects.toThrow(
      /input x: shape \[8,3\] needs 24 values, got 5/,
    );
    await expect(trainer.step({ x: new Float64Array(24), y: prob.ys }, 0.01)).rejects.toThrow(
      /expected float32 data, got float64/,
    );
    await expect(trainer.step({ y: prob.ys }, 0.01)).rejects.toThrow(/missing batch input x/);
    await expect(
      G.Trainer.create({ loss: prob.loss, params: prob.params }, { initial: new Float32Array(3) }),
    ).rejects.toThrow(/expected 8 values, got 3/);
    await trainer.release();
  });
});
