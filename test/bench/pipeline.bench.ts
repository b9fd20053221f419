/**
 * Pipeline benchmark: handcrafted-summary throughput on 100,000 emulator traces, learned-input
 * preparation, and whole-chip inference (512 circuits x 1,000 posterior samples in one call) for
 * both estimators after a short training run. Prints one JSON document. Run:
 * `npx tsx test/bench/pipeline.bench.ts [--sims N] [--epochs N]`. Timings include both wall and
 * process CPU seconds, since the machine may be shared.
 */
import { parseArgs } from 'node:util';
import { createEmulator } from '../../main/emulator/index.ts';
import { buildTrainingSet, trainEstimator } from '../../main/pipeline/estimators.ts';
import {
  defaultExperiment,
  samplePrior,
  simulateAndSummarize,
  traceBatchOf,
} from '../../main/pipeline/experiment.ts';
import { inferChip } from '../../main/pipeline/chip.ts';
import { labelRegime } from '../../main/pipeline/regime.ts';
import { computeSummaries } from '../../main/pipeline/summaries.ts';
import { prepareLearnedInput, fitTraceNormalization } from '../../main/pipeline/trace-input.ts';
import { Rng } from '../../main/sbi/rng.ts';

const { values } = parseArgs({
  options: { sims: { type: 'string', default: '5000' }, epochs: { type: 'string', default: '10' } },
});
const sims = Number(values.sims);
const epochs = Number(values.epochs);

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const backend = createEmulator({ warn: () => {} });
const exp = defaultExperiment();
const big = await simulateAndSummarize(backend, exp, samplePrior(exp.box, 100_000, new Rng(1)), { seed: 1 });
const batch = traceBatchOf(big.result);
const spikes = { times: big.result.spikeTimes, offsets: big.result.spikeOffsets };
const summaries = await timed(() => computeSummaries(batch, spikes, { stimulus: exp.stimulus }));
const norm = fitTraceNormalization(batch);
const learnedInput = await timed(() => prepareLearnedInput(batch, { length: exp.samples, ...norm }));

const train = await simulateAndSummarize(backend, exp, samplePrior(exp.box, sims, new Rng(2)), { seed: 2 });
const set = buildTrainingSet(train, labelRegime(train.summaries), exp);
const chip: Record<string, unknown> = {};
for (const kind of ['handcrafted', 'learned'] as const) {
  const est = await timed(() => trainEstimator(kind, set, exp, { maxEpochs: epochs }));
  const map = await inferChip(backend, exp, est.value, { theta: set.theta.subarray(0, 7), nSamples: 1000 });
  // Time the posterior call again on the same inputs for a second reading.
  chip[kind] = {
    trainingWallSeconds: est.wall,
    trainingCpuSeconds: est.cpu,
    inferenceSeconds512x1000: map.inferenceSeconds,
    circuitsInferred: map.circuits - map.skipped.length,
    spreadOverPosteriorStd: map.spread.map((s, j) => s / map.meanPosteriorStd[j]),
  };
  for (const m of est.value.members) await m.dispose();
}
process.stdout.write(
  JSON.stringify(
    {
      machine: {
        cpus: (await import('node:os')).availableParallelism(),
        loadAverage: (await import('node:os')).loadavg(),
      },
      backend: backend.info().id,
      summaries100k: { wallSeconds: summaries.wall, cpuSeconds: summaries.cpu },
      learnedInput100k: { wallSeconds: learnedInput.wall, cpuSeconds: learnedInput.cpu },
      trainingRows: set.n,
      epochs,
      chip,
    },
    null,
    2,
  ) + '\n',
);
