/**
 * Background job: the paper's pipeline on the emulator (prior restriction, or a stored one from
 * the Simulate view; training of the handcrafted-summary and learned-summary estimators on the same
 * restricted set, calibration, comparison on held-out observations, whole-chip inference), stored
 * in the project.
 *
 * Estimator training saves a checkpoint every epoch in the run's folder (pipeline-runs.ts). A
 * cancelled or failed run keeps it; the same run started again with `resume` rebuilds the same
 * training data and continues every estimator from its last saved epoch, which gives the estimator
 * an uninterrupted run would have given. The folder is removed once the results are stored.
 */
import { createEmulator } from '../emulator/index.ts';
import { defaultExperiment } from '../pipeline/experiment.ts';
import { runPipeline, type PipelineOptions } from '../pipeline/pipeline.ts';
import { releasePosteriors } from '../pipeline/estimators.ts';
import { storePipelineResult, type StoredIds } from '../pipeline/persist.ts';
import type { EpochStatus } from '../pipeline/progress.ts';
import { loadRestriction, type StoredRestriction } from '../pipeline/stored-restriction.ts';
import { NotFoundError, openProject } from '../store/index.ts';
import {
  checkCheckpoints,
  createRun,
  readManifest,
  removeRun,
  runDir,
  writeManifest,
  type RunManifest,
} from './pipeline-runs.ts';
import type { JobFunction } from './types.ts';

export interface PipelineJobParams {
  projectPath: string;
  /** Names the run's checkpoint folder; the same id resumes it. */
  runId: string;
  /** Continue a stopped run from its checkpoints (its folder must exist). */
  resume?: boolean;
  sims: number;
  seed: number;
  mode: 'ideal' | 'hardware';
  chipSeed: number;
  estimator: 'maf' | 'nsf' | 'mdn';
  ensemble: number;
  maxEpochs: number;
  chipSamples: number;
  box?: { low: number[]; high: number[] };
  regime?: { minSpikes: number; maxSpikes: number };
  /** Use this stored restriction (the Simulate view's step) instead of training one. */
  restrictionId?: number;
  /** Smaller evaluation budgets (defaults of runPipeline otherwise). */
  budget?: Pick<
    PipelineOptions,
    'heldOut' | 'compareObservations' | 'nSamples' | 'nPredictive' | 'calibrationSamples' | 'initialSims'
  >;
}

/** Share of the whole run each stage takes (measured on the default budget; used for the progress bar). */
const STAGES: [prefix: string, start: number, share: number][] = [
  ['restriction: simulate', 0.0, 0.08],
  ['restriction: classifier', 0.08, 0.07],
  ['simulate training set', 0.15, 0.08],
  ['train handcrafted', 0.23, 0.22],
  ['train learned', 0.45, 0.3],
  ['calibrate', 0.75, 0.12],
  ['compare', 0.87, 0.08],
  ['chip', 0.95, 0.05],
];

export interface PipelineJobResult {
  ids: StoredIds;
  seconds: Record<string, number>;
  runId: string;
}

/** Live curves of one training stage, carried whole in every progress report. */
export interface LiveCurve {
  epoch: number[];
  loss: number[];
  trainLoss: number[];
  status: EpochStatus;
}

/** The checkpoint key of a training stage: 'train learned (member 2/3)' -> 'learned-member1'. */
function memberKey(stage: string): string | undefined {
  const m = /^train (handcrafted|learned)(?: \(member (\d+)\/\d+\))?/.exec(stage);
  return m ? `${m[1]}-member${m[2] ? Number(m[2]) - 1 : 0}` : undefined;
}

async function storedRestriction(projectPath: string, id: number): Promise<StoredRestriction> {
  const project = openProject(projectPath);
  try {
    return await loadRestriction(project.classifiers.get(id));
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new Error(`the stored restriction ${id} no longer exists in the project; start a new run`);
    throw err;
  } finally {
    project.close();
  }
}

