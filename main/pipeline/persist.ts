/**
 * Store a pipeline run in a project through the store's repositories: the experiment, the
 * restricted-prior simulation set, the restriction classifier, both estimators (their ONNX graphs),
 * the compared observations with both posteriors, and the diagnostics as artifacts (calibration,
 * SBC ranks, comparison tables, chip maps, the demo table).
 *
 * @example
 * const ids = storePipelineResult(openProject('demo.adexproj', { create: true }), result);
 */
import type { Project } from '../store/index.ts';
import { SUMMARY_NAMES } from './summaries.ts';
import { toExperimentSpec } from './experiment.ts';
import type { PipelineResult } from './pipeline.ts';
import type { ObservationComparison } from './compare.ts';

/** Ids of what was stored. */
export interface StoredIds {
  experimentId: number;
  setId: number;
  classifierId: number;
  estimatorIds: number[];
  observationIds: number[];
  posteriorIds: number[];
  artifactIds: number[];
}

function toBytes(a: Float32Array | Int32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/**
 * Store each estimator's posterior of one compared observation, with its diagnostics and its
 * posterior-predictive traces (Int16 codes, `samplesPerTrace` each) as a `predictive-traces`
 * artifact. `estimatorIds[k]` is the stored id of `c.estimators[k]`. One transaction.
 */
export function storeComparisonPosteriors(
  project: Project,
  c: ObservationComparison,
  observationId: number,
  estimatorIds: readonly number[],
  samplesPerTrace: number,
): { posteriorIds: number[]; artifactIds: number[] } {
  const out = { posteriorIds: [] as number[], artifactIds: [] as number[] };
  project.transaction(() => {
    c.estimators.forEach((o, e) => {
      const p = project.posteriors.create({
        estimatorId: estimatorIds[e],
        observationId,
        paramNames: c.paramNames,
        samples: o.samples,
        diagnostics: {
          summary: o.summary,
          contraction: o.contraction,
          truth: o.truth,
          spikeCount: o.predictive.spikeCount,
          traceRmse: o.predictive.trace.meanRmse,
          summaries: o.predictive.summaries,
          resampled: c.observed.resampled,
        },
      });
      out.posteriorIds.push(p.id);
      const t = o.predictive.traces;
      const a = project.artifacts.create({
        kind: 'predictive-traces',
        name: `${c.name}: ${o.kind} predictive traces (int16 codes)`,
        observationId,
        posteriorId: p.id,
        json: { samples: samplesPerTrace, statistics: SUMMARY_NAMES },
        bytes: new Uint8Array(t.buffer.slice(t.byteOffset, t.byteOffset + t.byteLength)),
      });
      out.artifactIds.push(a.id);
    });
  });
  return out;
}

/** Write everything of `result` into `project` (each repository call is one transaction). */
export function storePipelineResult(
  project: Project,
  result: PipelineResult,
  opts: { comparisonsStored?: number } = {},
): StoredIds {
  const exp = result.experiment;
  const experiment = project.experiments.create(toExperimentSpec(exp));
  const sims = result.simulations;
  const set = project.simulations.create({
    name: 'restricted prior simulations',
    source: 'emulator',
    experimentId: experiment.id,
    paramNames: exp.paramNames,
    samplesPerTrace: sims.result.samples,
    sampleRate: sims.result.sampleRate,
    meta: {
      mode: exp.mode,
      chipSeed: exp.chipSeed,
      circuit: exp.circuit,
      heldOutIndices: result.heldOutIndices,
      trainingRows: result.trainingRows,
    },
  });
  project.simulations.append(set.id, {
    theta: sims.theta,
    codes: sims.result.codes,
    spikeCounts: sims.result.spikeCounts,
    spikeTimes: sims.result.spikeTimes,
    spikeOffsets: sims.result.spikeOffsets,
    seed: undefined,
  });
  const r = result.restriction;
  // A stored restriction (the Simulate view's step) is referenced, not stored again.
  const classifierId =
    'classifierId' in r
      ? r.classifierId
      : project.classifiers.create({
          name: 'regime classifier',
          experimentId: experiment.id,
          config: { hidden: r.prior.classifier.hidden, blocks: r.prior.classifier.blocks, box: r.prior.box },
          onnx: r.prior.classifier.onnx(),
          threshold: r.prior.threshold,
          stats: {
            initialSims: r.labels.length,
            usefulBefore: r.usefulBefore,
            usefulAfterEstimate: r.usefulAfterEstimate,
            usefulAfter: result.usefulAfter,
            acceptanceRate: r.prior.acceptanceRate,
            validationFalseNegativeRate: r.validationFalseNegativeRate,
            validationAccuracy: r.validationAccuracy,
            spikeCountHistogram: r.spikeCounts,
          },
        }).id;
  const ids: StoredIds = {
    experimentId: experiment.id,
    setId: set.id,
    classifierId,
    estimatorIds: [],
    observationIds: [],
    posteriorIds: [],
    artifactIds: [],
  };
  const art = (a: Parameters<Project['artifacts']['create']>[0]) =>
    ids.artifactIds.push(project.artifacts.create(a).id);

  result.estimators.forEach((est, e) => {
    const graphs: Record<string, Uint8Array> = {};
    est.members.forEach((m, k) => {
      const b = m.modelBytes();
      graphs[`member${k}/sampler.onnx`] = b.sampler;
      graphs[`member${k}/log_prob.onnx`] = b.logProb;
    });
    const stored = project.estimators.create({
      name: `${est.kind} summary`,
      experimentId: experiment.id,
      setId: set.id,
      classifierId,
      config: {
        features: est.features,
        ensemble: est.members.length,
        estimator: est.members[0].meta.estimator,
        // The ONNX graphs work on u = logit((theta - low) / (high - low)); see boxPosterior in estimators.ts.
        thetaTransform: { kind: 'logit-box', low: exp.box.low, high: exp.box.high },
      },
      summaryType: est.kind,
      status: 'trained',
      history: est.training.map((t) => t.history),
      graphs,
    });
    ids.estimatorIds.push(stored.id);
    const rep = result.reports[e];
    art({
      kind: 'calibration',
      name: `${est.kind} calibration`,
      estimatorId: stored.id,
      json: {
        hpd: rep.calibration.hpd,
        marginal: rep.calibration.marginal,
        sbc: rep.sbc,
        meanLogProb: rep.calibration.meanLogProb,
      },
    });
    art({
      kind: 'sbc-ranks',
      name: `${est.kind} SBC ranks (nObs x D int32)`,
      estimatorId: stored.id,
      json: {
        nObs: rep.calibration.sbc.nObs,
        nSamples: rep.calibration.sbc.nSamples,
        thetaDim: rep.calibration.sbc.thetaDim,
      },
      bytes: toBytes(rep.calibration.sbc.ranks),
    });
    if (rep.chip) {
      const { mean, std, ...summary } = rep.chip;
      art({
        kind: 'chip-map',
        name: `${est.kind} whole-chip map (circuits x D float32 means, then stds)`,
        estimatorId: stored.id,
        json: summary,
        bytes: new Uint8Array([...toBytes(mean), ...toBytes(std)]),
      });
    }
  });

  const nStore = Math.min(opts.comparisonsStored ?? 3, result.comparisons.length);
  for (let k = 0; k < nStore; k++) {
    const c = result.comparisons[k];
    const row = result.heldOutIndices[k];
    const d = exp.paramNames.length;
    const obs = project.observations.create({
      name: c.name,
      source: 'simulated',
      sampleRate: sims.result.sampleRate,
      traces: 1,
      samples: sims.result.samples,
      data: sims.result.codes.slice(row * sims.result.samples, (row + 1) * sims.result.samples),
      experimentId: experiment.id,
      circuitId: exp.circuit,
      trueTheta: sims.theta.slice(row * d, (row + 1) * d),
      paramNames: exp.paramNames,
      meta: { onset: exp.stimulus.onset },
    });
    ids.observationIds.push(obs.id);
    const stored = storeComparisonPosteriors(project, c, obs.id, ids.estimatorIds, sims.result.samples);
    ids.posteriorIds.push(...stored.posteriorIds);
    ids.artifactIds.push(...stored.artifactIds);
  }
  art({
    kind: 'pipeline-summary',
    name: 'paper pipeline comparison',
    experimentId: experiment.id,
    json: {
      seconds: result.seconds,
      usefulBefore: r.usefulBefore,
      usefulAfter: result.usefulAfter,
      trainingRows: result.trainingRows,
      heldOutRows: result.heldOutRows,
      differences: result.differences,
      reports: result.reports.map(({ calibration, chip, ...rest }) => ({
        ...rest,
        hpdCoverageError: calibration.hpd?.maxError ?? null,
        meanLogProb: calibration.meanLogProb,
        chipSpread: chip?.spread ?? null,
        chipSeconds: chip?.inferenceSeconds ?? null,
      })),
    },
  });
  return ids;
}
