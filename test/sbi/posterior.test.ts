import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, add, emitModel } from '../../main/graph/index.ts';
import { createEstimator, initialParameters } from '../../main/sbi/estimator.ts';
import { loadPosterior, type Posterior } from '../../main/sbi/posterior.ts';
import { ContractError } from '../../main/sbi/contract.ts';
import { untrainedPosterior, unitZ } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'adexwb-posterior-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small NSF (theta 3-D, x 4-D). */
const smallNsf = () =>
  createEstimator({ kind: 'nsf', thetaDim: 3, xDim: 4, hiddenFeatures: 16, numTransforms: 2 });

/** The prior box of the bounded-prior tests (theta 2-D), and a small MAF on it. */
const bounds = { low: [-0.5, -1], high: [0.5, 0.3] };
const boxedMaf = () =>
  createEstimator({ kind: 'maf', thetaDim: 2, xDim: 2, bounds, hiddenFeatures: 16, numTransforms: 2 });

/** Expects every 2-D sample inside `bounds`. */
function expectInsideBox(s: Float32Array): void {
  for (let i = 0; i < s.length; i += 2) {
    expect(s[i]).toBeGreaterThanOrEqual(bounds.low[0]);
    expect(s[i]).toBeLessThanOrEqual(bounds.high[0]);
    expect(s[i + 1]).toBeGreaterThanOrEqual(bounds.low[1]);
    expect(s[i + 1]).toBeLessThanOrEqual(bounds.high[1]);
  }
}

/** The worker threads of a posterior's started pool, to stop one as a crash would. */
async function poolWorkers(post: Posterior): Promise<{ terminate(): Promise<number> }[]> {
  type Internals = { pool: Promise<{ slots: { worker: { terminate(): Promise<number> } }[] }> };
  return (await (post as unknown as Internals).pool).slots.map((s) => s.worker);
}

describe('bounded prior', () => {
  const x = new Float32Array([0.2, 0.1]);

  it('rejects samples outside the box and redraws them', async () => {
    const post = await untrainedPosterior(boxedMaf());
    const s = await post.sample(new Float32Array([0.2, 0.1, -1, 1]), 3000, { seed: 1 });
    expect(s.length).toBe(2 * 3000 * 2);
    expectInsideBox(s);
    await post.dispose();
  });

  it('renormalizes log-probabilities by the accepted mass: the bounded density integrates to 1', async () => {
    const est = createEstimator({
      kind: 'nsf',
      thetaDim: 2,
      xDim: 2,
      bounds,
      hiddenFeatures: 16,
      numTransforms: 2,
    });
    const post = await untrainedPosterior(est);
    const n = 200;
    const pts = new Float32Array(n * n * 2);
    const hx = 1 / n;
    const hy = 1.3 / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        pts[2 * (i * n + j)] = -0.5 + (i + 0.5) * hx;
        pts[2 * (i * n + j) + 1] = -1 + (j + 0.5) * hy;
      }
    }
    const lp = await post.logProb(pts, x, { acceptanceSamples: 40_000 });
    let mass = 0;
    for (const v of lp) mass += Math.exp(v) * hx * hy;
    // Z is estimated from 40k draws: relative error about sqrt((1-Z)/(Z*40k)) < 1%.
    expect(mass).toBeGreaterThan(0.97);
    expect(mass).toBeLessThan(1.03);
    const accept = (await post.acceptanceRate(x, 40_000))[0];
    expect(accept).toBeGreaterThan(0.02);
    expect(accept).toBeLessThan(0.98);
    const out = await post.logProb(new Float32Array([0.6, 0, 0, 0.31, 0, 0]), x);
    expect(out[0]).toBe(-Infinity);
    expect(out[1]).toBe(-Infinity);
    expect(Number.isFinite(out[2])).toBe(true);
    await post.dispose();
  });
});

