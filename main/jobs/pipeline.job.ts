/**
 * Background job: the paper's pipeline on the emulator (prior restriction, training of the
 * handcrafted-summary and learned-summary estimators on the same restricted set, calibration,
 * comparison on held-out observations, whole-chip inference), stored in the project.
 */
import { createEmulator } from '../emulator/index.ts';
import { defaultExperiment } from '../pipeline/experiment.ts';
import { runPipeline, type PipelineOptions } from '../pipeline/pipeline.ts';
import { storePipelineResult, type StoredIds } from '../pipeline/persist.ts';
import { openProject } from '../store/index.ts';
import type { JobFunction } from './types.ts';

export interface PipelineJobParams {
  projectPath: string;
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
}

export const pipelineJob: JobFunction<PipelineJobParams, PipelineJobResult> = async (p, ctx) => {
  const experiment = defaultExperiment({
    mode: p.mode,
    chipSeed: p.chipSeed,
    ...(p.box ? { box: p.box } : {}),
  });
  const opts: PipelineOptions = {
    experiment,
    sims: p.sims,
    seed: p.seed,
    chipSamples: p.chipSamples,
    training: { kind: p.estimator, ensemble: p.ensemble, maxEpochs: p.maxEpochs },
    ...(p.regime ? { regime: { ...p.regime, rejectSaturated: true } } : {}),
  };
  // Validation loss per training stage so far; every progress report carries the whole curves, so
  // the UI never misses a point when reports are throttled.
  const curves: Record<string, { epoch: number[]; loss: number[] }> = {};
  const result = await runPipeline(createEmulator(), opts, {
    signal: ctx.signal,
    onLog: (line) => ctx.progress({ message: line }),
    onProgress: (pr) => {
      const st = STAGES.find(([prefix]) => pr.stage.startsWith(prefix));
      const within = pr.total > 0 ? Math.min(1, pr.done / pr.total) : 0;
      if (pr.stage.startsWith('train') && pr.loss !== undefined) {
        const c = (curves[pr.stage] ??= { epoch: [], loss: [] });
        if (c.epoch.at(-1) !== pr.done) {
          c.epoch.push(pr.done);
          c.loss.push(pr.loss);
        }
      }
      ctx.progress({
        fraction: st ? st[1] + st[2] * within : undefined,
        message: `${pr.stage}: ${pr.done} of ${pr.total}${pr.loss !== undefined ? `, validation loss ${pr.loss.toFixed(3)}` : ''}`,
        data: { stage: pr.stage, done: pr.done, total: pr.total, loss: pr.loss, curves },
      });
    },
  });
  if (ctx.signal.aborted) throw ctx.signal.reason;
  ctx.progress({ fraction: 0.99, message: 'storing results in the project' });
  const project = openProject(p.projectPath);
  try {
    // One transaction: a failure while storing leaves none of the run in the project, never half of it.
    const ids = project.transaction(() => storePipelineResult(project, result));
    return { ids, seconds: result.seconds };
  } finally {
    project.close();
  }
};
