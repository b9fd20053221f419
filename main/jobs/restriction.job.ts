/**
 * Background job: the prior restriction as a step of its own. Trains the regime classifier on a
 * simulation set of the project (drawn from a box prior), measures the useful fraction of fresh
 * simulations from the restricted prior, and stores the restriction in the project, where the
 * Train view's pipeline runs pick it up instead of training their own. Nothing is stored when the
 * job is cancelled or fails.
 */
import { createEmulator } from '../emulator/index.ts';
import { restrictFromBatch } from '../pipeline/restriction.ts';
import {
  batchOfSet,
  measureRestriction,
  restrictionRecord,
  type RestrictionStepStats,
} from '../pipeline/stored-restriction.ts';
import { DEFAULT_REGIME } from '../pipeline/regime.ts';
import { openProject } from '../store/index.ts';
import type { JobFunction } from './types.ts';

export interface RestrictionJobParams {
  projectPath: string;
  setId: number;
  regime: { minSpikes: number; maxSpikes: number };
  /** Fraction of in-regime parameter sets the restricted prior may reject. */
  falseNegativeRate: number;
  /** Fresh restricted-prior simulations that measure the useful fraction after restriction. */
  checkSims: number;
  seed: number;
}

export interface RestrictionJobResult extends RestrictionStepStats {
  classifierId: number;
  threshold: number;
}

/** Share of the run per stage, for the progress bar. */
const STAGES: Record<string, [start: number, share: number]> = {
  'restriction: classifier': [0.1, 0.6],
  'restriction: check': [0.7, 0.28],
};

export const restrictionJob: JobFunction<RestrictionJobParams, RestrictionJobResult> = async (p, ctx) => {
  ctx.progress({ fraction: 0.02, message: `reading simulation set ${p.setId}` });
  const project = openProject(p.projectPath);
  try {
    const set = project.simulations.get(p.setId);
    const { exp, batch } = batchOfSet(project, p.setId);
    const regime = { ...DEFAULT_REGIME, ...p.regime };
    const run = {
      signal: ctx.signal,
      onLog: (line: string) => ctx.progress({ message: line }),
      onProgress: (pr: { stage: string; done: number; total: number; loss?: number }) => {
        const [start, share] = STAGES[pr.stage] ?? [0.05, 0.05];
        ctx.progress({
          fraction: start + share * (pr.total > 0 ? Math.min(1, pr.done / pr.total) : 0),
          message: `${pr.stage}: ${pr.done} of ${pr.total}${pr.loss !== undefined ? `, validation loss ${pr.loss.toFixed(3)}` : ''}`,
        });
      },
    };
    const r = await restrictFromBatch(
      exp,
      batch,
      { regime, falseNegativeRate: p.falseNegativeRate, seed: p.seed },
      run,
    );
    try {
      const usefulAfter = await measureRestriction(
        createEmulator(),
        exp,
        r.prior,
        regime,
        p.checkSims,
        p.seed + 500,
        run,
      );
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const record = restrictionRecord(r, {
        experimentId: set.experimentId,
        setId: p.setId,
        mode: exp.mode,
        chipSeed: exp.chipSeed,
        regime: p.regime,
        falseNegativeRate: p.falseNegativeRate,
        usefulAfter,
        checkSims: p.checkSims,
      });
      const stored = project.classifiers.create(record);
      return {
        ...(stored.stats as unknown as RestrictionStepStats),
        classifierId: stored.id,
        threshold: stored.threshold,
      };
    } finally {
      await r.prior.classifier.release();
    }
  } finally {
    project.close();
  }
};
