/**
 * Fill a `ReportModel` from a project: the selected estimators with their experiment, training set,
 * restriction classifier and training history; for each selected observation its first trace and
 * the latest posterior of every estimator with the posterior's predictive traces and summary
 * agreement; each estimator's latest calibration and chip-map artifacts (layouts in artifacts.ts).
 *
 * @example
 * const project = openProject('lab.adexproj', { readonly: true });
 * const model = buildReportModel(project, { observations: ['3', 'cell 7'], estimators: [1, 2] });
 */
import type { Estimator, Experiment, Project } from '../store/index.ts';
import { WORKBENCH_VERSION } from '../version.ts';
import { SUMMARY_UNITS, type SummaryName } from '../pipeline/summaries.ts';
import {
  REPORT_ARTIFACT_KINDS,
  agreementFromDiagnostics,
  readCalibration,
  readChipMap,
  readPredictiveTraces,
  readRestrictionStats,
  readSummaryAgreement,
  traceUnit,
} from './artifacts.ts';
import {
  validateReportModel,
  type CalibrationReport,
  type ChipMap,
  type EstimatorInfo,
  type ObservationReport,
  type ReportModel,
  type SimulationSetInfo,
  type SummaryAgreement,
  type TrainingCurve,
} from './model.ts';

/** A selection that does not fit the project; the message names the observation or estimator. */
export class ReportSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportSelectionError';
  }
}

/** What to put into the report. */
export interface ReportSelection {
  /** Observation ids or names; default every observation with a posterior from a selected estimator. */
  observations?: (number | string)[];
  /** Estimator ids; default every trained estimator. */
  estimators?: number[];
  title?: string;
  /** At most this many posterior-predictive traces per observation and estimator (default 20). */
  maxPredictiveTraces?: number;
  /** Timestamp of the report (default now). */
  generatedAt?: string;
}

/**
 * Columns of a row-major matrix reordered from `from` names to `to` names; throws naming the first
 * parameter of `to` that `from` lacks.
 */
export function reorderColumns(
  data: Float32Array | Int32Array,
  from: string[],
  to: string[],
  what: string,
): Float32Array | Int32Array {
  if (from.length === to.length && from.every((n, i) => n === to[i])) return data;
  const idx = to.map((n) => {
    const i = from.indexOf(n);
    if (i < 0) throw new ReportSelectionError(`${what} has no column '${n}' (it has ${from.join(', ')})`);
    return i;
  });
  const rows = data.length / from.length;
  const out = new (data.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(rows * to.length);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < to.length; k++) out[r * to.length + k] = data[r * from.length + idx[k]];
  return out;
}

const TRAIN_KEYS = ['train', 'trainLoss', 'train_loss', 'loss'];
const VAL_KEYS = ['validation', 'val', 'valLoss', 'val_loss', 'validationLoss'];

/** Training curve from a stored history: entries with a training and/or validation loss under common key names. */
export function trainingCurve(history: unknown[], lossName = '−log q(θ | x)'): TrainingCurve {
  // An ensemble stores one history per member: show the first member's.
  if (Array.isArray(history[0]))
    return trainingCurve(
      history[0] as unknown[],
      history.length > 1 ? `${lossName}, member 1 of ${history.length}` : lossName,
    );
  const pick = (h: unknown, keys: string[]) => {
    if (!h || typeof h !== 'object') return undefined;
    for (const k of keys) {
      const v = (h as Record<string, unknown>)[k];
      if (typeof v === 'number') return v;
    }
    return undefined;
  };
  const train = history
    .map((h) => (typeof h === 'number' ? h : pick(h, TRAIN_KEYS)))
    .filter((v): v is number => v !== undefined);
  const validation = history.map((h) => pick(h, VAL_KEYS)).filter((v): v is number => v !== undefined);
  let best: number | undefined;
  validation.forEach((v, i) => {
    if (Number.isFinite(v) && (best === undefined || v < validation[best])) best = i;
  });
  return { train, validation, lossName, bestEpoch: best === undefined ? undefined : best + 1 };
}

/** A flat, printable configuration: nested values become compact JSON. */
function flatConfig(config: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'seed') continue;
    out[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  return out;
}

function selectEstimators(project: Project, ids?: number[]): Estimator[] {
  if (ids && ids.length) {
    return ids.map((id) => {
      try {
        return project.estimators.get(id);
      } catch {
        const have = project.estimators.list().map((e) => `${e.id} (${e.name})`);
        throw new ReportSelectionError(
          `no estimator with id ${id} in this project (it has: ${have.join(', ') || 'none'})`,
        );
      }
    });
  }
  const trained = project.estimators.list().filter((e) => e.status === 'trained');
  if (trained.length === 0)
    throw new ReportSelectionError('the project has no trained estimator to report on');
  return trained;
}