describe('batched evaluation', () => {
  it('samples 512 observations in one call; batched log-densities equal single-observation ones', async () => {
    const est = smallNsf();
    const post = await untrainedPosterior(est);
    const b = 512;
    const xs = Float32Array.from({ length: b * 4 }, (_, i) => Math.sin(i));
    const s = await post.sample(xs, 100, { seed: 3 });
    expect(s.length).toBe(b * 100 * 3);
    expect(s.every(Number.isFinite)).toBe(true);
    // log-densities of observation 7's samples: batched == single
    const all = await post.logProb(s, xs);
    const one = await post.logProb(s.subarray(7 * 300, 8 * 300), xs.subarray(7 * 4, 8 * 4));
    for (let i = 0; i < 100; i++) expect(all[7 * 100 + i]).toBeCloseTo(one[i], 4);
    await post.dispose();
  });

  it('evaluates more parameter sets than one onnxruntime run holds in parts, with the same values', async () => {
    const est = createEstimator({ kind: 'maf', thetaDim: 3, xDim: 4, hiddenFeatures: 16, numTransforms: 2 });
    const post = await untrainedPosterior(est);
    const n = 40_000; // more rows than one run takes (16,384): split within the observation
    const xs = Float32Array.from({ length: 2 * 4 }, (_, i) => Math.cos(i));
    const th = Float32Array.from({ length: 2 * n * 3 }, (_, i) => Math.sin(0.37 * i));
    const all = await post.logProb(th, xs);
    expect(all.length).toBe(2 * n);
    for (const [o, r0] of [
      [0, 0],
      [0, 20_000],
      [1, 35_000],
    ]) {
      const part = await post.logProb(
        th.subarray((o * n + r0) * 3, (o * n + r0 + 5000) * 3),
        xs.subarray(o * 4, (o + 1) * 4),
      );
      for (let i = 0; i < 5000; i += 97) expect(all[o * n + r0 + i]).toBeCloseTo(part[i], 4);
    }
    await post.dispose();
  });

  it('names the observation when the estimator returns non-finite samples', async () => {
    const est = smallNsf();
    // Weights 1e20 times too large: the network's outputs overflow float32.
    const huge = initialParameters(est, unitZ(3, 4)).map((v) => v * 1e20);
    const post = await untrainedPosterior(est, unitZ(3, 4), huge);
    const xs = Float32Array.from({ length: 3 * 4 }, (_, i) => 1 + (i % 4));
    await expect(post.sample(xs, 100, { seed: 1 })).rejects.toThrow(
      /observation 0: the estimator returned a non-finite sample/,
    );
    await post.dispose();
    const sane = await untrainedPosterior(est);
    expect((await sane.sample(xs, 100, { seed: 1 })).every(Number.isFinite)).toBe(true);
    await sane.dispose();
  });

  it('rejects observations of the wrong width and parameter sets that do not fit', async () => {
    const est = createEstimator({ kind: 'mdn', thetaDim: 2, xDim: 3, hiddenFeatures: 8, numComponents: 2 });
    const post = await untrainedPosterior(est);
    await expect(post.sample(new Float32Array(4), 10)).rejects.toThrow(/multiple of 3 values/);
    await expect(post.sample(new Float32Array([0, NaN, 0]), 10)).rejects.toThrow(
      /observation 0 contains NaN/,
    );
    await expect(post.logProb(new Float32Array(3), new Float32Array(3))).rejects.toThrow(
      /multiple of 2 values/,
    );
    expect(() => post.checkCompatible({ xDim: 4 })).toThrow(/4 columns but the estimator expects 3/);
    expect(() => post.checkCompatible({ parameterNames: ['a', 'b'] })).toThrow(/differ from the estimator/);
    await post.dispose();
  });
});

