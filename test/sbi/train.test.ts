import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arrayPairSource } from '../../main/sbi/data.ts';
import { createEstimator } from '../../main/sbi/estimator.ts';
import { cosineStep, train, warmupFactor } from '../../main/sbi/train.ts';
import { Rng } from '../../main/sbi/rng.ts';
import { linear } from '../../main/sbi/layers.ts';
import { tanh } from '../../main/graph/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'adexwb-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** theta ~ N(0, 1)^2, x = theta + N(0, 0.3^2). */
function linearData(n: number, seed: number): { theta: Float32Array; x: Float32Array } {
  const r = new Rng(seed);
  const theta = r.fillNormal(new Float32Array(n * 2));
  const x = theta.map((t) => t + 0.3 * r.normal());
  return { theta, x };
}

const small = () =>
  createEstimator({ kind: 'maf', thetaDim: 2, xDim: 2, hiddenFeatures: 10, numTransforms: 2 });

describe('train', () => {
  it('excludes and counts rows with NaN or inf and still trains on the rest', async () => {
    const { theta, x } = linearData(400, 1);
    theta[2 * 7] = NaN;
    x[2 * 11 + 1] = Infinity;
    x[2 * 300] = -Infinity;
    const run = await train(small(), arrayPairSource(theta, x, 2, 2), { maxEpochs: 2 });
    expect(run.rowsExcluded).toBe(3);
    expect(run.excludedExamples).toEqual([7, 11, 300]);
    expect(run.rowsUsed).toBe(397);
    expect(run.metadata.training.rowsExcluded).toBe(3);
    expect(run.history.every((h) => Number.isFinite(h.trainLoss) && Number.isFinite(h.validationLoss))).toBe(
      true,
    );
  });

  it('lowers the validation loss and reports progress per epoch', async () => {
    const { theta, x } = linearData(1000, 2);
    const seen: number[] = [];
    const run = await train(small(), arrayPairSource(theta, x, 2, 2), {
      maxEpochs: 6,
      onProgress: (e) => seen.push(e.epoch),
    });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.stopReason).toBe('max-epochs');
    expect(run.history[5].validationLoss).toBeLessThan(run.history[0].validationLoss);
    expect(run.history[0].stepsPerSecond).toBeGreaterThan(0);
  });

  it('resumes from a checkpoint exactly as if never stopped', async () => {
    const { theta, x } = linearData(600, 3);
    const src = arrayPairSource(theta, x, 2, 2);
    const full = await train(small(), src, { maxEpochs: 4, seed: 5 });
    const ckpt = join(dir, 'run.ckpt');
    const first = await train(small(), src, { maxEpochs: 2, seed: 5, checkpointPath: ckpt });
    expect(first.epochs).toBe(2);
    const resumed = await train(small(), src, {
      maxEpochs: 4,
      seed: 5,
      resumeFrom: ckpt,
      checkpointPath: ckpt,
    });
    expect(resumed.epochs).toBe(4);
    expect(resumed.history.map((h) => h.validationLoss)).toEqual(full.history.map((h) => h.validationLoss));
    expect(Array.from(resumed.parameters)).toEqual(Array.from(full.parameters));
  });

  it('refuses a checkpoint of other data', async () => {
    const ckpt = join(dir, 'other.ckpt');
    const a = linearData(300, 4);
    await train(small(), arrayPairSource(a.theta, a.x, 2, 2), { maxEpochs: 1, checkpointPath: ckpt });
    const b = linearData(300, 5);
    await expect(train(small(), arrayPairSource(b.theta, b.x, 2, 2), { resumeFrom: ckpt })).rejects.toThrow(
      /belongs to other training data/,
    );
  });

  it('stops when cancelled and keeps the best parameters so far', async () => {
    const { theta, x } = linearData(600, 6);
    const ctl = new AbortController();
    const run = await train(small(), arrayPairSource(theta, x, 2, 2), {
      maxEpochs: 50,
      signal: ctl.signal,
      onProgress: (e) => e.epoch === 2 && ctl.abort(),
    });
    expect(run.stopReason).toBe('cancelled');
    expect(run.epochs).toBe(2);
    expect(run.bestEpoch).toBeGreaterThan(0);
  });

  it.each([
    [0, [1e-12, 1e-12, 1e-12]],
    [2, [1e-12, 1e-12, 1e-12, 1e-13, 1e-13, 1e-14, 1e-14]],
  ])(
    'stops early after stopAfterEpochs without improvement, after %i fine-tuning restarts at a tenth of the step size',
    async (rounds, expected) => {
      const { theta, x } = linearData(300, 7);
      // No step this small changes a float32 weight: the best epoch stays the first, and every
      // round ends after exactly stopAfterEpochs epochs.
      const run = await train(small(), arrayPairSource(theta, x, 2, 2), {
        maxEpochs: 50,
        stopAfterEpochs: 2,
        learningRate: 1e-12,
        fineTuneRounds: rounds,
      });
      expect(run.stopReason).toBe('converged');
      expect(run.bestEpoch).toBe(1);
      expect(run.epochs).toBe(expected.length);
      run.history.forEach((h, i) => expect(h.learningRate! / expected[i]).toBeCloseTo(1, 9));
      expect(run.metadata.training.fineTuneRounds).toBe(rounds > 0 ? rounds : undefined);
    },
  );

  it('resumes inside a fine-tuning round exactly as if never stopped', async () => {
    // Data and seed for which the fine-tuning round lasts several epochs (here epochs 20 to 25), so the
    // stop falls inside it.
    const { theta, x } = linearData(600, 1);
    const src = arrayPairSource(theta, x, 2, 2);
    const opts = { maxEpochs: 60, stopAfterEpochs: 1, learningRate: 3e-3, fineTuneRounds: 1, seed: 1 };
    const full = await train(small(), src, opts);
    const firstFine = full.history.findIndex((h) => h.learningRate! < 3e-3);
    expect(firstFine).toBeGreaterThan(0);
    expect(full.epochs).toBeGreaterThan(firstFine + 2);
    expect(full.stopReason).toBe('converged');
    const ckpt = join(dir, 'fine.ckpt');
    const part = await train(small(), src, { ...opts, maxEpochs: firstFine + 1, checkpointPath: ckpt });
    expect(part.history.at(-1)!.learningRate!).toBeLessThan(3e-3);
    const resumed = await train(small(), src, { ...opts, resumeFrom: ckpt, checkpointPath: ckpt });
    expect(resumed.history.map((h) => h.validationLoss)).toEqual(full.history.map((h) => h.validationLoss));
    expect(Array.from(resumed.parameters)).toEqual(Array.from(full.parameters));
  });

  it('cosine schedule: the step size falls along half a cosine to a hundredth by maxEpochs', async () => {
    expect(cosineStep(2e-3, 0)).toBe(2e-3);
    expect(cosineStep(2e-3, 0.5) / 2e-3).toBeCloseTo(0.505, 12);
    expect(cosineStep(2e-3, 1) / 2e-3).toBeCloseTo(0.01, 12);
    expect(cosineStep(2e-3, 0.25) / 2e-3).toBeCloseTo(0.01 + 0.99 * 0.5 * (1 + Math.SQRT1_2), 12);
    // 540 training rows in batches of 200: the last step of epoch e (0-based) is at (e + 400/540) / 4.
    const { theta, x } = linearData(600, 5);
    const src = arrayPairSource(theta, x, 2, 2);
    const opts = { maxEpochs: 4, learningRate: 3e-3, seed: 4, schedule: 'cosine' as const };
    const run = await train(small(), src, opts);
    expect(run.epochs).toBe(4);
    run.history.forEach((h, e) =>
      expect(h.learningRate! / cosineStep(3e-3, (e + 400 / 540) / 4)).toBeCloseTo(1, 9),
    );
    expect(run.metadata.training.schedule).toBe('cosine');
    const constant = await train(small(), src, { ...opts, schedule: 'constant' });
    expect(constant.history.every((h) => h.learningRate === 3e-3)).toBe(true);
    expect(constant.metadata.training.schedule).toBeUndefined();
    expect(Array.from(constant.parameters)).not.toEqual(Array.from(run.parameters));
    // Resuming in the middle continues the same schedule.
    const ckpt = join(dir, 'cosine.ckpt');
    const ctl = new AbortController();
    const part = await train(small(), src, {
      ...opts,
      checkpointPath: ckpt,
      signal: ctl.signal,
      onProgress: (e) => e.epoch === 2 && ctl.abort(),
    });
    expect(part.epochs).toBe(2);
    const resumed = await train(small(), src, { ...opts, resumeFrom: ckpt });
    expect(resumed.history.map((h) => h.learningRate)).toEqual(run.history.map((h) => h.learningRate));
    expect(Array.from(resumed.parameters)).toEqual(Array.from(run.parameters));
    // A checkpoint of a constant-rate run does not resume a cosine one.
    const constCkpt = join(dir, 'constant.ckpt');
    await train(small(), src, { ...opts, schedule: 'constant', maxEpochs: 1, checkpointPath: constCkpt });
    await expect(train(small(), src, { ...opts, resumeFrom: constCkpt })).rejects.toThrow(/other settings/);
  });

  it('warm-up: the step size rises linearly over the warm-up epochs, then follows the schedule', async () => {
    expect(warmupFactor(0.25)).toBe(0.25);
    expect(warmupFactor(3)).toBe(1);
    const { theta, x } = linearData(600, 5);
    const src = arrayPairSource(theta, x, 2, 2);
    // The last step of each epoch closes it: warm-up progress (e + 1) / 2.5.
    const constant = await train(small(), src, {
      maxEpochs: 4,
      learningRate: 3e-3,
      seed: 4,
      warmupEpochs: 2.5,
    });
    expect(constant.history.map((h) => h.learningRate! / 3e-3)).toEqual(
      [0.4, 0.8, 1, 1].map((f) => expect.closeTo(f, 12)),
    );
    expect(constant.metadata.training.warmupEpochs).toBe(2.5);
    const cosine = await train(small(), src, {
      maxEpochs: 4,
      learningRate: 3e-3,
      seed: 4,
      warmupEpochs: 2.5,
      schedule: 'cosine',
    });
    cosine.history.forEach((h, e) =>
      expect(
        h.learningRate! / (cosineStep(3e-3, (e + 400 / 540) / 4) * Math.min(1, (e + 1) / 2.5)),
      ).toBeCloseTo(1, 9),
    );
    const plain = await train(small(), src, { maxEpochs: 1, learningRate: 3e-3, seed: 4 });
    expect(plain.metadata.training.warmupEpochs).toBeUndefined();
    for (const bad of [-1, Infinity, NaN])
      await expect(train(small(), src, { warmupEpochs: bad })).rejects.toThrow(
        /warmupEpochs must be a finite number >= 0/,
      );
  });

  it('weight decay (AdamW) shrinks the weights and is recorded with the estimator', async () => {
    const { theta, x } = linearData(400, 3);
    const src = arrayPairSource(theta, x, 2, 2);
    const norm = (p: Float32Array) => Math.sqrt(p.reduce((s, v) => s + v * v, 0));
    const plain = await train(small(), src, { maxEpochs: 3, learningRate: 3e-3, seed: 1 });
    const decayed = await train(small(), src, { maxEpochs: 3, learningRate: 3e-3, seed: 1, weightDecay: 60 });
    // 1 - 3e-3 * 60 = 0.82 per step, two steps an epoch: even the first epoch leaves at most 0.67 of the start.
    expect(norm(decayed.parameters)).toBeLessThan(0.8 * norm(plain.parameters));
    expect(decayed.metadata.training.weightDecay).toBe(60);
    expect(plain.metadata.training.weightDecay).toBeUndefined();
  });

  it('names bad input: width mismatch, empty and all-NaN data, bad settings', async () => {
    const { theta, x } = linearData(50, 8);
    await expect(train(small(), arrayPairSource(theta, x.subarray(0, 50), 2, 1))).rejects.toThrow(
      /x width 1; the estimator expects 2 and 2/,
    );
    await expect(
      train(small(), arrayPairSource(new Float32Array(0), new Float32Array(0), 2, 2)),
    ).rejects.toThrow(/empty/);
    await expect(
      train(small(), arrayPairSource(new Float32Array(8).fill(NaN), new Float32Array(8), 2, 2)),
    ).rejects.toThrow(/all 4 rows contain NaN/);
    await expect(train(small(), arrayPairSource(theta, x, 2, 2), { batchSize: 0 })).rejects.toThrow(
      /batchSize/,
    );
    await expect(train(small(), arrayPairSource(theta, x, 2, 2), { fineTuneRounds: -1 })).rejects.toThrow(
      /fineTuneRounds must be a non-negative integer, got -1/,
    );
    await expect(train(small(), arrayPairSource(theta, x, 2, 2), { schedule: 'cosine' })).rejects.toThrow(
      /cosine schedule needs maxEpochs/,
    );
    await expect(train(small(), arrayPairSource(theta, x, 2, 2), { weightDecay: -1 })).rejects.toThrow(
      /weightDecay must be a finite number >= 0, got -1/,
    );
    await expect(
      train(small(), arrayPairSource(theta, x, 2, 2), { schedule: 'linear' as 'cosine', maxEpochs: 2 }),
    ).rejects.toThrow(/schedule must be 'constant' or 'cosine', got linear/);
    expect(existsSync(join(dir, 'nothing'))).toBe(false);
  });

  it('trains an embedding network jointly and exports it inside the posterior graphs', async () => {
    const { theta, x } = linearData(400, 9);
    const embedding = {
      outDim: 3,
      description: 'linear 2->3 tanh',
      build: (p: Parameters<typeof linear>[0], xz: Parameters<typeof tanh>[0]) =>
        tanh(linear(p, 'embed', 2, 3)(xz)),
    };
    const embedded = (zScoreX?: 'structured') =>
      createEstimator({
        kind: 'nsf',
        thetaDim: 2,
        xDim: 2,
        hiddenFeatures: 8,
        numTransforms: 2,
        embedding,
        zScoreX,
      });
    const run = await train(embedded('structured'), arrayPairSource(theta, x, 2, 2), { maxEpochs: 2 });
    expect(run.metadata.config.embedding).toBe('linear 2->3 tanh');
    // Structured z-scoring: one mean and std for all of x, in the exported graphs too.
    expect(run.metadata.config.zScoreX).toBe('structured');
    const all = Array.from(x);
    const mean = all.reduce((s, v) => s + v, 0) / all.length;
    const std = Math.sqrt(all.reduce((s, v) => s + (v - mean) ** 2, 0) / (all.length - 1));
    for (let d = 0; d < 2; d++) {
      expect(run.metadata.zscoreX.mean[d]).toBeCloseTo(mean, 4);
      expect(run.metadata.zscoreX.std[d]).toBeCloseTo(std, 4);
    }
    // The default, with an embedding too: each dimension by its own mean and std.
    const independent = await train(embedded(), arrayPairSource(theta, x, 2, 2), { maxEpochs: 1 });
    expect(independent.metadata.config.zScoreX).toBeUndefined();
    for (let d = 0; d < 2; d++) {
      const column = all.filter((_, k) => k % 2 === d);
      expect(independent.metadata.zscoreX.mean[d]).toBeCloseTo(column.reduce((s, v) => s + v, 0) / 400, 4);
    }
    expect(() =>
      createEstimator({ kind: 'mdn', thetaDim: 2, xDim: 2, zScoreX: 'global' as 'structured' }),
    ).toThrow(/zScoreX must be 'independent' or 'structured', got 'global'/);
    const post = await run.posterior();
    const s = await post.sample(new Float32Array([0.1, 0.2, -1, 1]), 10, { seed: 1 });
    expect(s.length).toBe(2 * 10 * 2);
    await post.dispose();
    const bad = createEstimator({
      kind: 'maf',
      thetaDim: 2,
      xDim: 2,
      embedding: { ...embedding, outDim: 4 },
    });
    await expect(train(bad, arrayPairSource(theta, x, 2, 2), { maxEpochs: 1 })).rejects.toThrow(
      /embedding output: expected shape \[N,4\], got \[-1,3\]/,
    );
  });
});