function selectExperiment(project: Project, ests: Estimator[]): Experiment {
  const ids = [...new Set(ests.map((e) => e.experimentId).filter((v): v is number => v !== null))];
  if (ids.length > 1)
    throw new ReportSelectionError(
      `the selected estimators belong to different experiments (${ids.join(', ')}); report on one experiment at a time`,
    );
  if (ids.length === 1) return project.experiments.get(ids[0]);
  const all = project.experiments.list();
  if (all.length === 1) return all[0];
  throw new ReportSelectionError(
    'the selected estimators name no experiment and the project does not have exactly one',
  );
}

function simulationSetInfo(project: Project, ests: Estimator[]): SimulationSetInfo | undefined {
  const e = ests.find((x) => x.setId !== null);
  if (!e) return undefined;
  const set = project.simulations.get(e.setId!);
  const seeds = [
    ...new Set(
      project.simulations
        .batches(set.id)
        .map((b) => b.seed)
        .filter((s): s is number => s !== null),
    ),
  ];
  const info: SimulationSetInfo = {
    name: set.name,
    count: set.rows,
    source: set.source,
    seed: typeof set.meta.seed === 'number' ? set.meta.seed : seeds[0],
    hash: set.contentHash,
    createdAt: set.createdAt,
  };
  const ce = ests.find((x) => x.classifierId !== null);
  if (ce) {
    const c = project.classifiers.get(ce.classifierId!);
    info.restriction = readRestrictionStats(c.stats, c.threshold, c.contentHash);
  }
  return info;
}

function resolveObservations(
  project: Project,
  sel: (number | string)[] | undefined,
  ests: Estimator[],
): number[] {
  const all = project.observations.list();
  if (!sel || sel.length === 0) {
    return all
      .filter((o) =>
        ests.some((e) => project.posteriors.list({ observationId: o.id, estimatorId: e.id }).length > 0),
      )
      .map((o) => o.id);
  }
  return sel.map((s) => {
    const asId = typeof s === 'number' ? s : /^\d+$/.test(s.trim()) ? Number(s) : undefined;
    const byId = asId !== undefined ? all.find((o) => o.id === asId) : undefined;
    if (byId) return byId.id;
    const byName = all.filter((o) => o.name === String(s));
    if (byName.length === 1) return byName[0].id;
    if (byName.length > 1)
      throw new ReportSelectionError(
        `observation name '${s}' is ambiguous (ids ${byName.map((o) => o.id).join(', ')}); give the id`,
      );
    throw new ReportSelectionError(
      `no observation '${s}' in this project (it has ${all.length} observation(s))`,
    );
  });
}

/** Display unit of a handcrafted statistic (see pipeline/summaries.ts); '' when dimensionless or unknown. */
function statisticUnit(name: string, traceUnit: 'codes' | 'volts'): string {
  const u = (SUMMARY_UNITS as Record<string, string | undefined>)[name as SummaryName];
  return u === 'us' ? 'µs' : u === 'trace' ? (traceUnit === 'codes' ? 'LSB' : 'V') : '';
}

function latest<T extends { id: number }>(items: T[]): T | undefined {
  return items.reduce<T | undefined>((a, b) => (!a || b.id > a.id ? b : a), undefined);
}

function observationReport(
  project: Project,
  id: number,
  ests: Estimator[],
  exp: Experiment,
  maxPred: number,
): ObservationReport {
  const o = project.observations.get(id);
  const names = exp.prior.names;
  const first = Float32Array.from(o.data.subarray(0, o.samples));
  const spikes = o.meta.spikeTimes;
  let trueTheta: number[] | undefined;
  if (o.trueTheta && o.paramNames) {
    trueTheta = Array.from(
      reorderColumns(o.trueTheta, o.paramNames, names, `observation '${o.name}' true parameters`),
    );
  }
  const report: ObservationReport = {
    id: String(o.id),
    name: o.name,
    source: o.source,
    circuit: o.circuitId ?? undefined,
    trueTheta,
    observed: {
      values: first,
      sampleRate: o.sampleRate,
      unit: traceUnit(o.unit),
      spikeTimes:
        Array.isArray(spikes) && spikes.every((t) => typeof t === 'number')
          ? (spikes as number[])
          : undefined,
    },
    posteriors: {},
    predictive: {},
    hash: o.contentHash,
  };
  const agreement: SummaryAgreement = { statistics: [], observed: [], predictive: {} };
  for (const e of ests) {
    const info = latest(project.posteriors.list({ observationId: id, estimatorId: e.id }));
    if (!info) continue;
    const post = project.posteriors.get(info.id);
    const diag = post.diagnostics;
    report.posteriors[String(e.id)] = {
      samples: reorderColumns(post.samples, post.paramNames, names, `posterior ${post.id}`) as Float32Array,
      logProbTrue: typeof diag.logProbTrue === 'number' ? diag.logProbTrue : undefined,
      seed: typeof diag.seed === 'number' ? diag.seed : undefined,
      hash: post.contentHash,
      createdAt: post.createdAt,
    };
    const pred = latest(
      project.artifacts.list({ kind: REPORT_ARTIFACT_KINDS.predictive, posteriorId: post.id }),
    );
    if (pred) report.predictive[String(e.id)] = readPredictiveTraces(pred, o.sampleRate).slice(0, maxPred);
    const agr = latest(
      project.artifacts.list({ kind: REPORT_ARTIFACT_KINDS.agreement, posteriorId: post.id }),
    );
    const rows = agr
      ? readSummaryAgreement(agr)
      : agreementFromDiagnostics(diag.summaries, (n) => statisticUnit(n, o.unit));
    if (rows) {
      if (agreement.statistics.length === 0) {
        agreement.statistics = rows.map((r) => ({ name: r.name, unit: r.unit }));
        agreement.observed = rows.map((r) => r.observed);
      }
      // Align rows by statistic name with the first estimator's table.
      const by = new Map(rows.map((r) => [r.name, r]));
      const col = (f: 'median' | 'q05' | 'q95') =>
        agreement.statistics.map((s) => by.get(s.name)?.[f] ?? NaN);
      agreement.predictive[String(e.id)] = { median: col('median'), q05: col('q05'), q95: col('q95') };
    }
  }
  if (agreement.statistics.length) report.summaries = agreement;
  return report;
}

