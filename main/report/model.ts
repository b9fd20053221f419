/**
 * The data a report shows, independent of where it came from (a project file, a pipeline run, a
 * test). `renderReportHtml` turns a `ReportModel` into one self-contained HTML document;
 * `buildReportModel` fills one from a project. All sample arrays are row-major Float32Array with
 * one row per draw and one column per inferred parameter, in the order of `experiment.parameters`.
 *
 * Estimators are referred to by `id` everywhere (posteriors, predictive traces, summary
 * agreement, calibration, chip maps); `validateReportModel` checks every reference and shape and
 * names the offending field when something does not fit.
 */
import type { StimulusProtocol } from '../emulator/backend.ts';

/** One inferred parameter with its box-uniform prior bounds. */
export interface ParameterSpec {
  /** Short name as used in the workbench, e.g. `tau_w`. */
  name: string;
  /** Unit of the parameter values, e.g. `us`, `mV`, `nS`, `LSB`; empty string when dimensionless. */
  unit: string;
  /** Lower and upper prior bound (box-uniform prior), `low < high`. */
  low: number;
  high: number;
}

/** What was measured and how: the experiment and its prior. */
export interface ExperimentInfo {
  name: string;
  description?: string;
  stimulus: StimulusProtocol;
  /** Unit of the stimulus amplitudes, e.g. `nA` or `LSB`. */
  stimulusUnit?: string;
  /** Recording length in hardware microseconds. */
  duration: number;
  /** Backend description: emulator (with mode and chip seed) or a hardware device id. */
  backend: { kind: 'emulator' | 'hardware'; id: string; mode?: 'ideal' | 'hardware'; chipSeed?: number };
  /** Values of the parameters that are not inferred, by name (same units as in the experiment). */
  fixed: Record<string, number>;
  /** The inferred parameters, in column order of every sample array; at least one. */
  parameters: ParameterSpec[];
  /** Content hash of the stored experiment. */
  hash?: string;
  createdAt?: string;
}

/** The restricted simulation set both estimators were trained on, with the restriction statistics. */
export interface SimulationSetInfo {
  name: string;
  /** Simulations in the training set (after restriction). */
  count: number;
  source: 'emulator' | 'hardware' | 'imported';
  seed?: number;
  hash?: string;
  createdAt?: string;
  /** The prior restriction step; absent when the prior was not restricted. */
  restriction?: {
    /** Size of the initial batch from the full prior. */
    initialCount: number;
    /** Spike-count range that defines the regime of interest, inclusive. */
    spikeCountRange: [number, number];
    /** Fraction of the initial batch in the regime of interest (0..1). */
    usefulBefore: number;
    /** Fraction of simulations from the restricted prior in the regime of interest (0..1). */
    usefulAfter: number;
    /** Target false-negative rate of the classifier threshold (0..1). */
    falseNegativeRate: number;
    /** False-negative rate the threshold reached on validation rows (0..1). */
    validationFalseNegativeRate?: number;
    /** Classifier threshold on the predicted probability. */
    threshold?: number;
    /** Fraction of prior draws the restricted prior accepts (0..1). */
    acceptanceRate?: number;
    /** Traces of the initial batch that were invalid (NaN, saturated). */
    invalidCount?: number;
    classifierHash?: string;
  };
}

/** Loss per epoch of one training run; `validation` may be shorter or empty. */
export interface TrainingCurve {
  /** Training loss per epoch (e.g. mean negative log-probability). */
  train: number[];
  validation: number[];
  /** Name of the loss shown on the y axis. */
  lossName: string;
  /** Epoch with the lowest validation loss, counted from 1 as on the chart's x axis. */
  bestEpoch?: number;
}

/** One trained estimator and how it was configured. */
export interface EstimatorInfo {
  /** Unique key used by every other part of the model. */
  id: string;
  /** Display name, e.g. `Handcrafted summaries`. */
  name: string;
  summary: 'handcrafted' | 'learned';
  /** Flat configuration shown as a table (density estimator, layers, batch size, learning rate, ...). */
  config: Record<string, string | number | boolean>;
  training: TrainingCurve;
  seed?: number;
  hash?: string;
  createdAt?: string;
}

