/**
 * The results area of the API: what the pipeline stored in the project (estimators with their
 * training histories, the restriction classifier, posteriors with posterior-predictive traces,
 * calibration and whole-chip maps), shaped for the Train, Compare and Diagnostics views.
 */
import { NotFoundError, type Project } from '../store/index.ts';
import { ApiError } from './contract.ts';
import { observationData } from './project.handlers.ts';
import type {
  ComparisonData,
  DiagnosticsData,
  EstimatorDetails,
  RestrictionDetails,
} from './project.types.ts';

const MAX_PREDICTIVE = 20;

export function estimatorDetails(p: Project): EstimatorDetails[] {
  return p.estimators.list().map((e) => ({
    id: e.id,
    name: e.name,
    summaryType: e.summaryType,
    status: e.status,
    createdAt: e.createdAt,
    contentHash: e.contentHash,
    config: e.config,
    history: (e.history as { epoch: number; trainLoss: number; validationLoss: number }[][]).map((member) =>
      Array.isArray(member)
        ? member.map((r) => ({ epoch: r.epoch, trainLoss: r.trainLoss, validationLoss: r.validationLoss }))
        : [],
    ),
  }));
}

export function restrictionDetails(p: Project): RestrictionDetails[] {
  return p.classifiers
    .list()
    .map((c) => ({ id: c.id, name: c.name, threshold: c.threshold, createdAt: c.createdAt, stats: c.stats }));
}

export function comparison(p: Project, observationId: number): ComparisonData {
  const obs = observationData(p, observationId);
  const full = p.observations.get(observationId);
  let prior: ComparisonData['prior'] = null;
  let names: string[] = full.paramNames ?? [];
  if (full.experimentId !== null) {
    try {
      const exp = p.experiments.get(full.experimentId);
      prior = { low: [...exp.prior.low], high: [...exp.prior.high] };
      if (!names.length) names = [...exp.prior.names];
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  const estimators = new Map(p.estimators.list().map((e) => [e.id, e]));
  const posteriors = p.posteriors.list({ observationId }).map((info) => {
    const post = p.posteriors.get(info.id);
    const art = p.artifacts.list({ posteriorId: info.id, kind: 'predictive-traces' })[0];
    const predictive: number[][] = [];
    if (art?.bytes) {
      const codes = new Int16Array(
        art.bytes.buffer.slice(art.bytes.byteOffset, art.bytes.byteOffset + art.bytes.byteLength),
      );
      const len = obs.samples;
      for (let k = 0; k < Math.min(MAX_PREDICTIVE, Math.floor(codes.length / len)); k++) {
        predictive.push(Array.from(codes.subarray(k * len, (k + 1) * len)));
      }
    }
    return {
      posteriorId: info.id,
      estimatorId: info.estimatorId,
      summaryType: estimators.get(info.estimatorId)?.summaryType ?? 'unknown',
      nSamples: info.nSamples,
      samples: Array.from(post.samples),
      diagnostics: info.diagnostics,
      predictive,
    };
  });
  if (!names.length && posteriors.length) {
    // Imported recordings carry no parameter names: take them from the estimator's experiment.
    const est = estimators.get(posteriors[0].estimatorId);
    if (est?.experimentId != null) {
      const exp = p.experiments.get(est.experimentId);
      names = [...exp.prior.names];
      prior ??= { low: [...exp.prior.low], high: [...exp.prior.high] };
    }
  }
  const meta = full.meta as { onset?: number };
  return {
    observation: { ...obs, onset: typeof meta.onset === 'number' ? meta.onset : null },
    paramNames: names,
    prior,
    posteriors,
  };
}

function floats(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function diagnostics(p: Project): DiagnosticsData {
  const exps = p.experiments.list();
  const paramNames = exps.length ? [...exps[exps.length - 1].prior.names] : [];
  return {
    paramNames,
    estimators: p.estimators.list().map((e) => {
      const cal = p.artifacts.list({ estimatorId: e.id, kind: 'calibration' }).at(-1);
      const chipArt = p.artifacts.list({ estimatorId: e.id, kind: 'chip-map' }).at(-1);
      let chip: DiagnosticsData['estimators'][number]['chip'] = null;
      if (chipArt?.bytes) {
        const all = floats(chipArt.bytes);
        const j = chipArt.json as {
          circuits: number;
          spread: number[];
          meanPosteriorStd: number[];
          nominal: number[];
          skipped: number[];
          inferenceSeconds: number;
        };
        const half = all.length / 2;
        chip = { ...j, mean: Array.from(all.subarray(0, half)), std: Array.from(all.subarray(half)) };
      }
      return {
        estimatorId: e.id,
        summaryType: e.summaryType,
        calibration: (cal?.json as DiagnosticsData['estimators'][number]['calibration']) ?? null,
        chip,
      };
    }),
  };
}

/** Map a store NotFoundError to the API's not_found. */
export function notFound<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NotFoundError) throw new ApiError('not_found', err.message);
    throw err;
  }
}
