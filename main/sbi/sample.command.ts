import { type CliCommand, UsageError } from '../cli/command.ts';
import { writeNpyFile } from '../io/npy.ts';
import { loadPosterior } from './posterior.ts';
import { badInputAsUsage, readMatrix } from './cli-io.ts';
import { projectOption, withProjectOption } from '../store/project-option.ts';

/** `adexwb sample`: posterior samples for one or many observations. */
export const sampleCommand: CliCommand = {
  name: 'sample',
  summary: 'Draw posterior samples for observations from a trained estimator',
  details:
    'x of shape [X] gives samples [N, D]; x of shape [B, X] gives [B, N, D] (all observations in one run).',
  options: {
    estimator: { type: 'string', required: true, description: 'estimator directory written by train' },
    x: { type: 'string', required: true, description: 'observations, .npy [B, X] or [X]' },
    n: { type: 'integer', default: 1000, description: 'samples per observation' },
    out: { type: 'string', required: true, description: 'output .npy file' },
    seed: { type: 'integer', default: 0, description: 'seed of the noise' },
    project: {
      ...projectOption,
      description: `${projectOption.description}; the samples are kept as a 'posterior-samples' artifact`,
    },
  },
  run: (args, io) =>
    badInputAsUsage(async () => {
      const n = args.n as number;
      if (n < 1) throw new UsageError(`--n must be at least 1, got ${n}`);
      const posterior = await loadPosterior(args.estimator as string);
      try {
        const x = readMatrix(args.x as string, '--x', { rowVector: true });
        posterior.checkCompatible({ xDim: x.cols });
        const samples = await posterior.sample(x.data, n, { seed: args.seed as number });
        const d = posterior.thetaDim;
        const shape = x.shape.length === 1 ? [n, d] : [x.rows, n, d];
        writeNpyFile(args.out as string, { dtype: 'float32', shape, data: samples });
        const artifact = await withProjectOption(args, (project) =>
          project?.artifacts.create({
            kind: 'posterior-samples',
            name: `${args.estimator as string} given ${args.x as string}`,
            json: {
              shape,
              parameters: posterior.meta.parameterNames,
              estimator: args.estimator,
              x: args.x,
              xValues: Array.from(x.data),
              seed: args.seed,
              layout: 'float32, row-major, shape as given',
            },
            bytes: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
          }),
        );
        io.result({
          out: args.out,
          shape,
          parameters: posterior.meta.parameterNames,
          ...(artifact ? { project: args.project, artifactId: artifact.id } : {}),
        });
      } finally {
        await posterior.dispose();
      }
      return 0;
    }),
};
