/**
 * Side-by-side comparison of estimators on one observation (a held-out simulation, an imported
 * recording or a hardware trace): posterior samples and marginals, contraction against the prior,
 * error and coverage of the true parameters when known, and posterior-predictive checks (traces
 * simulated from posterior samples against the observed trace: spike-count error, trace error and
 * agreement of every handcrafted statistic).
 *
 * @example
 * const c = await compareOnObservation(backend, exp, [handcrafted, learned], { name: 'held-out 3', trace, sampleRate, onset: 20, trueTheta });
 * c.estimators[1].predictive.trace.meanRmse;
 */
import type { SimulationBackend } from '../emulator/backend.ts';
import { millivoltsToLsb } from '../emulator/index.ts';
import { Rng } from '../sbi/rng.ts';
import {
  boxVariance,
  checkTruth,
  contraction,
  summarizeSamples,
  type PosteriorSummary,
  type TruthCheck,
} from '../diagnostics/posterior-metrics.ts';
import {
  spikeCountError,
  summaryAgreement,
  traceError,
  type SpikeCountError,
  type SummaryAgreementRow,
  type TraceError,
} from '../diagnostics/predictive.ts';
import { throwIfAborted } from '../diagnostics/types.ts';
import { featuresOf, type TrainedEstimator } from './estimators.ts';
import { simulateAndSummarize, summaryOptions, type PipelineExperiment } from './experiment.ts';
import { assertUsableSummaries, computeSummaries, SUMMARY_INDEX, SUMMARY_NAMES } from './summaries.ts';
import { conformObservation } from './trace-input.ts';
import { detectSpikes, type SpikeTrains, type TraceBatch } from './traces.ts';
import type { PipelineRun } from './progress.ts';

/** One observed recording. */
export interface ObservationData {
  name: string;
  /** MADC codes or potentials in the same unit as the training traces. */
  trace: Int16Array | Float32Array;
  sampleRate: number;
  /** Stimulus onset in the recording, us. */
  onset: number;
  /** Spike times (us, recording time); detected by threshold crossing when absent. */
  spikeTimes?: Float32Array;
  /** True parameters when known (held-out simulations), in the experiment's order. */
  trueTheta?: ArrayLike<number>;
  /** Circuit the recording comes from (posterior-predictive simulations run there). Default: the experiment's. */
  circuit?: number;
}

/** Options of {@link compareOnObservation}. */
export interface CompareOptions {
  /** Posterior samples per estimator (1000). */
  nSamples?: number;
  /** Posterior-predictive simulations per estimator (100). */
  nPredictive?: number;
  /** Predictive traces kept in the result for plotting (10). */
  keepTraces?: number;
  /** Spike detection level for recordings without spike times, trace units (default: -40 mV in MADC codes). */
  spikeThreshold?: number;
  seed?: number;
}

/** What one estimator gives for the observation. */
export interface EstimatorOnObservation {
  kind: string;
  samples: Float32Array;
  summary: PosteriorSummary;
  /** 1 - posterior variance / box-prior variance, per parameter. */
  contraction: number[];
  truth: TruthCheck | null;
  predictive: {
    spikeCount: SpikeCountError;
    trace: TraceError;
    summaries: SummaryAgreementRow[];
    /** First `keepTraces` predictive traces (row-major) for plots. */
    traces: Int16Array;
  };
}

/** The comparison of all estimators on one observation. */
export interface ObservationComparison {
  name: string;
  paramNames: string[];
  /** The observation on the training grid, its spikes and statistics. */
  observed: { trace: Float32Array; spikeTimes: Float32Array; summaries: Float32Array; resampled: boolean };
  estimators: EstimatorOnObservation[];
}

/** Compare estimators on one observation. Throws with a message naming the observation for unusable recordings. */
export async function compareOnObservation(
  backend: SimulationBackend,
  exp: PipelineExperiment,
  estimators: readonly TrainedEstimator[],
  obs: ObservationData,
  opts: CompareOptions = {},
  run: PipelineRun = {},
): Promise<ObservationComparison> {
  if (estimators.length === 0) throw new RangeError('compare: no estimator given');
  const grid = estimators[0].features.grid;
  const conformed = conformObservation(obs.trace, { sampleRate: obs.sampleRate, onset: obs.onset }, grid, {
    what: obs.name,
  });
  const batch: TraceBatch = {
    data: conformed.trace,
    n: 1,
    samples: grid.samples,
    sampleRate: grid.sampleRate,
  };
  let spikes: SpikeTrains;
  if (obs.spikeTimes) {
    const t = Float32Array.from(obs.spikeTimes, (v) => v - conformed.shift).filter(
      (v) => v >= 0 && v < (grid.samples * 1e6) / grid.sampleRate,
    );
    spikes = { times: t, offsets: Int32Array.of(0, t.length) };
  } else {
    spikes = detectSpikes(batch, { threshold: opts.spikeThreshold ?? millivoltsToLsb(-40), hysteresis: 20 });
  }
  const observedSummaries = computeSummaries(batch, spikes, summaryOptions(exp));
  assertUsableSummaries(observedSummaries, obs.name);
  const d = exp.paramNames.length;
  if (obs.trueTheta && obs.trueTheta.length !== d) {
    throw new RangeError(`${obs.name}: expected ${d} true parameter values, got ${obs.trueTheta.length}`);
  }
  const n = opts.nSamples ?? 1000;
  const nPred = Math.min(opts.nPredictive ?? 100, n);
  const keep = Math.min(opts.keepTraces ?? 10, nPred);
  const priorVar = boxVariance(exp.box);
  const rng = new Rng(opts.seed ?? 0);
  const out: EstimatorOnObservation[] = [];
  for (const est of estimators) {
    throwIfAborted(run.signal);
    run.onProgress?.({ stage: `compare ${obs.name}: ${est.kind}`, done: 0, total: 2 });
    const f = featuresOf(est.features, batch, spikes);
    const samples = await est.posterior.sample(f.x, n);
    const summary = summarizeSamples(samples, n, d);
    // Posterior predictive: simulate the first nPred samples (the draws are independent).
    const predTheta = samples.slice(0, nPred * d);
    const circuit = obs.circuit ?? exp.circuit;
    const pred = await simulateAndSummarize(backend, exp, predTheta, {
      seed: 1 + Math.floor(rng.uniform() * 2 ** 31),
      circuits: new Int32Array(nPred).fill(circuit),
    });
    const counts = new Float64Array(nPred);
    for (let i = 0; i < nPred; i++)
      counts[i] = pred.summaries.values[i * SUMMARY_NAMES.length + SUMMARY_INDEX.spike_count];
    out.push({
      kind: est.kind,
      samples,
      summary,
      contraction: contraction(summary.std, priorVar),
      truth: obs.trueTheta ? checkTruth(summary, obs.trueTheta, priorVar) : null,
      predictive: {
        spikeCount: spikeCountError(counts, observedSummaries.values[SUMMARY_INDEX.spike_count]),
        trace: traceError(pred.result.codes, nPred, conformed.trace),
        summaries: summaryAgreement(pred.summaries.values, observedSummaries.values, SUMMARY_NAMES),
        traces: pred.result.codes.slice(0, keep * grid.samples),
      },
    });
    run.onProgress?.({ stage: `compare ${obs.name}: ${est.kind}`, done: 2, total: 2 });
  }
  return {
    name: obs.name,
    paramNames: [...exp.paramNames],
    observed: {
      trace: conformed.trace,
      spikeTimes: spikes.times,
      summaries: observedSummaries.values,
      resampled: conformed.resampled,
    },
    estimators: out,
  };
}