describe('worker sessions', () => {
  /** Largest absolute difference of two arrays of the same length. */
  const maxDiff = (a: Float32Array, b: Float32Array) => {
    expect(a.length).toBe(b.length);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };

  it.each([
    ['one observation split between the workers', 1, 10_000],
    ['whole observations per run', 40, 1000],
  ])('large calls give the draws and log-densities of the calling thread: %s', async (_, b, n) => {
    const est = smallNsf();
    const z = unitZ(3, 4);
    const here = await untrainedPosterior(est, z, undefined, { threads: 1, workers: 0 });
    const pooled = await untrainedPosterior(est, z, undefined, { threads: 1, workers: 2 });
    expect(pooled.workers).toBe(2);
    const xs = Float32Array.from({ length: b * 4 }, (_, i) => Math.sin(1.3 * i));
    // Small calls run in the calling thread; the first large one starts the workers.
    await pooled.sample(xs.subarray(0, 4), 100, { seed: 5 });
    expect(await pooled.workersRunning()).toBe(0);
    const a = await here.sample(xs, n, { seed: 5 });
    const p = await pooled.sample(xs, n, { seed: 5 });
    expect(await pooled.workersRunning()).toBe(2);
    expect(await here.workersRunning()).toBe(0);
    // The noise is drawn in run order from one generator, so the split does not change it.
    expect(maxDiff(a, p)).toBeLessThan(1e-5);
    expect(maxDiff(a, await pooled.sample(xs, n, { seed: 6 }))).toBeGreaterThan(0.1);
    expect(maxDiff(await here.logProb(a, xs), await pooled.logProb(a, xs))).toBeLessThan(1e-4);
    await here.dispose();
    await pooled.dispose();
    expect(await pooled.workersRunning()).toBe(0);
  });

  it('keeps the prior box and names a non-finite observation in the workers', async () => {
    const est = boxedMaf();
    const z = unitZ(2, 2);
    const here = await untrainedPosterior(est, z, undefined, { threads: 1, workers: 0 });
    const pooled = await untrainedPosterior(est, z, undefined, { threads: 1, workers: 2 });
    const xs = Float32Array.from({ length: 8 * 2 }, (_, i) => Math.cos(i));
    const a = await here.sample(xs, 3000, { seed: 2 });
    const p = await pooled.sample(xs, 3000, { seed: 2 });
    expect(await pooled.workersRunning()).toBe(2);
    expect(maxDiff(a, p)).toBeLessThan(1e-5);
    expectInsideBox(p);
    await here.dispose();
    await pooled.dispose();

    const nsf = smallNsf();
    const huge = initialParameters(nsf, unitZ(3, 4)).map((v) => v * 1e20);
    const broken = await untrainedPosterior(nsf, unitZ(3, 4), huge, { workers: 2 });
    const many = Float32Array.from({ length: 64 * 4 }, (_, i) => 1 + (i % 4));
    await expect(broken.sample(many, 1000, { seed: 1 })).rejects.toThrow(
      /observation 0: the estimator returned a non-finite sample/,
    );
    await broken.dispose();
  });

  it('starts fresh workers when one has stopped', async () => {
    const est = createEstimator({ kind: 'maf', thetaDim: 2, xDim: 2, hiddenFeatures: 8, numTransforms: 2 });
    const post = await untrainedPosterior(est, unitZ(2, 2), undefined, { workers: 2 });
    const xs = Float32Array.from({ length: 10 * 2 }, (_, i) => Math.sin(i));
    const first = await post.sample(xs, 1000, { seed: 4 });
    await (await poolWorkers(post))[1].terminate();
    expect(await post.workersRunning()).toBe(0);
    expect(await post.sample(xs, 1000, { seed: 4 })).toEqual(first);
    expect(await post.workersRunning()).toBe(2);
    await post.dispose();
  });

  it('dispose during a large call lets the runs in flight end and fails the call', async () => {
    const est = smallNsf();
    const post = await untrainedPosterior(est, unitZ(3, 4), undefined, { workers: 2 });
    const xs = Float32Array.from({ length: 256 * 4 }, (_, i) => Math.sin(i));
    await post.sample(xs, 1000, { seed: 8 });
    const call = expect(post.sample(xs, 1000, { seed: 8 })).rejects.toThrow(/the session pool was closed/);
    await new Promise((resolve) => setTimeout(resolve, 5)); // runs on both workers in flight
    await post.dispose();
    await call;
    expect(await post.workersRunning()).toBe(0);
    // Once disposed, it says so (and a second dispose does nothing).
    await expect(post.sample(xs, 1000, { seed: 8 })).rejects.toThrow(/this posterior was disposed/);
    await expect(post.logProb(new Float32Array(3), xs.subarray(0, 4))).rejects.toThrow(
      /this posterior was disposed/,
    );
    await post.dispose();
  });

  it('refuses a negative worker count', async () => {
    const est = createEstimator({ kind: 'mdn', thetaDim: 2, xDim: 2, hiddenFeatures: 8 });
    await expect(untrainedPosterior(est, unitZ(2, 2), undefined, { workers: -1 })).rejects.toThrow(
      /workers must be a non-negative integer, got -1/,
    );
  });
});