/** A membrane trace: values at a uniform sampling rate, with detected spikes. */
export interface Trace {
  values: Float32Array;
  /** Samples per second (hardware time). */
  sampleRate: number;
  /** Unit of `values`, e.g. `MADC LSB` or `mV`. */
  unit: string;
  /** Spike times in microseconds (hardware time). */
  spikeTimes?: number[];
}

/** Posterior draws of one estimator for one observation. */
export interface PosteriorSamples {
  /** n x nParams, row-major. */
  samples: Float32Array;
  /** Log-probability of the true parameters under this posterior, when known. */
  logProbTrue?: number;
  seed?: number;
  hash?: string;
  createdAt?: string;
}

/** Observed value of each summary statistic and its posterior-predictive distribution per estimator. */
export interface SummaryAgreement {
  statistics: { name: string; unit: string }[];
  /** Value on the observed trace, one per statistic (NaN when undefined). */
  observed: number[];
  /** Per estimator id: median and 5%/95% quantiles of the statistic over posterior-predictive traces. */
  predictive: Record<string, { median: number[]; q05: number[]; q95: number[] }>;
}

/** One observation compared across estimators. */
export interface ObservationReport {
  id: string;
  name: string;
  source: 'simulated' | 'recorded' | 'imported' | 'hardware';
  circuit?: number;
  /** True parameters (one per inferred parameter) when the observation is a held-out simulation. */
  trueTheta?: number[];
  observed: Trace;
  /** Per estimator id. */
  posteriors: Record<string, PosteriorSamples>;
  /** Per estimator id: traces simulated from posterior draws. */
  predictive: Record<string, Trace[]>;
  summaries?: SummaryAgreement;
  hash?: string;
}

/** Simulation-based calibration and expected coverage of one estimator over held-out simulations. */
export interface CalibrationReport {
  estimatorId: string;
  /** Posterior draws per held-out simulation used for the ranks; ranks lie in 0..nPosteriorSamples. */
  nPosteriorSamples: number;
  /** nSims x nParams ranks, row-major. */
  ranks: Int32Array;
  /**
   * Expected coverage: credibility levels (0..1, increasing) and the observed coverage at each;
   * `kind` says which regions were checked (default 'joint HPD').
   */
  coverage: { levels: number[]; empirical: number[]; kind?: string };
  seed?: number;
}

/** Per-circuit posterior medians and standard deviations over a whole chip. */
export interface ChipMap {
  estimatorId: string;
  /** Number of circuits (512 on one chip). */
  circuits: number;
  /** circuits x nParams, row-major: per-circuit posterior medians (or means, see `statistic`); NaN for skipped circuits. */
  medians: Float32Array;
  /** What `medians` holds (default 'median'). */
  statistic?: 'median' | 'mean';
  stds: Float32Array;
  /** Grid used to draw the map; circuit = row * cols + col. Default 16 x 32. */
  grid?: { rows: number; cols: number };
  chipSeed?: number;
}

/** Where the numbers came from. */
export interface Provenance {
  workbenchVersion: string;
  /** When this report was generated (ISO 8601). */
  generatedAt: string;
  project?: { path?: string; hash?: string };
  /** Extra content hashes beyond those carried by the items above. */
  hashes?: { label: string; hash: string }[];
  seeds?: { label: string; value: number }[];
  dates?: { label: string; date: string }[];
}

/** Everything one report shows. */
export interface ReportModel {
  title: string;
  experiment: ExperimentInfo;
  /** The training set of the estimators; absent when none is recorded. */
  simulationSet?: SimulationSetInfo;
  /** Estimators in display order; the first is drawn solid, the second hatched. */
  estimators: EstimatorInfo[];
  observations: ObservationReport[];
  calibration: CalibrationReport[];
  chipMaps?: ChipMap[];
  provenance: Provenance;
}

/** A report model that does not fit together; the message names the field. */
export class ReportModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportModelError';
  }
}

function fail(path: string, problem: string): never {
  throw new ReportModelError(`report model: ${path} ${problem}`);
}

function checkRows(path: string, data: ArrayLike<number>, cols: number, rows?: number): number {
  if (data.length % cols !== 0) fail(path, `has ${data.length} values, not a multiple of ${cols} parameters`);
  const n = data.length / cols;
  if (rows !== undefined && n !== rows)
    fail(path, `has ${n} rows, expected ${rows} (shape [${rows}, ${cols}])`);
  return n;
}