/**
 * The report model for the selected estimators and observations of a project, validated (throws
 * ReportSelectionError, ReportArtifactError or ReportModelError naming what does not fit).
 */
export function buildReportModel(project: Project, sel: ReportSelection = {}): ReportModel {
  const ests = selectEstimators(project, sel.estimators);
  const exp = selectExperiment(project, ests);
  const names = exp.prior.names;
  const estimators: EstimatorInfo[] = ests.map((e) => ({
    id: String(e.id),
    name: e.name,
    summary: e.summaryType,
    config: flatConfig(e.config),
    training: trainingCurve(e.history),
    seed: typeof e.config.seed === 'number' ? e.config.seed : undefined,
    hash: e.contentHash,
    createdAt: e.createdAt,
  }));
  const obsIds = resolveObservations(project, sel.observations, ests);
  const observations = obsIds.map((id) =>
    observationReport(project, id, ests, exp, sel.maxPredictiveTraces ?? 20),
  );
  const calibration: CalibrationReport[] = [];
  const chipMaps: ChipMap[] = [];
  const hashes: { label: string; hash: string }[] = [];
  for (const e of ests) {
    const cal = latest(
      project.artifacts.list({ kind: REPORT_ARTIFACT_KINDS.calibration, estimatorId: e.id }),
    );
    if (cal) {
      const ranks = latest(project.artifacts.list({ kind: 'sbc-ranks', estimatorId: e.id }));
      const c = readCalibration(cal, { ranks, paramNames: names });
      calibration.push({
        estimatorId: String(e.id),
        nPosteriorSamples: c.nSamples,
        ranks: reorderColumns(c.ranks, c.paramNames, names, `calibration artifact ${cal.id}`) as Int32Array,
        coverage: { levels: c.levels, empirical: c.coverage, kind: c.kind },
        seed: c.seed,
      });
      hashes.push({ label: `calibration '${e.name}'`, hash: cal.contentHash });
    }
    const chip = latest(project.artifacts.list({ kind: REPORT_ARTIFACT_KINDS.chipMap, estimatorId: e.id }));
    if (chip) {
      const c = readChipMap(chip);
      const what = `chip-map artifact ${chip.id}`;
      chipMaps.push({
        estimatorId: String(e.id),
        circuits: c.circuits,
        medians: reorderColumns(c.medians, c.paramNames, names, what) as Float32Array,
        stds: reorderColumns(c.stds, c.paramNames, names, what) as Float32Array,
        grid: c.grid,
        chipSeed: c.chipSeed ?? (exp.backend.kind === 'emulator' ? exp.backend.chipSeed : undefined),
        statistic: c.statistic,
      });
      hashes.push({ label: `chip map '${e.name}'`, hash: chip.contentHash });
    }
  }
  const projectCreated = project.meta('created_at');
  return validateReportModel({
    title: sel.title ?? `${exp.name}: ${ests.map((e) => e.name).join(' vs ')}`,
    experiment: {
      name: exp.name,
      description: exp.notes,
      stimulus: exp.stimulus,
      duration: exp.duration,
      backend:
        exp.backend.kind === 'emulator'
          ? {
              kind: 'emulator',
              id: 'embedded emulator',
              mode: exp.backend.mode,
              chipSeed: exp.backend.chipSeed,
            }
          : { kind: 'hardware', id: exp.backend.deviceId },
      fixed: exp.fixed,
      parameters: names.map((n, i) => ({
        name: n,
        unit: exp.prior.units[i],
        low: exp.prior.low[i],
        high: exp.prior.high[i],
      })),
      hash: exp.contentHash,
      createdAt: exp.createdAt,
    },
    simulationSet: simulationSetInfo(project, ests),
    estimators,
    observations,
    calibration,
    chipMaps: chipMaps.length ? chipMaps : undefined,
    provenance: {
      workbenchVersion: WORKBENCH_VERSION,
      generatedAt: sel.generatedAt ?? new Date().toISOString(),
      project: { path: project.path },
      hashes,
      dates: projectCreated ? [{ label: 'project created', date: projectCreated }] : [],
    },
  });
}
