/**
 * SBI benchmark: training speed (MAF of the default size, one epoch over 100k pairs with theta 7-D,
 * x 20-D, batch 200; NSF and MDN for comparison), sampling speed of each (10,000 samples of one observation; 1,000 samples for each of
 * 512 observations, one call) and accuracy (mean C2ST over the 10 sbibm reference observations of
 * two_moons and gaussian_linear at 10k simulations; 100k with --with-100k). Prints one JSON document.
 *
 * Usage: npm run bench:sbi [-- --skip-accuracy] [-- --with-100k] [-- --estimator nsf] [-- --fine-tune 1]
 *        [-- --pytorch PYTHON]
 * Accuracy uses NSF for two_moons and MAF for gaussian_linear unless --estimator names one for both,
 * with one fine-tuning restart after early stopping (--fine-tune 0 for the sbi toolbox's loop).
 * The MAF trains for 6 epochs (--epochs N); its seconds per epoch are the median of the five
 * after the first, which includes warm-up (all epochs are listed in trainSecondsPerEpochAll).
 * With --pytorch, the given Python (with torch) also trains the same MAF in plain PyTorch
 * (test/bench/pytorch/maf_epoch.py) right after the workbench's MAF, so both epochs are timed in
 * the same phase of the machine (`mafPytorch`, and the ratio in `maf.pytorchRatio`).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { arrayPairSource } from '../../main/sbi/data.ts';
import { createEstimator } from '../../main/sbi/estimator.ts';
import { train } from '../../main/sbi/train.ts';
import { Rng } from '../../main/sbi/rng.ts';
import * as G from '../../main/graph/index.ts';
import { Posterior } from '../../main/sbi/posterior.ts';
import type { EstimatorKind } from '../../main/sbi/contract.ts';
import { validateOnTask, type ValidationResult } from '../../main/sbi/validate.command.ts';

const { values } = parseArgs({
  options: {
    'skip-accuracy': { type: 'boolean', default: false },
    'with-100k': { type: 'boolean', default: false },
    estimator: { type: 'string' },
    'fine-tune': { type: 'string', default: '1' },
    epochs: { type: 'string', default: '6' },
    pytorch: { type: 'string' },
  },
});

const log = (line: string) => process.stderr.write(line + '\n');
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

/** 100k pairs: theta ~ N(0, I_7), x = A theta + 0.1 noise with a fixed random 20x7 matrix A. */
function syntheticPairs(n: number): { theta: Float32Array; x: Float32Array } {
  const r = new Rng(42);
  const a = r.fillNormal(new Float32Array(20 * 7));
  const theta = r.fillNormal(new Float32Array(n * 7));
  const x = new Float32Array(n * 20);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 20; j++) {
      let s = 0;
      for (let k = 0; k < 7; k++) s += a[j * 7 + k] * theta[i * 7 + k];
      x[i * 20 + j] = s + 0.1 * r.normal();
    }
  }
  return { theta, x };
}

async function timeSampling(
  post: Posterior,
): Promise<{ single10kMs: number; batch512x1000Ms: number; workers: number }> {
  const r = new Rng(1);
  const one = r.fillNormal(new Float32Array(20));
  const many = r.fillNormal(new Float32Array(512 * 20));
  // Warm-up: the first calls start the workers and their sessions, and compile the JavaScript
  // on both sides.
  for (let i = 0; i < 3; i++) await post.sample(one, 10_000, { seed: 100 + i });
  const singles: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    await post.sample(one, 10_000, { seed: i });
    singles.push(performance.now() - t);
  }
  await post.sample(many, 1000, { seed: 0 });
  const batches: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await post.sample(many, 1000, { seed: i });
    batches.push(performance.now() - t);
  }
  return {
    single10kMs: median(singles),
    batch512x1000Ms: median(batches),
    workers: await post.workersRunning(),
  };
}

async function speed(kind: EstimatorKind, epochs: number) {
  const { theta, x } = syntheticPairs(100_000);
  const est = createEstimator({ kind, thetaDim: 7, xDim: 20 });
  log(`${kind}: training ${epochs} epoch(s) on 100k pairs`);
  const run = await train(est, arrayPairSource(theta, x, 7, 20), {
    maxEpochs: epochs,
    onProgress: (e) =>
      log(`  epoch ${e.epoch}: ${e.seconds.toFixed(2)} s, ${e.stepsPerSecond.toFixed(0)} steps/s`),
  });
  const steps = Math.ceil(90_000 / 200);
  const allTrainSeconds = run.history.map((h) => steps / h.stepsPerSecond);
  // The first epoch includes the JIT's and onnxruntime's warm-up: reported on its own, and left
  // out of the median when there are later epochs.
  const trainSeconds = allTrainSeconds.length > 1 ? allTrainSeconds.slice(1) : allTrainSeconds;
  const post = await run.posterior();
  const sampling = await timeSampling(post);
  // The same calls with every run in the calling thread's sessions (two intra-op threads).
  const { sampler, logProb } = post.modelBytes();
  await post.dispose();
  const inThread = await Posterior.fromBytes(sampler, logProb, kind, { workers: 0 });
  const samplingInCallingThread = await timeSampling(inThread);
  await inThread.dispose();
  return {
    estimator: kind,
    rows: 100_000,
    trainRows: 90_000,
    batchSize: 200,
    stepsPerEpoch: steps,
    trainSecondsPerEpoch: median(trainSeconds),
    trainSecondsPerEpochAll: allTrainSeconds.map((t) => +t.toFixed(3)),
    epochSecondsWithValidation: median(run.history.map((h) => h.seconds)),
    msPerStep: (1000 * median(trainSeconds)) / steps,
    sampling,
    samplingInCallingThread,
  };
}

