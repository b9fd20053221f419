import { type CliCommand, UsageError } from '../cli/command.ts';
import { writeNpyFile } from '../io/npy.ts';
import { loadPosterior } from './posterior.ts';
import { badInputAsUsage, readMatrix } from './cli-io.ts';

/** `adexwb logprob`: posterior log-densities of parameter sets. */
export const logprobCommand: CliCommand = {
  name: 'logprob',
  summary: 'Evaluate posterior log-densities of parameter sets under a trained estimator',
  details:
    'theta [N, D] with x [X] or [1, X]: N values under one observation. theta [M, D] with x [M, X]: one\n' +
    'value per row pair. theta [B, N, D] with x [B, X]: values [B, N]. -inf outside prior bounds.',
  options: {
    estimator: { type: 'string', required: true, description: 'estimator directory written by train' },
    theta: { type: 'string', required: true, description: 'parameter sets, .npy' },
    x: { type: 'string', required: true, description: 'observations, .npy' },
    out: { type: 'string', required: true, description: 'output .npy file' },
  },
  run: (args, io) =>
    badInputAsUsage(async () => {
      const posterior = await loadPosterior(args.estimator as string);
      try {
        const theta = readMatrix(args.theta as string, '--theta', { allow3d: true });
        const x = readMatrix(args.x as string, '--x', { rowVector: true });
        posterior.checkCompatible({ xDim: x.cols, thetaDim: theta.cols });
        const ok =
          theta.shape.length === 3 ? theta.shape[0] === x.rows : x.rows === 1 || x.rows === theta.rows;
        if (!ok) {
          throw new UsageError(
            `--theta of shape [${theta.shape.join(', ')}] does not pair with --x of ${x.rows} observation(s) (see --help)`,
          );
        }
        const lp = await posterior.logProb(theta.data, x.data);
        const shape = theta.shape.length === 3 ? theta.shape.slice(0, 2) : [theta.rows];
        writeNpyFile(args.out as string, { dtype: 'float32', shape, data: lp });
        io.result({ out: args.out, shape });
      } finally {
        await posterior.dispose();
      }
      return 0;
    }),
};
