/**
 * The pipeline area of the API: start a pipeline run (optionally on a stored restriction), list
 * the runs that stopped with checkpoints, resume or discard one, and train a restriction as a step
 * of its own. Everything is checked against the open project before a job starts, so a run that
 * cannot work is refused with a message saying why.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { JobRunner } from '../jobs/runner.ts';
import type { PipelineJobParams } from '../jobs/pipeline.job.ts';
import {
  checkCheckpoints,
  listStoppedRuns,
  readManifest,
  removeRun,
  runDir,
  type RunManifest,
} from '../jobs/pipeline-runs.ts';
import type { RestrictionJobParams } from '../jobs/restriction.job.ts';
import { isRestrictionStep, type RestrictionStepStats } from '../pipeline/stored-restriction.ts';
import type { Project } from '../store/index.ts';
import { ApiError, type ParsedArgs, type StoppedRun } from './contract.ts';
import { notFound } from './results.handlers.ts';

type StartJob = (kind: string, label: string, file: string, fn: string, params: unknown) => { id: string };

const sameNumbers = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Pipeline runs of the workbench: which run each pipeline job is, so running runs are never resumed twice. */
export class PipelineRuns {
  private readonly jobs = new Map<string, string>();

  constructor(
    private readonly runner: JobRunner,
    private readonly startJob: StartJob,
  ) {}

  /** Run ids whose job is still running. */
  running(): Set<string> {
    const out = new Set<string>();
    for (const [runId, jobId] of this.jobs) if (this.runner.get(jobId)?.state === 'running') out.add(runId);
    return out;
  }

  start(p: Project, args: ParsedArgs<'pipeline:start'>): { jobId: string; runId: string } {
    if (args.regime && args.regime.maxSpikes < args.regime.minSpikes)
      throw new ApiError('invalid_argument', 'regime: maxSpikes must be at least minSpikes');
    if (args.restrictionId !== undefined) checkRestriction(p, args);
    const runId = randomUUID();
    return this.launch(
      p,
      { ...args, runId },
      `Pipeline: ${args.sims.toLocaleString('en')} simulations, both estimators`,
    );
  }

  resume(p: Project, runId: string): { jobId: string; runId: string } {
    if (this.running().has(runId))
      throw new ApiError('conflict', `run ${runId} is running; it cannot be resumed now`);
    const dir = runDir(p.path, runId);
    let manifest: RunManifest;
    try {
      manifest = readManifest(dir);
      checkCheckpoints(dir, manifest);
    } catch (err) {
      throw new ApiError(existsSync(dir) ? 'conflict' : 'not_found', (err as Error).message);
    }
    const params = manifest.params as Omit<PipelineJobParams, 'projectPath' | 'resume'>;
    if (params.restrictionId !== undefined) {
      try {
        p.classifiers.get(params.restrictionId);
      } catch {
        throw new ApiError(
          'conflict',
          `run ${runId} cannot be resumed: the stored restriction ${params.restrictionId} it used no longer exists in the project`,
        );
      }
    }
    return this.launch(
      p,
      { ...params, runId, resume: true },
      `Pipeline (resumed): ${params.sims.toLocaleString('en')} simulations, both estimators`,
    );
  }

  discard(p: Project, runId: string): { discarded: boolean } {
    if (this.running().has(runId)) throw new ApiError('conflict', `run ${runId} is running; cancel it first`);
    const dir = runDir(p.path, runId);
    if (!existsSync(dir)) return { discarded: false };
    removeRun(dir);
    return { discarded: true };
  }

  list(p: Project): StoppedRun[] {
    return listStoppedRuns(p.path, this.running());
  }

  restriction(p: Project, args: ParsedArgs<'restriction:start'>, startJob: StartJob): { jobId: string } {
    if (args.regime.maxSpikes < args.regime.minSpikes)
      throw new ApiError('invalid_argument', 'regime: maxSpikes must be at least minSpikes');
    const set = notFound(() => p.simulations.get(args.setId));
    if (!(set.meta as { box?: unknown }).box)
      throw new ApiError(
        'invalid_argument',
        `simulation set ${set.id} (${set.name}) was not drawn from a box prior; choose a set simulated in the Simulate view`,
      );
    if (set.rows < 100)
      throw new ApiError(
        'invalid_argument',
        `simulation set ${set.id} has ${set.rows} simulations; at least 100 are needed`,
      );
    const params: RestrictionJobParams = { projectPath: p.path, ...args };
    const { id } = startJob(
      'restriction',
      `Restriction on set ${set.id} (${set.rows.toLocaleString('en')} simulations)`,
      'restriction.job.ts',
      'restrictionJob',
      params,
    );
    return { jobId: id };
  }

  private launch(
    p: Project,
    params: Omit<PipelineJobParams, 'projectPath'>,
    label: string,
  ): { jobId: string; runId: string } {
    const full: PipelineJobParams = { projectPath: p.path, ...params };
    const { id } = this.startJob('pipeline', label, 'pipeline.job.ts', 'pipelineJob', full);
    this.jobs.set(params.runId, id);
    return { jobId: id, runId: params.runId };
  }
}

/** A pipeline run on a stored restriction must simulate what the restriction was trained on. */
function checkRestriction(p: Project, args: ParsedArgs<'pipeline:start'>): void {
  const c = notFound(() => p.classifiers.get(args.restrictionId!));
  if (!isRestrictionStep(c))
    throw new ApiError(
      'invalid_argument',
      `restriction classifier ${c.id} was stored by a pipeline run; use one trained in the Simulate view`,
    );
  const s = c.stats as unknown as RestrictionStepStats;
  const box = c.config.box as { low: number[]; high: number[] };
  if (s.mode !== args.mode || (s.mode === 'hardware' && s.chipSeed !== args.chipSeed))
    throw new ApiError(
      'invalid_argument',
      `restriction ${c.id} was trained on ${s.mode}-mode simulations${s.mode === 'hardware' ? ` of chip seed ${s.chipSeed}` : ''}; ` +
        `this run simulates ${args.mode} mode${args.mode === 'hardware' ? ` on chip seed ${args.chipSeed}` : ''}`,
    );
  if (args.box && !(sameNumbers(args.box.low, box.low) && sameNumbers(args.box.high, box.high)))
    throw new ApiError(
      'invalid_argument',
      `restriction ${c.id} was trained on another prior box than the one given`,
    );
  if (
    args.regime &&
    (args.regime.minSpikes !== s.regime.minSpikes || args.regime.maxSpikes !== s.regime.maxSpikes)
  )
    throw new ApiError(
      'invalid_argument',
      `restriction ${c.id} was trained for the regime ${s.regime.minSpikes}-${s.regime.maxSpikes} spikes, not ${args.regime.minSpikes}-${args.regime.maxSpikes}`,
    );
}
