/**
 * Emulator benchmark (`npm run bench:emulator`): 10,000 neurons (prior draws) on the default
 * protocol (200 us, dt 0.05 us = 4,000 steps, 1,000 MADC samples recorded per trace), ideal and
 * hardware mode, native kernel on 1 and 2 threads and the TypeScript kernel. Prints one JSON
 * document with neuron-steps/s and traces/s, end to end (`simulate()`: validation, coefficient
 * preparation, kernel, result assembly) with a fresh trace buffer per call and with one buffer
 * reused from call to call (`options.codes`, as the `simulate` command does batch after batch),
 * and for the native kernel alone. Timings are wall-clock
 * on whatever else the machine runs; the load average is printed alongside.
 *
 * Environment: BENCH_NEURONS (default 10000), BENCH_REPS (native repetitions, default 5),
 * BENCH_TS (0 skips the TypeScript kernel).
 */
import os from 'node:os';
import {
  createEmulator,
  DEFAULT_EXPERIMENT,
  INFERRED_PARAMETERS,
  type EmulatorMode,
} from '../../main/emulator/index.ts';
import { loadNative, simulateLanesNative } from '../../main/emulator/native.ts';
import { prepareLanes, resolveRequest } from '../../main/emulator/prepare.ts';
import { samplePrior } from '../../main/emulator/prior.ts';

const N = Number(process.env.BENCH_NEURONS ?? 10_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const WITH_TS = process.env.BENCH_TS !== '0';

const theta = samplePrior(N, 'model', 1);
const request = (mode: EmulatorMode) => ({
  theta,
  paramNames: INFERRED_PARAMETERS.map((p) => p.name),
  space: 'model' as const,
  mode,
  stimulus: DEFAULT_EXPERIMENT.stimulus,
  duration: DEFAULT_EXPERIMENT.duration,
  dt: DEFAULT_EXPERIMENT.dt,
  seed: 1,
  chipSeed: 0,
});
const steps = Math.round(DEFAULT_EXPERIMENT.duration / DEFAULT_EXPERIMENT.dt);

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const best = sorted[0];
  const median = sorted[Math.floor(sorted.length / 2)];
  return {
    bestMs: +best.toFixed(2),
    medianMs: +median.toFixed(2),
    neuronStepsPerSec: +((N * steps) / (best / 1000)).toPrecision(4),
    neuronStepsPerSecMedian: +((N * steps) / (median / 1000)).toPrecision(4),
    tracesPerSec: +(N / (best / 1000)).toPrecision(4),
  };
}

async function timeIt(reps: number, fn: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

const results: Record<string, unknown>[] = [];
const loadBefore = os.loadavg();
const native = loadNative();
for (const mode of ['ideal', 'hardware'] as const) {
  if (native.addon) {
    const r = resolveRequest(request(mode));
    const lanes = prepareLanes(r, 0, N);
    const codes = new Int16Array(N * r.samples);
    for (const threads of [1, 2]) {
      const emu = createEmulator({ kernel: 'native', threads });
      await emu.simulate(request(mode)); // warm-up
      const endToEnd = stats(await timeIt(REPS, () => emu.simulate(request(mode))));
      const reusedBuffer = stats(await timeIt(REPS, () => emu.simulate(request(mode), { codes })));
      const kernelOnly = stats(
        await timeIt(REPS, () => simulateLanesNative(native.addon!, threads, false, r, lanes, 0, N, codes)),
      );
      results.push({
        kernel: 'native',
        isa: native.addon.isa(),
        mode,
        threads,
        endToEnd,
        endToEndReusedBuffer: reusedBuffer,
        kernelOnly,
      });
    }
  }
  if (WITH_TS) {
    const emu = createEmulator({ kernel: 'typescript' });
    results.push({
      kernel: 'typescript',
      mode,
      threads: 1,
      endToEnd: stats(await timeIt(1, () => emu.simulate(request(mode)))),
    });
  }
}

process.stdout.write(
  JSON.stringify(
    {
      benchmark: 'emulator',
      neurons: N,
      stepsPerNeuron: steps,
      dtMicroseconds: DEFAULT_EXPERIMENT.dt,
      samplesPerTrace: DEFAULT_EXPERIMENT.samples,
      tracesRecorded: true,
      nativeAvailable: Boolean(native.addon),
      nativeError: native.error,
      cpu: os.cpus()[0]?.model,
      cores: os.availableParallelism(),
      loadAverageBefore: loadBefore.map((x) => +x.toFixed(2)),
      loadAverageAfter: os.loadavg().map((x) => +x.toFixed(2)),
      note: 'wall-clock; best and median of the repetitions; other processes share the cores (see load average)',
      results,
    },
    null,
    2,
  ) + '\n',
);
