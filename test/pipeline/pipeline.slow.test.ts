import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmulator } from '../../main/emulator/index.ts';
import {
  formatComparisonTable,
  meanWithError,
  runPipeline,
  type PipelineResult,
} from '../../main/pipeline/pipeline.ts';
import { compareOnObservation } from '../../main/pipeline/compare.ts';
import { PIPELINE_LEARNING_RATE, PIPELINE_WARMUP_EPOCHS } from '../../main/pipeline/estimators.ts';
import { storePipelineResult } from '../../main/pipeline/persist.ts';
import { openProject } from '../../main/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'adexwb-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the paper pipeline on the emulator (tiny budget)', () => {
  const backend = createEmulator({ warn: () => {} });
  let result: PipelineResult;

  it('runs every stage, reports both estimators and stores them in a project', async () => {
    const stages = new Set<string>();
    result = await runPipeline(
      backend,
      {
        sims: 500,
        initialSims: 2000,
        heldOut: 40,
        compareObservations: 2,
        nSamples: 200,
        nPredictive: 10,
        calibrationSamples: 50,
        chipSamples: 50,
        training: { maxEpochs: 2 },
      },
      { onProgress: (p) => stages.add(p.stage.split(':')[0]) },
    );
    for (const s of [
      'restriction',
      'simulate training set',
      'train handcrafted',
      'train learned',
      'calibrate handcrafted',
      'chip',
    ]) {
      expect(stages.has(s)).toBe(true);
    }
    expect(result.reports.map((r) => r.kind)).toEqual(['handcrafted', 'learned']);
    // The default training: one warm-up epoch, then the cosine schedule from the peak step of each summary kind, the learned
    // estimator on the full-resolution trace.
    expect(result.estimators.map((e) => e.training[0].metadata.training)).toMatchObject([
      {
        schedule: 'cosine',
        learningRate: PIPELINE_LEARNING_RATE.handcrafted,
        warmupEpochs: PIPELINE_WARMUP_EPOCHS,
      },
      {
        schedule: 'cosine',
        learningRate: PIPELINE_LEARNING_RATE.learned,
        warmupEpochs: PIPELINE_WARMUP_EPOCHS,
      },
    ]);
    expect(result.estimators[1].features.learnedInput?.length).toBe(result.simulations.result.samples);
    expect(result.usefulAfter).toBeGreaterThan(0.8);
    for (const r of result.reports) {
      expect(r.calibration.hpd!.nObs).toBe(result.heldOutRows);
      expect(r.relativeWidth).toHaveLength(7);
      expect(r.traceRmse).toBeGreaterThan(0);
      expect(r.chip!.mean.length).toBe(512 * 7);
      // Logit coordinates keep every posterior mean inside the prior box.
      const { low, high } = result.experiment.box;
      for (let i = 0; i < 512; i++) {
        if (r.chip!.skipped.includes(i)) continue;
        for (let j = 0; j < 7; j++) {
          const m = r.chip!.mean[i * 7 + j];
          expect(m).toBeGreaterThanOrEqual(low[j]);
          expect(m).toBeLessThanOrEqual(high[j]);
        }
      }
    }
    expect(formatComparisonTable(result)).toMatch(/expected-coverage error \(HPD\)/);
    const signed = result.reports[0].calibration.hpd!.worstSigned;
    expect(Math.abs(signed)).toBeCloseTo(result.reports[0].calibration.hpd!.maxError, 12);
    const signedRow = formatComparisonTable(result)
      .split('\n')
      .find((l) => l.startsWith('  coverage - level at the worst'));
    expect(signedRow).toContain(`${signed >= 0 ? '+' : ''}${signed.toFixed(3)}`);
    // Paired differences, learned minus handcrafted, observation by observation.
    const trace = result.comparisons.map(
      (c) => c.estimators[1].predictive.trace.meanRmse - c.estimators[0].predictive.trace.meanRmse,
    );
    const m = (trace[0] + trace[1]) / 2;
    expect(result.differences!.traceRmse.n).toBe(2);
    expect(result.differences!.traceRmse.mean).toBeCloseTo(m, 10);
    // Two values: sample standard deviation |a - b| / sqrt(2), standard error |a - b| / 2.
    expect(result.differences!.traceRmse.standardError).toBeCloseTo(Math.abs(trace[0] - trace[1]) / 2, 10);
    expect(formatComparisonTable(result)).toContain(
      'learned - handcrafted, paired over 2 compared observations (mean +- standard error):',
    );

    const project = openProject(join(dir, 'p.adexproj'), { create: true });
    try {
      const ids = storePipelineResult(project, result);
      expect(project.estimators.get(ids.estimatorIds[1]).summaryType).toBe('learned');
      expect(project.estimators.graphs(ids.estimatorIds[0])['member0/sampler.onnx'].length).toBeGreaterThan(
        100,
      );
      expect(project.classifiers.get(ids.classifierId).threshold).toBe(result.restriction.prior.threshold);
      expect(project.posteriors.list({ estimatorId: ids.estimatorIds[0] }).length).toBe(2);
      expect(project.artifacts.list({ kind: 'calibration' }).length).toBe(2);
      expect(project.simulations.get(ids.setId).rows).toBe(result.simulations.theta.length / 7);
    } finally {
      project.close();
    }
  });

  it('compares on a recording with another rate and onset, and refuses a broken one', async () => {
    const sims = result.simulations;
    const row = result.heldOutIndices[0];
    const s = sims.result.samples;
    const trace = sims.result.codes.subarray(row * s, (row + 1) * s);
    // The same recording at 10 MSa/s (linear interpolation) with 5 us more baseline (onset at 25 us).
    const up = new Float32Array(2 * s + 50);
    for (let k = 0; k < up.length; k++) {
      const pos = Math.min(s - 1, Math.max(0, (k - 50) / 2));
      const i = Math.min(s - 2, Math.floor(pos));
      up[k] = trace[i] + (pos - i) * (trace[i + 1] - trace[i]);
    }
    const c = await compareOnObservation(
      backend,
      result.experiment,
      result.estimators,
      { name: 'upsampled', trace: up, sampleRate: 10e6, onset: 25 },
      { nSamples: 100, nPredictive: 5 },
    );
    expect(c.observed.resampled).toBe(true);
    expect(c.estimators).toHaveLength(2);
    for (let k = 0; k < s; k += 97) expect(c.observed.trace[k]).toBeCloseTo(trace[k], 3);
    const broken = up.slice();
    broken[300] = NaN;
    await expect(
      compareOnObservation(backend, result.experiment, result.estimators, {
        name: 'cell 4',
        trace: broken,
        sampleRate: 10e6,
        onset: 25,
      }),
    ).rejects.toThrow(/cell 4: sample 300/);
    await expect(
      compareOnObservation(backend, result.experiment, result.estimators, {
        name: 'short',
        trace: up.subarray(0, 500),
        sampleRate: 10e6,
        onset: 25,
      }),
    ).rejects.toThrow(/short: the recording spans/);
    for (const e of result.estimators) for (const m of e.members) await m.dispose();
    await result.restriction.prior.classifier.release();
  });
});

describe('meanWithError', () => {
  it('gives the mean and the standard error of the mean, NaN for fewer than two values', () => {
    const r = meanWithError([1, 2, 3, 4]);
    expect(r.mean).toBe(2.5);
    expect(r.standardError).toBeCloseTo(Math.sqrt(5 / 3 / 4), 12); // sample variance 5/3
    expect(r.n).toBe(4);
    expect(meanWithError([7]).standardError).toBeNaN();
    expect(meanWithError([]).mean).toBeNaN();
  });
});
