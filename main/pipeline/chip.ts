/**
 * Whole-chip inference: the same nominal parameters are configured on every circuit of an emulated
 * chip, each circuit is recorded once, and one estimator infers all circuits in one batched
 * posterior call. The per-circuit posterior means form parameter maps whose spread across circuits
 * is the fixed-pattern mismatch made visible (compared with the posterior width, which is what one
 * circuit alone would leave open).
 *
 * @example
 * const map = await inferChip(backend, exp, learned, { theta: nominal, nSamples: 1000 });
 * map.spread; // per parameter: std of the per-circuit means across the chip
 */
import type { SimulationBackend } from '../emulator/backend.ts';
import { CIRCUITS } from '../emulator/index.ts';
import { columnMoments } from '../diagnostics/stats.ts';
import { featuresOf, type TrainedEstimator } from './estimators.ts';
import { simulateAndSummarize, traceBatchOf, type PipelineExperiment } from './experiment.ts';
import type { PipelineRun } from './progress.ts';

/** Options of {@link inferChip}. */
export interface ChipOptions {
  /** Nominal parameter set configured on every circuit (model units, experiment order). */
  theta: ArrayLike<number>;
  /** Posterior samples per circuit (1000). */
  nSamples?: number;
  /** Number of circuits (all 512). */
  circuits?: number;
  seed?: number;
}

/** Per-circuit parameter maps and their spread. */
export interface ChipMap {
  circuits: number;
  paramNames: string[];
  nominal: number[];
  /** circuits x D posterior means and standard deviations, row-major. */
  mean: Float32Array;
  std: Float32Array;
  /** Circuits whose trace was unusable (saturated or non-finite): their rows are NaN. */
  skipped: number[];
  /** Per parameter: standard deviation of the per-circuit means across the chip. */
  spread: number[];
  /** Per parameter: mean of the per-circuit posterior standard deviations. */
  meanPosteriorStd: number[];
  /** Seconds of the posterior call alone (all circuits, all samples). */
  inferenceSeconds: number;
}

/** Record every circuit with the nominal parameters and infer them all at once. */
export async function inferChip(
  backend: SimulationBackend,
  exp: PipelineExperiment,
  est: TrainedEstimator,
  opts: ChipOptions,
  run: PipelineRun = {},
): Promise<ChipMap> {
  const d = exp.paramNames.length;
  if (opts.theta.length !== d)
    throw new RangeError(`chip: expected ${d} nominal parameter values, got ${opts.theta.length}`);
  const c = opts.circuits ?? CIRCUITS;
  if (!Number.isInteger(c) || c < 1 || c > CIRCUITS)
    throw new RangeError(`chip: circuits must be an integer in 1..${CIRCUITS}, got ${c}`);
  const n = opts.nSamples ?? 1000;
  const theta = new Float32Array(c * d);
  for (let i = 0; i < c; i++) for (let j = 0; j < d; j++) theta[i * d + j] = opts.theta[j];
  run.onProgress?.({ stage: 'chip: record', done: 0, total: c });
  const sims = await simulateAndSummarize(
    backend,
    exp,
    theta,
    { seed: opts.seed ?? 5, circuits: Int32Array.from({ length: c }, (_, i) => i) },
    { signal: run.signal },
  );
  const f = featuresOf(est.features, traceBatchOf(sims.result), {
    times: sims.result.spikeTimes,
    offsets: sims.result.spikeOffsets,
  });
  const usable: number[] = [];
  const skipped: number[] = [];
  for (let i = 0; i < c; i++) (f.usable[i] ? usable : skipped).push(i);
  if (usable.length === 0) throw new Error('chip: no circuit gave a usable trace for these parameters');
  const x = new Float32Array(usable.length * f.dim);
  usable.forEach((i, k) => x.set(f.x.subarray(i * f.dim, (i + 1) * f.dim), k * f.dim));
  run.onProgress?.({ stage: 'chip: infer', done: 0, total: usable.length });
  const t0 = performance.now();
  const samples = await est.posterior.sample(x, n);
  const inferenceSeconds = (performance.now() - t0) / 1000;
  const mean = new Float32Array(c * d).fill(NaN);
  const std = new Float32Array(c * d).fill(NaN);
  usable.forEach((i, k) => {
    const m = columnMoments(samples, n, d, k * n * d);
    for (let j = 0; j < d; j++) {
      mean[i * d + j] = m.mean[j];
      std[i * d + j] = Math.sqrt(m.variance[j]);
    }
  });
  const meansUsable = new Float32Array(usable.length * d);
  const stdsUsable = new Float32Array(usable.length * d);
  usable.forEach((i, k) => {
    meansUsable.set(mean.subarray(i * d, (i + 1) * d), k * d);
    stdsUsable.set(std.subarray(i * d, (i + 1) * d), k * d);
  });
  const across = columnMoments(meansUsable, usable.length, d);
  const postStd = columnMoments(stdsUsable, usable.length, d);
  run.onProgress?.({ stage: 'chip: infer', done: usable.length, total: usable.length });
  return {
    circuits: c,
    paramNames: [...exp.paramNames],
    nominal: Array.from(opts.theta),
    mean,
    std,
    skipped,
    spread: [...across.variance].map(Math.sqrt),
    meanPosteriorStd: [...postStd.mean],
    inferenceSeconds,
  };
}
