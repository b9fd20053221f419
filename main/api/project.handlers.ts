/**
 * The project area of the API: create, open and close a project file, and summarize what it holds.
 * The workbench keeps one project open for writing in the main process; jobs open their own
 * handle in their worker thread (same process, so they share its writer lock).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  openProject,
  ProjectLockedError,
  ProjectOpenError,
  NotFoundError,
  type Project,
} from '../store/index.ts';
import { importObservation, readObservationFile } from '../store/transfer.ts';
import { ApiError, type ObservationPreview } from './contract.ts';
import type { ObservationData, ProjectSummary } from './project.types.ts';

/** Holder of the open project, shared by every area of the API. */
export class ProjectSession {
  private current: Project | undefined;

  constructor(private readonly onOpened: (file: string) => void) {}

  get project(): Project | undefined {
    return this.current;
  }

  /** The open project, or an ApiError telling the user to open one. */
  require(): Project {
    if (!this.current) throw new ApiError('conflict', 'no project is open: create or open a project first');
    return this.current;
  }

  create(file: string, name?: string): Project {
    const abs = path.resolve(file);
    if (existsSync(abs))
      throw new ApiError('conflict', `${abs} already exists; open it instead, or choose another name`);
    if (!existsSync(path.dirname(abs)))
      throw new ApiError('invalid_argument', `folder ${path.dirname(abs)} does not exist`);
    return this.swap(() => openProject(abs, { create: true, name }));
  }

  open(file: string): Project {
    const abs = path.resolve(file);
    if (!existsSync(abs)) throw new ApiError('not_found', `no such project file: ${abs}`);
    return this.swap(() => openProject(abs));
  }

  close(): boolean {
    if (!this.current) return false;
    this.current.close();
    this.current = undefined;
    return true;
  }

  private swap(open: () => Project): Project {
    let next: Project;
    try {
      next = open();
    } catch (err) {
      if (err instanceof ProjectOpenError || err instanceof ProjectLockedError)
        throw new ApiError('conflict', err.message);
      throw err;
    }
    this.current?.close();
    this.current = next;
    this.onOpened(next.path);
    return next;
  }
}

/** Everything the Project view shows, as plain JSON. */
export function summarize(p: Project): ProjectSummary {
  return {
    overview: p.overview(),
    experiments: p.experiments.list().map((e) => ({
      id: e.id,
      name: e.name,
      createdAt: e.createdAt,
      contentHash: e.contentHash,
      space: e.space,
      backend:
        e.backend.kind === 'emulator'
          ? `emulator (${e.backend.mode}, chip ${e.backend.chipSeed ?? '-'})`
          : `hardware ${'deviceId' in e.backend ? e.backend.deviceId : ''}`,
    })),
    observations: p.observations.list().map((o) => ({
      id: o.id,
      name: o.name,
      createdAt: o.createdAt,
      contentHash: o.contentHash,
      source: o.source,
      traces: o.traces,
      samples: o.samples,
      sampleRate: o.sampleRate,
      unit: o.unit,
      circuitId: o.circuitId,
    })),
    classifiers: p.classifiers
      .list()
      .map((c) => ({ id: c.id, name: c.name, createdAt: c.createdAt, contentHash: c.contentHash })),
    estimators: p.estimators.list().map((e) => ({
      id: e.id,
      name: e.name,
      createdAt: e.createdAt,
      contentHash: e.contentHash,
      summaryType: e.summaryType,
      status: e.status,
      kind: String(
        (e.config as { kind?: string }).kind ?? (e.config as { estimator?: string }).estimator ?? '',
      ),
    })),
    posteriors: p.posteriors.list().map((q) => ({
      id: q.id,
      observationId: q.observationId,
      estimatorId: q.estimatorId,
      samples: q.nSamples,
      createdAt: q.createdAt,
    })),
    reports: p.reports
      .list()
      .map((r) => ({ id: r.id, name: r.title, createdAt: r.createdAt, contentHash: r.contentHash })),
  };
}

/** One observation with its first trace, for the trace viewer. */
export function observationData(p: Project, id: number): ObservationData {
  let o;
  try {
    o = p.observations.get(id);
  } catch (err) {
    if (err instanceof NotFoundError) throw new ApiError('not_found', err.message);
    throw err;
  }
  return {
    id: o.id,
    name: o.name,
    unit: o.unit,
    sampleRate: o.sampleRate,
    traces: o.traces,
    samples: o.samples,
    trace: Array.from(o.data.subarray(0, o.samples)),
    trueTheta: o.trueTheta ? Array.from(o.trueTheta) : null,
    paramNames: o.paramNames,
    circuitId: o.circuitId,
  };
}

/** Turn the file readers' errors (bad format, missing file) into invalid_argument errors. */
function readable<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const e = err as Error & { code?: string };
    if (e.code === 'ENOENT') throw new ApiError('not_found', e.message);
    throw new ApiError('invalid_argument', e.message);
  }
}

/** What an observation file holds (first trace included), without importing it. */
export function previewObservation(file: string, unit: 'codes' | 'volts' | 'auto'): ObservationPreview {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new ApiError('not_found', `no such file: ${abs}`);
  const c = readable(() => readObservationFile(abs, unit));
  return {
    path: abs,
    traces: c.traces,
    samples: c.samples,
    unit: c.unit,
    sampleRate: c.sampleRate ?? null,
    circuitId: c.circuitId ?? null,
    hasTrueTheta: !!c.trueTheta,
    trace: Array.from(c.data.subarray(0, c.samples)),
  };
}

/** Import an observation file into the project. */
export function importObservationFile(
  p: Project,
  opts: {
    path: string;
    name?: string;
    sampleRate?: number;
    unit: 'codes' | 'volts' | 'auto';
    circuitId?: number;
  },
): ObservationData {
  const abs = path.resolve(opts.path);
  if (!existsSync(abs)) throw new ApiError('not_found', `no such file: ${abs}`);
  const obs = readable(() =>
    importObservation(p, abs, {
      name: opts.name,
      sampleRate: opts.sampleRate,
      unit: opts.unit,
      circuitId: opts.circuitId,
    }),
  );
  return observationData(p, obs.id);
}
