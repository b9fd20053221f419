import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError, type CliCommand } from '../cli/command.ts';
import { arrayPairSource } from './data.ts';
import { createEstimator } from './estimator.ts';
import { ESTIMATOR_KINDS, type EstimatorKind } from './contract.ts';
import { train } from './train.ts';
import { badInputAsUsage, numberList, readMatrix, warmupEpochsArg, warmupOption } from './cli-io.ts';
import { projectOption, withProjectOption } from '../store/project-option.ts';

/** `adexwb train`: train a posterior estimator on (theta, x) arrays and save it as ONNX. */
export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Train a neural posterior estimator on simulated (theta, x) pairs',
  details:
    'Rows with NaN or inf are excluded and counted. The output directory (sampler.onnx, log_prob.onnx;\n' +
    'see docs/onnx-contract.md) is written atomically, only when training finishes.',
  options: {
    theta: { type: 'string', required: true, description: 'parameters, .npy [rows, D]' },
    x: { type: 'string', required: true, description: 'simulated observations, .npy [rows, X]' },
    estimator: { type: 'string', default: 'nsf', choices: ESTIMATOR_KINDS, description: 'density estimator' },
    out: { type: 'string', default: 'estimator', description: 'output directory (must not exist)' },
    epochs: { type: 'integer', description: 'maximum number of epochs (default: until early stopping)' },
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
    seed: { type: 'integer', default: 0, description: 'seed of weights, split and shuffling' },
    low: {
      type: 'string',
      multiple: true,
      description: 'prior lower bounds, comma-separated (negative values: --low=-1,-2)',
    },
    high: { type: 'string', multiple: true, description: 'prior upper bounds, one per parameter' },
    names: { type: 'string', multiple: true, description: 'parameter names, one per parameter' },
    units: { type: 'string', multiple: true, description: 'parameter units, one per parameter' },
    checkpoint: { type: 'string', description: 'write a checkpoint file after every epoch' },
    resume: { type: 'boolean', default: false, description: 'continue from --checkpoint' },
    project: projectOption,
  },
  run: (args, io) =>
    badInputAsUsage(async () => {
      const out = args.out as string;
      if (existsSync(out)) throw new UsageError(`--out ${out} already exists; choose a new directory`);
      if (!existsSync(dirname(out) || '.'))
        throw new UsageError(`--out: directory ${dirname(out)} does not exist`);
      if (args.schedule === 'cosine' && args.epochs === undefined)
        throw new UsageError(
          '--schedule cosine needs --epochs N: it lowers the step size over that many epochs',
        );
      if (args.resume && !args.checkpoint) throw new UsageError('--resume needs --checkpoint FILE');
      const warmup = warmupEpochsArg(args.warmup);
      const theta = readMatrix(args.theta as string, '--theta');
      const x = readMatrix(args.x as string, '--x');
      if (theta.rows !== x.rows) {
        throw new UsageError(
          `--theta has ${theta.rows} rows but --x has ${x.rows}; they must match row for row`,
        );
      }
      const low = numberList(args.low, 'low');
      const high = numberList(args.high, 'high');
      if ((low === undefined) !== (high === undefined))
        throw new UsageError('give both --low and --high, or neither');
      const est = createEstimator({
        kind: args.estimator as EstimatorKind,
        thetaDim: theta.cols,
        xDim: x.cols,
        bounds: low && high ? { low, high } : undefined,
        parameterNames: args.names as string[] | undefined,
        parameterUnits: args.units as string[] | undefined,
        seed: args.seed as number,
      });
      const run = await train(est, arrayPairSource(theta.data, x.data, theta.cols, x.cols), {
        maxEpochs: args.epochs as number | undefined,
        fineTuneRounds: args['fine-tune'] as number,
        schedule: args.schedule as 'constant' | 'cosine',
        warmupEpochs: warmup,
        seed: args.seed as number,
        signal: io.signal,
        checkpointPath: args.checkpoint as string | undefined,
        resumeFrom: args.resume ? (args.checkpoint as string) : undefined,
        onProgress: (e) =>
          io.info(
            `epoch ${e.epoch}: train ${e.trainLoss.toFixed(4)}, validation ${e.validationLoss.toFixed(4)} ` +
              `(best ${e.bestValidationLoss.toFixed(4)}, ${e.epochsSinceImprovement} since), ${e.stepsPerSecond.toFixed(0)} steps/s`,
          ),
      });
      if (run.rowsExcluded > 0) {
        io.warn(
          `${run.rowsExcluded} rows with NaN or inf were excluded (e.g. rows ${run.excludedExamples.join(', ')})`,
        );
      }
      if (run.stopReason === 'cancelled') {
        io.warn(
          `cancelled after ${run.epochs} epochs; nothing written${args.checkpoint ? ` (resume from ${args.checkpoint})` : ''}`,
        );
        return 130;
      }
      const posterior = await run.posterior();
      await posterior.save(out);
      const bytes = posterior.modelBytes();
      await posterior.dispose();
      const stored = await withProjectOption(args, (project) =>
        project?.estimators.create({
          name: `${est.kind} on ${args.x as string}`,
          config: {
            estimator: est.kind,
            thetaDim: theta.cols,
            xDim: x.cols,
            parameterNames: (args.names as string[] | undefined) ?? null,
            bounds: low && high ? { low, high } : null,
            seed: args.seed,
            theta: args.theta,
            x: args.x,
            rowsUsed: run.rowsUsed,
            rowsExcluded: run.rowsExcluded,
          },
          // x arrives as given features (no summary network inside the graph).
          summaryType: 'handcrafted',
          status: 'trained',
          history: [run.history],
          graphs: { 'sampler.onnx': bytes.sampler, 'log_prob.onnx': bytes.logProb },
        }),
      );
      io.result({
        out,
        estimator: est.kind,
        epochs: run.epochs,
        bestEpoch: run.bestEpoch,
        bestValidationLoss: run.bestValidationLoss,
        stopReason: run.stopReason,
        rowsUsed: run.rowsUsed,
        rowsExcluded: run.rowsExcluded,
        ...(stored ? { project: args.project, estimatorId: stored.id } : {}),
      });
      return 0;
    }),
};
