/**
 * The restriction step and resumable training at the job level, on a real project file with the
 * real emulator and onnxruntime and a tiny budget: a set from the box prior, a stored restriction,
 * then pipeline runs that use it; one is cancelled during training and resumed, and must end with
 * the same estimators as an uninterrupted run with the same seed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineJob, type LiveCurve, type PipelineJobParams } from '../../main/jobs/pipeline.job.ts';
import { listStoppedRuns, runDir, type RunManifest } from '../../main/jobs/pipeline-runs.ts';
import { restrictionJob, type RestrictionJobResult } from '../../main/jobs/restriction.job.ts';
import { simulateJob } from '../../main/jobs/simulate.job.ts';
import type { JobContext, JobProgressReport } from '../../main/jobs/types.ts';
import { readCheckpoint } from '../../main/sbi/checkpoint.ts';
import { openProject } from '../../main/store/index.ts';
import { PIPELINE_PATIENCE } from '../../main/pipeline/estimators.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-resume-'));
const projectPath = path.join(dir, 'resume.adexproj');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A job context whose run is cancelled when `stopWhen` sees a matching progress report. */
function context(stopWhen?: (data: { stage?: string; done?: number }) => boolean) {
  const controller = new AbortController();
  const reports: JobProgressReport[] = [];
  const ctx: JobContext = {
    signal: controller.signal,
    progress: (r) => {
      reports.push(r);
      const d = r.data as { stage?: string; done?: number } | undefined;
      if (d && stopWhen?.(d) && !controller.signal.aborted) controller.abort(new Error('cancelled'));
    },
  };
  return { ctx, reports };
}

const lastCurves = (reports: JobProgressReport[]) =>
  (
    reports.findLast((r) => (r.data as { curves?: unknown })?.curves)!.data as {
      curves: Record<string, LiveCurve>;
    }
  ).curves;

function storedHistories(ids: number[]) {
  const project = openProject(projectPath);
  try {
    return ids.map((id) => {
      const e = project.estimators.get(id);
      return {
        history: (e.history as { epoch: number; trainLoss: number; validationLoss: number }[][]).map((m) =>
          m.map((r) => [r.epoch, r.trainLoss, r.validationLoss]),
        ),
        graphs: project.estimators.graphs(id),
      };
    });
  } finally {
    project.close();
  }
}

let restriction: RestrictionJobResult;
let base: Omit<PipelineJobParams, 'runId'>;

beforeAll(async () => {
  openProject(projectPath, { create: true }).close();
  const sim = await simulateJob(
    { projectPath, name: 'box prior', n: 600, seed: 3, mode: 'hardware', chipSeed: 1 },
    context().ctx,
  );
  restriction = await restrictionJob(
    {
      projectPath,
      setId: sim.setId,
      regime: { minSpikes: 3, maxSpikes: 30 },
      falseNegativeRate: 0.02,
      checkSims: 200,
      seed: 5,
    },
    context().ctx,
  );
  base = {
    projectPath,
    sims: 200,
    seed: 11,
    mode: 'hardware',
    chipSeed: 1,
    estimator: 'mdn',
    ensemble: 1,
    maxEpochs: 4,
    chipSamples: 0,
    restrictionId: restriction.classifierId,
    budget: { heldOut: 20, compareObservations: 1, nSamples: 100, nPredictive: 2, calibrationSamples: 20 },
  };
}, 300_000);

describe('restriction step', () => {
  it('stores a restriction with the useful fractions before and after and the validation accuracy', () => {
    const project = openProject(projectPath);
    try {
      const stats = project.simulations.get(1) && project.artifacts.list({ kind: 'simulation-stats' })[0];
      const inRegime = (stats.json as { inRegime: number }).inRegime;
      expect(restriction.usefulBefore).toBeCloseTo(inRegime, 10);
      expect(restriction.initialSims).toBe(600);
      expect(restriction.checkSims).toBe(200);
      expect(restriction.usefulAfter).toBeGreaterThan(0);
      expect(restriction.usefulAfter).toBeLessThanOrEqual(1);
      expect(restriction.validationAccuracy).toBeGreaterThan(0.5);
      expect(restriction.validationAccuracy).toBeLessThanOrEqual(1);
      const c = project.classifiers.get(restriction.classifierId);
      expect(c.stats.source).toBe('restriction step');
      expect(c.stats.regime).toEqual({ minSpikes: 3, maxSpikes: 30 });
      expect(c.threshold).toBe(restriction.threshold);
    } finally {
      project.close();
    }
  });

  it('refuses a set that was not drawn from a box prior', async () => {
    const project = openProject(projectPath);
    const set = project.simulations.create({
      name: 'imported',
      source: 'imported',
      paramNames: ['a'],
      samplesPerTrace: 10,
      sampleRate: 1,
    });
    project.close();
    await expect(
      restrictionJob(
        {
          projectPath,
          setId: set.id,
          regime: { minSpikes: 3, maxSpikes: 30 },
          falseNegativeRate: 0.01,
          checkSims: 100,
          seed: 1,
        },
        context().ctx,
      ),
    ).rejects.toThrow(/was not drawn from a box prior/);
  });
});

