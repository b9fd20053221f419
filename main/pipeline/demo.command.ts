/**
 * `adexwb demo`: the paper's pipeline on the embedded emulator with progress output, ending with the
 * comparison table of the handcrafted-summary and learned-summary estimators.
 */
import { existsSync } from 'node:fs';
import { UsageError, type CliCommand } from '../cli/command.ts';
import { createEmulator } from '../emulator/index.ts';
import { openProject } from '../store/index.ts';
import { PIPELINE_MAX_EPOCHS, releasePosteriors } from './estimators.ts';
import { storePipelineResult } from './persist.ts';
import {
  DEFAULT_COMPARE_OBSERVATIONS,
  DEFAULT_PIPELINE_SIMS,
  formatComparisonTable,
  runPipeline,
  type PipelineOptions,
} from './pipeline.ts';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'Run the paper pipeline on the emulator and compare handcrafted vs learned summaries',
  details:
    'Restricts the prior with a classifier, simulates the training set, trains both estimators with the same\n' +
    'density estimator and budget, calibrates them (SBC, expected coverage), compares them on held-out\n' +
    'simulations (posterior width, predictive spike-count and trace error) and infers a whole emulated chip.\n' +
    'The default budget is sized for about 10 minutes on 2 cores; --sims scales it.',
  options: {
    project: { type: 'string', description: 'Store everything in this project file (created if missing)' },
    sims: {
      type: 'integer',
      default: DEFAULT_PIPELINE_SIMS,
      description: 'Training simulations from the restricted prior',
    },
    'held-out': { type: 'integer', default: 2000, description: 'Held-out simulations for calibration' },
    compare: {
      type: 'integer',
      default: DEFAULT_COMPARE_OBSERVATIONS,
      description: 'Held-out observations compared in detail',
    },
    estimator: {
      type: 'string',
      default: 'mdn',
      choices: ['maf', 'nsf', 'mdn'],
      description: 'Density estimator of both',
    },
    ensemble: { type: 'integer', default: 1, description: 'Independently trained members per estimator' },
    epochs: {
      type: 'integer',
      default: PIPELINE_MAX_EPOCHS,
      description: 'Maximum training epochs per member',
    },
    seed: { type: 'integer', default: 1, description: 'Seed of prior draws, noise and training' },
  },
  async run(args, io) {
    const sims = args.sims as number;
    if (sims < 200) throw new UsageError(`--sims must be at least 200, got ${sims}`);
    for (const k of ['held-out', 'compare', 'ensemble', 'epochs'] as const) {
      if ((args[k] as number) < 1) throw new UsageError(`--${k} must be at least 1, got ${args[k]}`);
    }
    const path = args.project as string | undefined;
    // Open (or create) the project first so a locked or corrupt file fails before minutes of work.
    const project = path ? openProject(path, { create: !existsSync(path) }) : null;
    try {
      const opts: PipelineOptions = {
        sims,
        heldOut: args['held-out'] as number,
        compareObservations: args.compare as number,
        seed: args.seed as number,
        training: {
          kind: args.estimator as 'maf' | 'nsf' | 'mdn',
          ensemble: args.ensemble as number,
          maxEpochs: args.epochs as number,
        },
      };
      const backend = createEmulator({ warn: (m) => io.warn(m) });
      io.info(`backend: ${backend.info().id}`);
      const t0 = performance.now();
      let lastStage = '';
      let lastPrint = 0;
      const result = await runPipeline(backend, opts, {
        signal: io.signal,
        onLog: (line) => io.info(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${line}`),
        onProgress: (p) => {
          const now = performance.now();
          if (p.stage === lastStage && now - lastPrint < 2000 && p.done < p.total) return;
          lastStage = p.stage;
          lastPrint = now;
          const loss = p.loss !== undefined ? `, loss ${p.loss.toFixed(3)}` : '';
          io.info(`[${((now - t0) / 1000).toFixed(0)} s] ${p.stage}: ${p.done}/${p.total}${loss}`);
        },
      });
      const ids = project ? storePipelineResult(project, result) : null;
      const summary = {
        seconds: { total: (performance.now() - t0) / 1000, ...result.seconds },
        usefulBefore: result.restriction.usefulBefore,
        usefulAfter: result.usefulAfter,
        trainingRows: result.trainingRows,
        heldOutRows: result.heldOutRows,
        estimators: result.reports.map((r) => ({
          kind: r.kind,
          trainingSeconds: r.trainingSeconds,
          epochs: r.epochs,
          bestValidationLoss: r.bestValidationLoss,
          relativeWidth: Object.fromEntries(
            result.experiment.paramNames.map((n, j) => [n, r.relativeWidth[j]]),
          ),
          contraction: r.contraction,
          spikeCountError: r.spikeCountError,
          traceRmse: r.traceRmse,
          expectedCoverageError: r.calibration.hpd?.maxError ?? null,
          // Coverage minus level where the error is largest: negative is overconfident.
          expectedCoverageWorstSigned: r.calibration.hpd?.worstSigned ?? null,
          marginalCoverageError: Math.max(...r.calibration.marginal.map((m) => m.maxError)),
          sbcPass: r.sbc.pass,
          heldOutLogProb: r.calibration.meanLogProb,
          truthCoverage90: r.truthCoverage90,
          chipInferenceSeconds: r.chip?.inferenceSeconds ?? null,
          chipSpread: r.chip?.spread ?? null,
        })),
        differences: result.differences,
        stored: ids,
        table: formatComparisonTable(result),
      };
      io.result(summary, (s: typeof summary) =>
        [
          `useful simulations: ${(100 * s.usefulBefore).toFixed(1)}% under the box prior, ${(100 * s.usefulAfter).toFixed(1)}% after restriction`,
          `trained on ${s.trainingRows} simulations, calibrated on ${s.heldOutRows} held-out simulations, ${s.seconds.total.toFixed(0)} s in all`,
          '',
          s.table,
          ...(s.stored
            ? [
                '',
                `stored in ${path}: experiment ${s.stored.experimentId}, estimators ${s.stored.estimatorIds.join(', ')}`,
              ]
            : []),
        ].join('\n'),
      );
      await releasePosteriors(result.estimators.flatMap((e) => e.members));
      await result.restriction.prior.classifier.release();
      return 0;
    } finally {
      project?.close();
    }
  },
};