/** The estimator per task unless --estimator says otherwise: NSF for two_moons, MAF for gaussian_linear. */
const kindFor = (task: 'two_moons' | 'gaussian_linear'): EstimatorKind =>
  (values.estimator as EstimatorKind | undefined) ?? (task === 'two_moons' ? 'nsf' : 'maf');
const fineTuneRounds = Number(values['fine-tune']);

async function accuracy(task: 'two_moons' | 'gaussian_linear', sims: number) {
  const kind = kindFor(task);
  log(`accuracy: ${task}, ${sims} simulations, ${kind}, ${fineTuneRounds} fine-tuning round(s)`);
  const r: ValidationResult = await validateOnTask({
    task,
    sims,
    estimator: kind,
    fineTuneRounds,
    onInfo: (l) => log(`  ${l}`),
  });
  return {
    estimator: kind,
    fineTuneRounds,
    meanC2st: r.meanC2st,
    perObservation: r.c2st.map((c) => c.accuracy),
    epochs: r.epochs,
    trainSeconds: r.trainSeconds,
  };
}

/**
 * The machine's speed right now: best of 15 runs of a fixed onnxruntime workload (eight 64 x 64
 * ReLU layers on 4,096 rows, 0.27 GFLOP) on one and on two intra-op threads, in ms. This virtual
 * machine's speed changes over the day; the reference tells which phase a run's timings came from.
 */
async function machineReference(): Promise<{ oneThreadMs: number; twoThreadsMs: number }> {
  const g = new G.Graph();
  const x = g.input('x', [4096, 64]);
  const r = new Rng(7);
  let h = x;
  for (let i = 0; i < 8; i++)
    h = G.relu(
      G.matmul(
        h,
        g.constant(
          Array.from(r.fillNormal(new Float32Array(4096))).map((v) => v / 8),
          [64, 64],
        ),
      ),
    );
  const model = G.emitModel({ outputs: { y: G.sum(h) } });
  const input = r.fillNormal(new Float32Array(4096 * 64));
  const best = async (threads: number) => {
    const session = await G.Session.create(model, { threads });
    for (let i = 0; i < 5; i++) await session.run({ x: input });
    let min = Infinity;
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      await session.run({ x: input });
      min = Math.min(min, performance.now() - t);
    }
    await session.release();
    return +min.toFixed(3);
  };
  return { oneThreadMs: await best(1), twoThreadsMs: await best(2) };
}

/** The same MAF's epoch in plain PyTorch (test/bench/pytorch/maf_epoch.py), run by `python`. */
function pytorchEpoch(python: string): {
  torch: string;
  threads: number;
  secondsPerEpoch: number[];
  medianAfterFirst: number;
} {
  const script = path.join(import.meta.dirname, 'pytorch', 'maf_epoch.py');
  log(`maf in PyTorch: ${python} ${script}`);
  const r = spawnSync(python, [script, '--epochs', '4'], { encoding: 'utf8' });
  if (r.error) throw new Error(`--pytorch: cannot run ${python}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `--pytorch: ${python} ${script} failed (exit code ${r.status}): ${r.stderr.trim().split('\n').at(-1)}`,
    );
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`--pytorch: ${script} printed no JSON document: ${r.stdout.slice(0, 200)}`);
  }
}

const started = Date.now();
const result: Record<string, unknown> = {
  conditions: {
    cpus: os.cpus().length,
    loadAverageAtStart: os.loadavg()[0],
    referenceAtStart: await machineReference(),
    note: 'wall-clock timings on a shared machine; other work running at the same time inflates them',
  },
  targets: {
    mafTrainSecondsPerEpoch: 0.7,
    single10kMs: 20,
    batch512x1000Ms: 1000,
    c2st: {
      two_moons_10k: 0.58,
      gaussian_linear_10k: 0.54,
      two_moons_100k: 0.53,
      gaussian_linear_100k: 0.505,
    },
  },
};
const epochs = Number(values.epochs);
result.maf = await speed('maf', epochs);
if (values.pytorch) {
  const torch = pytorchEpoch(values.pytorch);
  result.mafPytorch = torch;
  const maf = result.maf as { trainSecondsPerEpoch: number; pytorchRatio?: number };
  maf.pytorchRatio = +(maf.trainSecondsPerEpoch / torch.medianAfterFirst).toFixed(3);
}
result.nsf = await speed('nsf', 1);
result.mdn = await speed('mdn', 1);
if (!values['skip-accuracy']) {
  const acc: Record<string, unknown> = {};
  acc.two_moons_10k = await accuracy('two_moons', 10_000);
  acc.gaussian_linear_10k = await accuracy('gaussian_linear', 10_000);
  if (values['with-100k']) {
    acc.two_moons_100k = await accuracy('two_moons', 100_000);
    acc.gaussian_linear_100k = await accuracy('gaussian_linear', 100_000);
  }
  result.accuracy = acc;
}
(result.conditions as Record<string, unknown>).referenceAtEnd = await machineReference();
result.totalSeconds = (Date.now() - started) / 1000;
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