describe('ONNX export', () => {
  it.each(['maf', 'nsf', 'mdn'] as const)(
    '%s round-trips through files: a fresh session gives the same numbers',
    async (kind) => {
      const est = createEstimator({
        kind,
        thetaDim: 2,
        xDim: 2,
        hiddenFeatures: 12,
        numTransforms: 2,
        numComponents: 3,
        parameterNames: ['g_l', 'tau_w'],
        parameterUnits: ['nS', 'ms'],
      });
      const post = await untrainedPosterior(est);
      const out = join(dir, `est-${kind}`);
      await post.save(out);
      expect(readdirSync(out).sort()).toEqual(['log_prob.onnx', 'sampler.onnx']);
      const again = await loadPosterior(out);
      expect(again.meta.parameterNames).toEqual(['g_l', 'tau_w']);
      expect(again.meta.parameterUnits).toEqual(['nS', 'ms']);
      expect(again.meta.estimator).toBe(kind);
      const x = new Float32Array([0.1, -0.3, 1, 2]);
      const a = await post.sample(x, 50, { seed: 9 });
      const b = await again.sample(x, 50, { seed: 9 });
      expect(Array.from(b)).toEqual(Array.from(a));
      const la = await post.logProb(a, x);
      const lb = await again.logProb(a, x);
      expect(Array.from(lb)).toEqual(Array.from(la));
      await post.dispose();
      await again.dispose();
    },
  );

  it('refuses to overwrite an existing directory and leaves nothing behind', async () => {
    const est = createEstimator({ kind: 'mdn', thetaDim: 1, xDim: 1, hiddenFeatures: 4, numComponents: 2 });
    const post = await untrainedPosterior(est);
    const out = join(dir, 'taken');
    mkdirSync(out);
    await expect(post.save(out)).rejects.toThrow(/already exists/);
    expect(readdirSync(out)).toEqual([]);
    await expect(post.save(join(dir, 'no', 'such', 'parent'))).rejects.toThrow(/does not exist/);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await post.dispose();
  });

  it('names a corrupt file, a foreign ONNX model and mixed-up files', async () => {
    const est = createEstimator({ kind: 'maf', thetaDim: 2, xDim: 2, hiddenFeatures: 8, numTransforms: 1 });
    const post = await untrainedPosterior(est);
    const good = join(dir, 'good');
    await post.save(good);
    const corrupt = join(dir, 'corrupt');
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, 'sampler.onnx'), Buffer.from('this is not a model at all \x00\xff\x12'));
    writeFileSync(join(corrupt, 'log_prob.onnx'), readFileSync(join(good, 'log_prob.onnx')));
    await expect(loadPosterior(corrupt)).rejects.toThrow(ContractError);
    await expect(loadPosterior(corrupt)).rejects.toThrow(/corrupt[/\\]sampler\.onnx/);

    const g = new Graph();
    const foreignBytes = emitModel({ outputs: { y: add(g.input('x', [2]), 1) } }).bytes;
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'sampler.onnx'), foreignBytes);
    writeFileSync(join(foreign, 'log_prob.onnx'), foreignBytes);
    await expect(loadPosterior(foreign)).rejects.toThrow(/not an adex-workbench estimator/);

    const swapped = join(dir, 'swapped');
    mkdirSync(swapped);
    writeFileSync(join(swapped, 'sampler.onnx'), readFileSync(join(good, 'log_prob.onnx')));
    writeFileSync(join(swapped, 'log_prob.onnx'), readFileSync(join(good, 'sampler.onnx')));
    await expect(loadPosterior(swapped)).rejects.toThrow(/holds the 'log_prob' graph, expected 'sampler'/);

    await expect(loadPosterior(join(dir, 'missing'))).rejects.toThrow(
      /cannot read .*missing[/\\]sampler\.onnx/,
    );
    expect(existsSync(join(dir, 'missing'))).toBe(false);
    await post.dispose();
  });
});