describe('resumable training', () => {
  let uninterrupted: { history: number[][][]; graphs: Record<string, Uint8Array> }[];
  let uninterruptedCurves: Record<string, LiveCurve>;

  it('an uninterrupted run uses the stored restriction, reports both losses live and removes its checkpoints', async () => {
    const { ctx, reports } = context();
    const out = await pipelineJob({ ...base, runId: 'whole' }, ctx);
    expect(out.ids.classifierId).toBe(restriction.classifierId);
    expect(
      reports.some((r) => r.message?.includes(`stored prior restriction ${restriction.classifierId}`)),
    ).toBe(true);
    uninterruptedCurves = lastCurves(reports);
    for (const stage of ['train handcrafted', 'train learned']) {
      const c = uninterruptedCurves[stage];
      expect(c.epoch).toEqual([1, 2, 3, 4]);
      expect(c.trainLoss).toHaveLength(4);
      expect(c.loss).toHaveLength(4);
      expect(c.trainLoss.every(Number.isFinite)).toBe(true);
      expect(c.status.patience).toBe(PIPELINE_PATIENCE);
      expect(c.status.epochsSinceImprovement).toBeGreaterThanOrEqual(0);
    }
    expect(existsSync(runDir(projectPath, 'whole'))).toBe(false);
    uninterrupted = storedHistories(out.ids.estimatorIds);
  }, 300_000);

  it('a run cancelled after two epochs resumes to the same estimators as the uninterrupted run', async () => {
    const first = context((d) => d.stage === 'train handcrafted' && d.done === 2);
    await expect(pipelineJob({ ...base, runId: 'stopped' }, first.ctx)).rejects.toThrow();
    const folder = runDir(projectPath, 'stopped');
    const manifest = JSON.parse(readFileSync(path.join(folder, 'run.json'), 'utf8')) as RunManifest;
    expect(manifest.stopReason).toBe('cancelled');
    expect(manifest.epochs).toEqual({ 'handcrafted-member0': 2 });
    expect(listStoppedRuns(projectPath, new Set()).map((r) => r.runId)).toContain('stopped');
    expect(listStoppedRuns(projectPath, new Set(['stopped'])).map((r) => r.runId)).not.toContain('stopped');

    const saved = readCheckpoint(path.join(folder, 'handcrafted-member0.ckpt'));
    expect(saved.epoch).toBe(2);

    const second = context();
    const out = await pipelineJob({ ...base, runId: 'stopped', resume: true }, second.ctx);
    expect(existsSync(folder)).toBe(false);
    // Epochs 1-2 come from the checkpoint (their measured timings are the first run's), not a rerun.
    const project = openProject(projectPath);
    const hc = project.estimators.get(out.ids.estimatorIds[0]).history as { seconds: number }[][];
    project.close();
    expect(hc[0].slice(0, 2).map((r) => r.seconds)).toEqual(saved.history.map((r) => r.seconds));
    // The resumed run's live curves start at epoch 1, from the checkpoint's history.
    expect(lastCurves(second.reports)['train handcrafted'].epoch).toEqual([1, 2, 3, 4]);
    expect(lastCurves(second.reports)['train handcrafted'].trainLoss).toEqual(
      uninterruptedCurves['train handcrafted'].trainLoss,
    );
    const resumed = storedHistories(out.ids.estimatorIds);
    for (let e = 0; e < 2; e++) {
      expect(resumed[e].history).toEqual(uninterrupted[e].history);
      for (const [name, bytes] of Object.entries(uninterrupted[e].graphs))
        expect(Buffer.compare(Buffer.from(resumed[e].graphs[name]), Buffer.from(bytes)), name).toBe(0);
    }
  }, 300_000);

  it('refuses to resume when a checkpoint is missing or the training data changed', async () => {
    await expect(
      pipelineJob(
        { ...base, runId: 'gone' },
        context((d) => d.stage === 'train handcrafted' && d.done === 1).ctx,
      ),
    ).rejects.toThrow();
    unlinkSync(path.join(runDir(projectPath, 'gone'), 'handcrafted-member0.ckpt'));
    await expect(pipelineJob({ ...base, runId: 'gone', resume: true }, context().ctx)).rejects.toThrow(
      /checkpoint of handcrafted member 0 \(epoch 1\) is missing/,
    );

    await expect(
      pipelineJob(
        { ...base, runId: 'changed' },
        context((d) => d.stage === 'train handcrafted' && d.done === 1).ctx,
      ),
    ).rejects.toThrow();
    await expect(
      pipelineJob({ ...base, sims: 230, runId: 'changed', resume: true }, context().ctx),
    ).rejects.toThrow(/training data differs from that of the stopped run/);
    const changed = JSON.parse(readFileSync(path.join(runDir(projectPath, 'changed'), 'run.json'), 'utf8'));
    expect(changed.stopReason).toBe('failed');

    await expect(
      pipelineJob({ ...base, runId: 'never-started', resume: true }, context().ctx),
    ).rejects.toThrow(/cannot be resumed: its checkpoints are gone/);
  }, 300_000);
});
