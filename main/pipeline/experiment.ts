/**
 * The paper's default experiment and the simulation step every pipeline stage shares: a step
 * current, the seven inferred CapMem parameters with a box-uniform prior over their documented
 * model ranges, hardware mode on a seeded chip; simulate a batch of parameter sets through any
 * `SimulationBackend` and compute the handcrafted summaries of the traces.
 *
 * @example
 * const exp = defaultExperiment();
 * const theta = samplePrior(exp.box, 1000, new Rng(1));
 * const sims = await simulateAndSummarize(createEmulator(), exp, theta, { seed: 1 });
 */
import { DEFAULT_EXPERIMENT, INFERRED_PARAMETERS } from '../emulator/index.ts';
import type { EmulatorMode, SimulationBackend, SimulationResult } from '../emulator/backend.ts';
import type { ExperimentSpec } from '../store/index.ts';
import type { Rng } from '../sbi/rng.ts';
import { throwIfAborted } from '../diagnostics/types.ts';
import type { Box } from './classifier.ts';
import { computeSummaries, type SummaryOptions, type SummaryResult } from './summaries.ts';
import type { TraceBatch } from './traces.ts';

/** Everything fixed about an experiment the pipeline runs. Times in hardware microseconds. */
export interface PipelineExperiment {
  name: string;
  paramNames: string[];
  units: string[];
  /** Box-uniform prior, model units. */
  box: Box;
  stimulus: { kind: 'step'; onset: number; duration: number; amplitude: number };
  duration: number;
  samples: number;
  sampleRate: number;
  mode: EmulatorMode;
  chipSeed: number;
  /** Circuit every training simulation runs on. */
  circuit: number;
  fixed: Record<string, number>;
}

/**
 * The default experiment: 500 pA step from 20 to 180 us in a 200 us recording (1000 samples at
 * 5 MSa/s), the seven parameters of `INFERRED_PARAMETERS` uniform over their model ranges,
 * hardware mode on chip seed 1, circuit 0.
 */
export function defaultExperiment(overrides: Partial<PipelineExperiment> = {}): PipelineExperiment {
  return {
    name: 'default step protocol',
    paramNames: INFERRED_PARAMETERS.map((p) => p.name),
    units: INFERRED_PARAMETERS.map((p) => p.unit),
    box: {
      low: INFERRED_PARAMETERS.map((p) => p.modelRange[0]),
      high: INFERRED_PARAMETERS.map((p) => p.modelRange[1]),
    },
    stimulus: { ...DEFAULT_EXPERIMENT.stimulus },
    duration: DEFAULT_EXPERIMENT.duration,
    samples: DEFAULT_EXPERIMENT.samples,
    sampleRate: DEFAULT_EXPERIMENT.sampleRate,
    mode: 'hardware',
    chipSeed: 1,
    circuit: 0,
    fixed: { ...DEFAULT_EXPERIMENT.fixed },
    ...overrides,
  };
}

/** The experiment as the project store records it. */
export function toExperimentSpec(exp: PipelineExperiment): ExperimentSpec {
  return {
    name: exp.name,
    stimulus: exp.stimulus,
    fixed: exp.fixed,
    prior: { names: exp.paramNames, units: exp.units, low: [...exp.box.low], high: [...exp.box.high] },
    backend: { kind: 'emulator', mode: exp.mode, chipSeed: exp.chipSeed },
    space: 'model',
    duration: exp.duration,
    notes: `circuit ${exp.circuit}`,
  };
}

/** The summary options matching the experiment's stimulus. */
export function summaryOptions(exp: PipelineExperiment): SummaryOptions {
  return { stimulus: { onset: exp.stimulus.onset, duration: exp.stimulus.duration } };
}

/** `n` parameter sets drawn uniformly from the box, row-major. */
export function samplePrior(box: Box, n: number, rng: Rng): Float32Array {
  const d = box.low.length;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = box.low[j] + (box.high[j] - box.low[j]) * rng.uniform();
  }
  return out;
}

/** Simulated traces with their parameters and handcrafted summaries. */
export interface SimulatedBatch {
  theta: Float32Array;
  result: SimulationResult;
  summaries: SummaryResult;
}

/** Where and how to simulate a batch. */
export interface SimulateSpec {
  /** Noise seed (with `rowOffset`, the same rows give the same traces whatever the batching). */
  seed: number;
  rowOffset?: number;
  /** Circuit per row (default: the experiment's circuit for every row). */
  circuits?: Int32Array;
}

/** A progress callback receiving done/total counts. */
export type CountProgress = (p: { done: number; total: number }) => void;

/** Traces of a simulation result as a batch for the summary and input functions. */
export function traceBatchOf(result: SimulationResult): TraceBatch {
  return { data: result.codes, n: result.n, samples: result.samples, sampleRate: result.sampleRate };
}

/** Simulate the parameter sets `theta` (n x 7, model units) and compute their summaries. */
export async function simulateAndSummarize(
  backend: SimulationBackend,
  exp: PipelineExperiment,
  theta: Float32Array,
  spec: SimulateSpec,
  run: { onProgress?: CountProgress; signal?: AbortSignal } = {},
): Promise<SimulatedBatch> {
  throwIfAborted(run.signal);
  const n = theta.length / exp.paramNames.length;
  const circuits = spec.circuits ?? new Int32Array(n).fill(exp.circuit);
  const result = await backend.simulate(
    {
      theta,
      paramNames: exp.paramNames,
      space: 'model',
      mode: exp.mode,
      fixed: exp.fixed,
      stimulus: exp.stimulus,
      duration: exp.duration,
      chipSeed: exp.chipSeed,
      circuits,
      seed: spec.seed,
      rowOffset: spec.rowOffset ?? 0,
    },
    { onProgress: run.onProgress, signal: run.signal },
  );
  const summaries = computeSummaries(
    traceBatchOf(result),
    { times: result.spikeTimes, offsets: result.spikeOffsets },
    summaryOptions(exp),
  );
  return { theta, result, summaries };
}
