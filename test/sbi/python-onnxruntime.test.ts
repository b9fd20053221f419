/**
 * The exported estimator files give the same numbers in Python's onnxruntime as in the
 * workbench's (docs/onnx-contract.md). Trains each kind of estimator briefly, saves it as the
 * workbench does, runs test/sbi/python/run_estimator.py on the files and compares samples,
 * log-densities and metadata with onnxruntime-node on the same inputs.
 *
 * Needs a Python with onnxruntime and numpy: ADEXWB_PYTHON names it (default python3). Without
 * one the tests are skipped and reported as skipped, unless ADEXWB_REQUIRE_PYTHON_ORT=1 (set by
 * .ci/run, which installs onnxruntime for Python), in which case they run and fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelInfo, Session } from '../../main/graph/index.ts';
import { readNpyFile, writeNpyFile, type NpyArray } from '../../main/io/npy.ts';
import { arrayPairSource } from '../../main/sbi/data.ts';
import { createEstimator, noiseDimOf } from '../../main/sbi/estimator.ts';
import { Rng } from '../../main/sbi/rng.ts';
import { train } from '../../main/sbi/train.ts';

const python = process.env.ADEXWB_PYTHON ?? 'python3';
const script = join(import.meta.dirname, 'python', 'run_estimator.py');
const probe = spawnSync(python, ['-c', 'import numpy, onnxruntime'], { encoding: 'utf8' });
const available = probe.status === 0;
const required = process.env.ADEXWB_REQUIRE_PYTHON_ORT === '1';

const dir = mkdtempSync(join(tmpdir(), 'adexwb-python-ort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** theta ~ N(0, I) in the box, x = A theta + noise: data that all three estimators fit a little. */
function pairs(n: number, d: number, xd: number) {
  const r = new Rng(9);
  const a = r.fillNormal(new Float32Array(xd * d));
  const theta = new Float32Array(n * d);
  const x = new Float32Array(n * xd);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) theta[i * d + j] = Math.max(-2.9, Math.min(2.9, r.normal()));
    for (let k = 0; k < xd; k++) {
      let s = 0.2 * r.normal();
      for (let j = 0; j < d; j++) s += a[k * d + j] * theta[i * d + j];
      x[i * xd + k] = s;
    }
  }
  return { theta, x };
}

/** Largest |a - b| / (1 + |b|). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

describe.skipIf(!available && !required)("Python's onnxruntime on the exported files", () => {
  it('finds a Python with onnxruntime and numpy', () => {
    expect(
      probe.status,
      `${python} cannot import onnxruntime and numpy: ${probe.error?.message ?? probe.stderr}`,
    ).toBe(0);
  });

  it.each(['maf', 'nsf', 'mdn'] as const)(
    '%s: same samples, log-densities and metadata as onnxruntime-node',
    async (kind) => {
      const d = 3;
      const xd = 4;
      const est = createEstimator({
        kind,
        thetaDim: d,
        xDim: xd,
        bounds: { low: [-3, -3, -3], high: [3, 3, 3] },
        parameterNames: ['a', 'b', 'c'],
        seed: 4,
      });
      const { theta, x } = pairs(3000, d, xd);
      const run = await train(est, arrayPairSource(theta, x, d, xd), { maxEpochs: 2 });
      const post = await run.posterior();
      const estDir = join(dir, `${kind}-estimator`);
      await post.save(estDir);
      await post.dispose();

      const io = join(dir, `${kind}-io`);
      const r = new Rng(21);
      const b = 3;
      // The MDN's extra noise column picks the component (a standard normal like the others).
      const noiseDim = noiseDimOf(est);
      const xObs = x.slice(0, b * xd);
      const obs: NpyArray = { dtype: 'float32', shape: [b, xd], data: xObs };
      const noise = r.fillNormal(new Float32Array(b * 200 * noiseDim));
      const points = r.fillNormal(new Float32Array(b * 50 * d));
      mkdirSync(io);
      writeNpyFile(join(io, 'x.npy'), obs);
      writeNpyFile(join(io, 'noise.npy'), { dtype: 'float32', shape: [b, 200, noiseDim], data: noise });
      writeNpyFile(join(io, 'theta.npy'), { dtype: 'float32', shape: [b, 50, d], data: points });

      const py = spawnSync(python, [script, estDir, io], { encoding: 'utf8' });
      expect(py.status, `run_estimator.py failed: ${py.stderr}`).toBe(0);

      const samplerBytes = readFileSync(join(estDir, 'sampler.onnx'));
      const logProbBytes = readFileSync(join(estDir, 'log_prob.onnx'));
      const sampler = await Session.create(samplerBytes, { threads: 1 });
      const logProb = await Session.create(logProbBytes, { threads: 1 });
      const nodeTheta = (
        await sampler.run({
          x: { data: xObs, dims: [b, xd] },
          noise: { data: noise, dims: [b, 200, noiseDim] },
        })
      ).theta.data as Float32Array;
      const nodeLp = (
        await logProb.run({ theta: { data: points, dims: [b, 50, d] }, x: { data: xObs, dims: [b, xd] } })
      ).log_prob.data as Float32Array;
      await sampler.release();
      await logProb.release();

      const pyTheta = readNpyFile(join(io, 'py_theta.npy'));
      const pyLp = readNpyFile(join(io, 'py_log_prob.npy'));
      expect(pyTheta.shape).toEqual([b, 200, d]);
      expect(pyLp.shape).toEqual([b, 50]);
      expect(maxRelDiff(pyTheta.data as Float32Array, nodeTheta)).toBeLessThan(1e-4);
      expect(maxRelDiff(pyLp.data as Float32Array, nodeLp)).toBeLessThan(1e-4);
      // Not a constant: the samples differ between observations and the density varies.
      expect(new Set(Array.from(nodeLp, (v) => v.toFixed(3))).size).toBeGreaterThan(100);

      const meta = JSON.parse(readFileSync(join(io, 'py_meta.json'), 'utf8')) as {
        sampler: Record<string, string>;
        log_prob: Record<string, string>;
      };
      expect(meta.sampler).toEqual(readModelInfo(samplerBytes).metadata);
      expect(meta.log_prob).toEqual(readModelInfo(logProbBytes).metadata);
      expect(meta.sampler['adexwb.estimator']).toBe(kind);
      expect(JSON.parse(meta.sampler['adexwb.parameter_names'])).toEqual(['a', 'b', 'c']);
    },
    60_000,
  );
});