export const pipelineJob: JobFunction<PipelineJobParams, PipelineJobResult> = async (p, ctx) => {
  const { projectPath, resume, ...settings } = p;
  const dir = runDir(projectPath, p.runId);
  let manifest: RunManifest;
  if (resume) {
    manifest = readManifest(dir);
    checkCheckpoints(dir, manifest);
    manifest = { ...manifest, stoppedAt: undefined, stopReason: undefined, error: undefined };
    writeManifest(dir, manifest);
  } else {
    manifest = { runId: p.runId, createdAt: new Date().toISOString(), params: settings, epochs: {} };
    createRun(dir, manifest);
  }
  // Training and validation loss per training stage so far; every progress report carries the
  // whole curves, so the UI never misses a point when reports are throttled.
  const curves: Record<string, LiveCurve> = {};
  let restriction: StoredRestriction | undefined;
  try {
    if (p.restrictionId) restriction = await storedRestriction(projectPath, p.restrictionId);
    const box = p.box ?? restriction?.prior.box;
    const experiment = defaultExperiment({
      mode: p.mode,
      chipSeed: p.chipSeed,
      ...(box ? { box: { low: [...box.low], high: [...box.high] } } : {}),
    });
    const opts: PipelineOptions = {
      experiment,
      sims: p.sims,
      seed: p.seed,
      chipSamples: p.chipSamples,
      training: { kind: p.estimator, ensemble: p.ensemble, maxEpochs: p.maxEpochs },
      ...(p.regime ? { regime: { ...p.regime, rejectSaturated: true } } : {}),
      ...p.budget,
      restriction,
      checkpoints: { dir, resume: !!resume },
    };
    const result = await runPipeline(createEmulator(), opts, {
      signal: ctx.signal,
      onLog: (line) => ctx.progress({ message: line }),
      onProgress: (pr) => {
        const st = STAGES.find(([prefix]) => pr.stage.startsWith(prefix));
        const within = pr.total > 0 ? Math.min(1, pr.done / pr.total) : 0;
        const key = memberKey(pr.stage);
        if (key && pr.training) {
          const c = (curves[pr.stage] ??= { epoch: [], loss: [], trainLoss: [], status: pr.training });
          if (c.epoch.at(-1) !== pr.done) {
            c.epoch.push(pr.done);
            c.loss.push(pr.training.validationLoss);
            c.trainLoss.push(pr.training.trainLoss);
          }
          c.status = pr.training;
          // The checkpoint of this epoch is on disk (train writes it before reporting the epoch).
          if ((manifest.epochs[key] ?? 0) < pr.done) {
            manifest.epochs[key] = pr.done;
            writeManifest(dir, manifest);
          }
        }
        ctx.progress({
          fraction: st ? st[1] + st[2] * within : undefined,
          message: `${pr.stage}: ${pr.done} of ${pr.total}${pr.loss !== undefined ? `, validation loss ${pr.loss.toFixed(3)}` : ''}`,
          data: { stage: pr.stage, done: pr.done, total: pr.total, loss: pr.loss, curves, runId: p.runId },
        });
      },
    });
    let ids: StoredIds;
    try {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      ctx.progress({ fraction: 0.99, message: 'storing results in the project' });
      const project = openProject(projectPath);
      try {
        // One transaction: a failure while storing leaves none of the run in the project, never half of it.
        ids = project.transaction(() => storePipelineResult(project, result));
      } finally {
        project.close();
      }
    } finally {
      await releasePosteriors(result.estimators.flatMap((e) => e.members));
    }
    removeRun(dir);
    return { ids, seconds: result.seconds, runId: p.runId };
  } catch (err) {
    const cancelled = ctx.signal.aborted;
    writeManifest(dir, {
      ...manifest,
      stoppedAt: new Date().toISOString(),
      stopReason: cancelled ? 'cancelled' : 'failed',
      error: cancelled ? undefined : (err as Error).message,
    });
    throw err;
  } finally {
    await restriction?.prior.classifier.release();
  }
};
