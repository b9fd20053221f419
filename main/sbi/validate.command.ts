import { UsageError, type CliCommand } from '../cli/command.ts';
import { c2st } from '../diagnostics/c2st.ts';
import { arrayPairSource } from './data.ts';
import { createEstimator } from './estimator.ts';
import { ESTIMATOR_KINDS, type EstimatorKind } from './contract.ts';
import { train } from './train.ts';
import { Rng } from './rng.ts';
import { defaultReferenceRoot, getTask, loadReference, TASK_NAMES, type TaskName } from './tasks.ts';
import { badInputAsUsage, warmupEpochsArg, warmupOption } from './cli-io.ts';

/** Result of a validation run on one sbibm task. */
export interface ValidationResult {
  task: TaskName;
  estimator: EstimatorKind;
  sims: number;
  epochs: number;
  trainSeconds: number;
  c2st: { observation: number; accuracy: number }[];
  meanC2st: number;
}

/**
 * Simulate `sims` pairs of an sbibm task, train an estimator once (amortized), draw `samples`
 * posterior samples for each reference observation (one sampler call) and score each against the
 * reference posterior samples with C2ST.
 */
export async function validateOnTask(opts: {
  task: TaskName;
  sims: number;
  estimator?: EstimatorKind;
  reference?: string;
  seed?: number;
  observations?: number[];
  samples?: number;
  maxEpochs?: number;
  /** Fine-tuning restarts at a tenth of the learning rate (train.ts). */
  fineTuneRounds?: number;
  /** Step-size schedule (train.ts); `cosine` needs `maxEpochs`. */
  schedule?: 'constant' | 'cosine';
  /** Linear step-size warm-up in epochs (train.ts). */
  warmupEpochs?: number;
  signal?: AbortSignal;
  onInfo?: (line: string) => void;
}): Promise<ValidationResult> {
  const task = getTask(opts.task);
  const root = opts.reference ?? defaultReferenceRoot();
  const obsNums = opts.observations ?? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const refs = obsNums.map((n) => loadReference(opts.task, n, root));
  const kind = opts.estimator ?? 'nsf';
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const theta = task.samplePrior(opts.sims, rng);
  const x = task.simulate(theta, rng);
  const est = createEstimator({ kind, thetaDim: task.thetaDim, xDim: task.xDim, bounds: task.bounds, seed });
  const t0 = performance.now();
  const run = await train(est, arrayPairSource(theta, x, task.thetaDim, task.xDim), {
    seed,
    maxEpochs: opts.maxEpochs,
    fineTuneRounds: opts.fineTuneRounds,
    schedule: opts.schedule,
    warmupEpochs: opts.warmupEpochs,
    signal: opts.signal,
    onProgress: (e) =>
      e.epoch % 10 === 0 &&
      opts.onInfo?.(
        `epoch ${e.epoch}: validation ${e.validationLoss.toFixed(4)} (best ${e.bestValidationLoss.toFixed(4)})`,
      ),
  });
  if (run.stopReason === 'cancelled') throw new Error('validation cancelled');
  const trainSeconds = (performance.now() - t0) / 1000;
  opts.onInfo?.(`trained ${run.epochs} epochs in ${trainSeconds.toFixed(1)} s (${run.stopReason})`);
  const posterior = await run.posterior();
  const n = opts.samples ?? 10_000;
  const xs = new Float32Array(refs.length * task.xDim);
  refs.forEach((r, i) => xs.set(r.observation, i * task.xDim));
  const samples = await posterior.sample(xs, n, { seed: seed + 1 });
  await posterior.dispose();
  const scores: { observation: number; accuracy: number }[] = [];
  const d = task.thetaDim;
  for (const [i, r] of refs.entries()) {
    const { accuracy } = await c2st(r.samples, samples.subarray(i * n * d, (i + 1) * n * d), d);
    scores.push({ observation: obsNums[i], accuracy });
    opts.onInfo?.(`observation ${obsNums[i]}: C2ST ${accuracy.toFixed(3)}`);
  }
  return {
    task: opts.task,
    estimator: kind,
    sims: opts.sims,
    epochs: run.epochs,
    trainSeconds,
    c2st: scores,
    meanC2st: scores.reduce((a, s) => a + s.accuracy, 0) / scores.length,
  };
}

/** `adexwb validate`: accuracy check on an sbibm task against its reference posteriors. */
export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'Train on an sbibm task and score the posterior against reference samples (C2ST)',
  details:
    'C2ST: 0.5 means indistinguishable from the reference posterior. Published NPE at 10k simulations:\n' +
    'two_moons 0.606, gaussian_linear 0.552.',
  options: {
    task: { type: 'string', required: true, choices: TASK_NAMES, description: 'sbibm task' },
    sims: { type: 'integer', default: 10000, description: 'number of simulations to train on' },
    estimator: { type: 'string', default: 'nsf', choices: ESTIMATOR_KINDS, description: 'density estimator' },
    reference: {
      type: 'string',
      description: 'sbibm reference directory (default ../shared/reference/sbibm)',
    },
    observations: {
      type: 'string',
      multiple: true,
      description: 'reference observation numbers (default 1-10)',
    },
    samples: { type: 'integer', default: 10000, description: 'posterior samples per observation' },
    epochs: { type: 'integer', description: 'maximum epochs (default: until early stopping)' },
    'fine-tune': {
      type: 'integer',
      default: 0,
      description:
        'after early stopping, continue N times from the best parameters at a tenth of the step size',
    },
    schedule: {
      type: 'string',
      default: 'constant',
      choices: ['constant', 'cosine'],
      description: 'step-size schedule; cosine decays it to a hundredth over --epochs (which it needs)',
    },
    warmup: warmupOption,
    seed: { type: 'integer', default: 0, description: 'seed of simulation, training and sampling' },
  },
  run: (args, io) =>
    badInputAsUsage(async () => {
      const sims = args.sims as number;
      if (args.schedule === 'cosine' && args.epochs === undefined)
        throw new UsageError(
          '--schedule cosine needs --epochs N: it lowers the step size over that many epochs',
        );
      if (sims < 20) throw new UsageError(`--sims must be at least 20, got ${sims}`);
      const warmupEpochs = warmupEpochsArg(args.warmup);
      const obs = (args.observations as string[] | undefined)?.map((s) => {
        const v = Number(s);
        if (!Number.isInteger(v) || v < 1 || v > 10)
          throw new UsageError(`--observations: '${s}' is not a number 1-10`);
        return v;
      });
      let res: ValidationResult;
      try {
        res = await validateOnTask({
          task: args.task as TaskName,
          sims,
          estimator: args.estimator as EstimatorKind,
          reference: args.reference as string | undefined,
          observations: obs,
          samples: args.samples as number,
          maxEpochs: args.epochs as number | undefined,
          fineTuneRounds: args['fine-tune'] as number,
          schedule: args.schedule as 'constant' | 'cosine',
          warmupEpochs,
          seed: args.seed as number,
          signal: io.signal,
          onInfo: (l) => io.info(l),
        });
      } catch (err) {
        if ((err as Error).message.startsWith('reference observation not found'))
          throw new UsageError((err as Error).message);
        throw err;
      }
      io.result(res, (r: ValidationResult) =>
        [
          ...r.c2st.map((s) => `obs ${s.observation}: C2ST ${s.accuracy.toFixed(3)}`),
          `mean C2ST (${r.task}, ${r.estimator}, ${r.sims} sims): ${r.meanC2st.toFixed(3)}`,
        ].join('\n'),
      );
      return 0;
    }),
};
