/**
 * Background job: infer the posterior of any observation in the project (held-out simulation,
 * imported or hardware recording) with trained estimators loaded back from the project's ONNX
 * graphs, run posterior-predictive simulations on the emulator, and store the posteriors with
 * their diagnostics and predictive traces.
 */
import { createEmulator } from '../emulator/index.ts';
import { compareOnObservation } from '../pipeline/compare.ts';
import { storeComparisonPosteriors } from '../pipeline/persist.ts';
import {
  estimatorPosterior,
  releasePosteriors,
  type FeatureSpec,
  type TrainedEstimator,
} from '../pipeline/estimators.ts';
import type { PipelineExperiment } from '../pipeline/experiment.ts';
import { Posterior } from '../sbi/index.ts';
import { openProject, type Experiment, type Project } from '../store/index.ts';
import type { JobFunction } from './types.ts';

export interface InferJobParams {
  projectPath: string;
  observationId: number;
  estimatorIds: number[];
  nSamples: number;
  nPredictive: number;
  seed: number;
}

/** The pipeline experiment an estimator was trained for, rebuilt from the stored experiment and features. */
function experimentOf(e: Experiment, features: FeatureSpec): PipelineExperiment {
  if (e.stimulus.kind !== 'step')
    throw new Error(`experiment ${e.id}: only step-current experiments can be inferred here`);
  if (e.backend.kind !== 'emulator')
    throw new Error(`experiment ${e.id}: posterior-predictive checks need an emulator experiment`);
  const circuit = /circuit (\d+)/.exec(e.notes ?? '')?.[1];
  return {
    name: e.name,
    paramNames: [...e.prior.names],
    units: [...e.prior.units],
    box: { low: [...e.prior.low], high: [...e.prior.high] },
    stimulus: e.stimulus,
    duration: e.duration,
    samples: features.grid.samples,
    sampleRate: features.grid.sampleRate,
    mode: e.backend.mode,
    chipSeed: e.backend.chipSeed ?? 1,
    circuit: circuit ? Number(circuit) : 0,
    fixed: { ...e.fixed },
  };
}

/** Load a trained estimator (all ensemble members) from the project. */
async function loadEstimator(
  project: Project,
  id: number,
  seed: number,
): Promise<{ est: TrainedEstimator; exp: PipelineExperiment }> {
  const stored = project.estimators.get(id);
  if (stored.status !== 'trained') throw new Error(`estimator ${id} is ${stored.status}, not trained`);
  const features = (stored.config as { features?: FeatureSpec }).features;
  if (!features)
    throw new Error(`estimator ${id} has no feature specification (made by an older workbench?)`);
  if (stored.experimentId === null) throw new Error(`estimator ${id} is not linked to an experiment`);
  const exp = experimentOf(project.experiments.get(stored.experimentId), features);
  const graphs = project.estimators.graphs(id);
  const members: Posterior[] = [];
  try {
    for (let k = 0; `member${k}/sampler.onnx` in graphs; k++) {
      members.push(
        await Posterior.fromBytes(
          graphs[`member${k}/sampler.onnx`],
          graphs[`member${k}/log_prob.onnx`],
          `estimator ${id} member ${k}`,
        ),
      );
    }
  } catch (err) {
    await releasePosteriors(members);
    throw err;
  }
  if (!members.length) throw new Error(`estimator ${id} has no stored graphs`);
  return {
    est: {
      kind: stored.summaryType,
      features,
      posterior: estimatorPosterior(members, exp.box, seed),
      members,
      training: [],
      seconds: 0,
    },
    exp,
  };
}

export const inferJob: JobFunction<InferJobParams, { posteriorIds: number[] }> = async (p, ctx) => {
  const project = openProject(p.projectPath);
  const loaded: Awaited<ReturnType<typeof loadEstimator>>[] = [];
  try {
    const obs = project.observations.get(p.observationId);
    if (obs.traces < 1) throw new Error(`observation ${obs.id} holds no trace`);
    if (obs.unit !== 'codes')
      throw new Error(`observation ${obs.id} is in volts; estimators take MADC codes`);
    ctx.progress({ fraction: 0.02, message: 'loading estimators' });
    for (const id of p.estimatorIds) loaded.push(await loadEstimator(project, id, p.seed));
    const exp = loaded[0].exp;
    const meta = obs.meta as { onset?: number; spikeTimes?: number[] };
    const result = await compareOnObservation(
      createEmulator(),
      exp,
      loaded.map((l) => l.est),
      {
        name: obs.name,
        trace: obs.data.subarray(0, obs.samples),
        sampleRate: obs.sampleRate,
        onset: meta.onset ?? exp.stimulus.onset,
        trueTheta: obs.trueTheta ?? undefined,
        circuit: obs.circuitId ?? undefined,
      },
      { nSamples: p.nSamples, nPredictive: p.nPredictive, keepTraces: 20, seed: p.seed },
      {
        signal: ctx.signal,
        onProgress: (pr) =>
          ctx.progress({
            message: `${pr.stage}: ${pr.done} of ${pr.total}`,
            fraction: 0.1 + 0.85 * (pr.done / (pr.total || 1)),
          }),
      },
    );
    const { posteriorIds } = storeComparisonPosteriors(project, result, obs.id, p.estimatorIds, exp.samples);
    return { posteriorIds };
  } finally {
    await releasePosteriors(loaded.flatMap((l) => l.est.members));
    project.close();
  }
};