function checkTrace(path: string, t: Trace): void {
  if (!(t.values instanceof Float32Array)) fail(`${path}.values`, 'must be a Float32Array');
  if (!(t.sampleRate > 0) || !Number.isFinite(t.sampleRate))
    fail(`${path}.sampleRate`, `must be > 0, got ${t.sampleRate}`);
}

/**
 * Check that every shape and every estimator reference in the model fits; throws a
 * `ReportModelError` naming the first field that does not. Returns the model for chaining.
 */
export function validateReportModel(m: ReportModel): ReportModel {
  const p = m.experiment.parameters.length;
  if (p === 0) fail('experiment.parameters', 'is empty');
  m.experiment.parameters.forEach((s, i) => {
    if (!(s.low < s.high))
      fail(`experiment.parameters[${i}] (${s.name})`, `has bounds low=${s.low} >= high=${s.high}`);
  });
  const ids = new Set<string>();
  m.estimators.forEach((e, i) => {
    if (ids.has(e.id)) fail(`estimators[${i}].id`, `'${e.id}' is used twice`);
    ids.add(e.id);
  });
  const known = (path: string, id: string) => {
    if (!ids.has(id)) fail(path, `refers to unknown estimator '${id}'`);
  };
  m.observations.forEach((o, i) => {
    const at = `observations[${i}] (${o.name})`;
    if (o.trueTheta && o.trueTheta.length !== p)
      fail(`${at}.trueTheta`, `has ${o.trueTheta.length} values, expected ${p}`);
    checkTrace(`${at}.observed`, o.observed);
    for (const [id, post] of Object.entries(o.posteriors)) {
      known(`${at}.posteriors`, id);
      if (!(post.samples instanceof Float32Array))
        fail(`${at}.posteriors.${id}.samples`, 'must be a Float32Array');
      if (checkRows(`${at}.posteriors.${id}.samples`, post.samples, p) === 0)
        fail(`${at}.posteriors.${id}.samples`, 'is empty');
    }
    for (const [id, traces] of Object.entries(o.predictive)) {
      known(`${at}.predictive`, id);
      traces.forEach((t, k) => checkTrace(`${at}.predictive.${id}[${k}]`, t));
    }
    if (o.summaries) {
      const s = o.summaries.statistics.length;
      if (o.summaries.observed.length !== s)
        fail(`${at}.summaries.observed`, `has ${o.summaries.observed.length} values, expected ${s}`);
      for (const [id, q] of Object.entries(o.summaries.predictive)) {
        known(`${at}.summaries.predictive`, id);
        for (const k of ['median', 'q05', 'q95'] as const) {
          if (q[k].length !== s)
            fail(`${at}.summaries.predictive.${id}.${k}`, `has ${q[k].length} values, expected ${s}`);
        }
      }
    }
  });
  m.calibration.forEach((c, i) => {
    const at = `calibration[${i}]`;
    known(`${at}.estimatorId`, c.estimatorId);
    if (!(Number.isInteger(c.nPosteriorSamples) && c.nPosteriorSamples >= 1)) {
      fail(`${at}.nPosteriorSamples`, `must be a whole number >= 1, got ${c.nPosteriorSamples}`);
    }
    if (checkRows(`${at}.ranks`, c.ranks, p) === 0) fail(`${at}.ranks`, 'is empty');
    for (let k = 0; k < c.ranks.length; k++) {
      if (c.ranks[k] < 0 || c.ranks[k] > c.nPosteriorSamples) {
        fail(`${at}.ranks`, `value ${c.ranks[k]} at index ${k} is outside 0..${c.nPosteriorSamples}`);
      }
    }
    if (c.coverage.levels.length !== c.coverage.empirical.length) {
      fail(
        `${at}.coverage`,
        `has ${c.coverage.levels.length} levels but ${c.coverage.empirical.length} empirical values`,
      );
    }
  });
  (m.chipMaps ?? []).forEach((c, i) => {
    const at = `chipMaps[${i}]`;
    known(`${at}.estimatorId`, c.estimatorId);
    checkRows(`${at}.medians`, c.medians, p, c.circuits);
    checkRows(`${at}.stds`, c.stds, p, c.circuits);
    const g = c.grid;
    if (g && g.rows * g.cols < c.circuits)
      fail(`${at}.grid`, `${g.rows} x ${g.cols} holds fewer than ${c.circuits} circuits`);
  });
  return m;
}
