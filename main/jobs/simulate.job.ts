/**
 * Background job: draw parameter sets from a box prior, simulate them with the emulator in
 * batches, and append each batch atomically to a simulation set of the project. Afterwards a
 * `simulation-stats` artifact holds what the Simulate view shows: the spike-count histogram, the
 * fraction of traces in the regime of interest and a few example traces. A cancelled or failed run
 * removes its set again, so the project never holds a set that was not finished.
 */
import { createEmulator } from '../emulator/index.ts';
import {
  defaultExperiment,
  samplePrior,
  simulateAndSummarize,
  toExperimentSpec,
} from '../pipeline/experiment.ts';
import { DEFAULT_REGIME, labelRegime, spikeCountHistogram, type RegimeOptions } from '../pipeline/regime.ts';
import { Rng } from '../sbi/rng.ts';
import { openProject } from '../store/index.ts';
import type { JobFunction } from './types.ts';

export interface SimulateJobParams {
  projectPath: string;
  name: string;
  n: number;
  seed: number;
  mode: 'ideal' | 'hardware';
  chipSeed: number;
  /** Box prior in model units (default: the documented ranges of the seven parameters). */
  box?: { low: number[]; high: number[] };
  regime?: RegimeOptions;
  /** Traces per stored batch (default 2,000). */
  batch?: number;
}

export interface SimulationStats {
  setId: number;
  experimentId: number;
  rows: number;
  /** Spike counts 0..99 and a last bin for 100 and more. */
  spikeHistogram: number[];
  invalid: number;
  regime: { minSpikes: number; maxSpikes: number };
  inRegime: number;
  seconds: number;
  examples: { theta: number[]; codes: number[]; spikeTimes: number[] }[];
  paramNames: string[];
  units: string[];
  sampleRate: number;
}

export const simulateJob: JobFunction<SimulateJobParams, SimulationStats> = async (p, ctx) => {
  const t0 = Date.now();
  const exp = defaultExperiment({ mode: p.mode, chipSeed: p.chipSeed, ...(p.box ? { box: p.box } : {}) });
  const regime = { ...DEFAULT_REGIME, ...(p.regime ?? {}) };
  const backend = createEmulator();
  const project = openProject(p.projectPath);
  try {
    const experiment = project.experiments.create(toExperimentSpec(exp));
    const set = project.simulations.create({
      name: p.name,
      source: 'emulator',
      experimentId: experiment.id,
      paramNames: exp.paramNames,
      samplesPerTrace: exp.samples,
      sampleRate: exp.sampleRate,
      meta: {
        mode: exp.mode,
        chipSeed: exp.chipSeed,
        circuit: exp.circuit,
        seed: p.seed,
        box: exp.box,
        stimulus: exp.stimulus,
      },
    });
    const rng = new Rng(p.seed);
    const batch = p.batch ?? 2000;
    const hist = new Float64Array(101);
    let invalid = 0;
    let inRegime = 0;
    const examples: SimulationStats['examples'] = [];
    try {
      for (let start = 0; start < p.n; start += batch) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const rows = Math.min(batch, p.n - start);
        const theta = samplePrior(exp.box, rows, rng);
        const sim = await simulateAndSummarize(
          backend,
          exp,
          theta,
          { seed: p.seed, rowOffset: start },
          { signal: ctx.signal },
        );
        project.simulations.append(set.id, { ...sim.result, theta, seed: p.seed });
        const h = spikeCountHistogram(sim.summaries);
        h.counts.forEach((c, i) => (hist[i] += c));
        invalid += h.invalid;
        const labels = labelRegime(sim.summaries, regime);
        for (const l of labels) inRegime += l;
        for (let i = 0; i < rows && examples.length < 4; i++) {
          if (!labels[i]) continue;
          const s = sim.result;
          examples.push({
            theta: Array.from(theta.subarray(i * 7, i * 7 + 7)),
            codes: Array.from(s.codes.subarray(i * s.samples, (i + 1) * s.samples)),
            spikeTimes: Array.from(s.spikeTimes.subarray(s.spikeOffsets[i], s.spikeOffsets[i + 1])),
          });
        }
        ctx.progress({
          done: start + rows,
          total: p.n,
          unit: 'simulations',
          message: `${start + rows} of ${p.n} traces stored`,
        });
      }
    } catch (err) {
      // A cancelled or failed run leaves no partial set behind: its committed batches go again.
      project.simulations.delete(set.id);
      project.experiments.delete(experiment.id);
      throw err;
    }
    const stats: SimulationStats = {
      setId: set.id,
      experimentId: experiment.id,
      rows: p.n,
      spikeHistogram: Array.from(hist),
      invalid,
      regime: { minSpikes: regime.minSpikes, maxSpikes: regime.maxSpikes },
      inRegime: p.n ? inRegime / p.n : 0,
      seconds: (Date.now() - t0) / 1000,
      examples,
      paramNames: exp.paramNames,
      units: exp.units,
      sampleRate: exp.sampleRate,
    };
    project.artifacts.create({
      kind: 'simulation-stats',
      name: p.name,
      setId: set.id,
      experimentId: experiment.id,
      json: stats,
    });
    return stats;
  } finally {
    project.close();
  }
};
