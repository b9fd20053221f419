/**
 * A project: one SQLite file holding a lab's experiments, simulation sets, observations, trained
 * models, posteriors, reports and artifacts, each stamped with creation time, content hash and
 * workbench version. See index.ts for the public API.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { StoreDb } from './db.ts';
import { openDatabase } from './open.ts';
import type { ProjectLock } from './lock.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { ExperimentRepository } from './experiments.ts';
import { SimulationRepository } from './simulations.ts';
import { ObservationRepository } from './observations.ts';
import { ClassifierRepository, EstimatorRepository } from './estimators.ts';
import { ArtifactRepository, PosteriorRepository, ReportRepository } from './results.ts';

/** Options of `openProject`. */
export interface OpenProjectOptions {
  /** Create the file when it does not exist (default false). */
  create?: boolean;
  /** Open without the writer lock and without writing anything (default false). */
  readonly?: boolean;
  /** Name stored in a new project's meta table (default: the file name). */
  name?: string;
}

/** Counts and sizes of everything in a project, for `project info` and the UI overview. */
export interface ProjectOverview {
  path: string;
  name: string;
  schemaVersion: number;
  createdAt: string;
  createdBy: string;
  fileBytes: number;
  /** Size of the write-ahead log next to the file (pages not yet copied into it). */
  walBytes: number;
  readonly: boolean;
  counts: Record<
    | 'experiments'
    | 'simulationSets'
    | 'simulatedTraces'
    | 'observations'
    | 'classifiers'
    | 'estimators'
    | 'posteriors'
    | 'reports'
    | 'artifacts',
    number
  >;
  /** Bytes of stored data per kind (blob and text payloads, not counting SQLite overhead). */
  dataBytes: Record<'traces' | 'observations' | 'graphs' | 'posteriors' | 'reports' | 'artifacts', number>;
  simulationSets: {
    id: number;
    name: string;
    source: string;
    rows: number;
    samplesPerTrace: number;
    params: number;
  }[];
}

/** An open project. Synchronous; use from one thread (open another handle in a worker). */
export class Project {
  readonly experiments: ExperimentRepository;
  readonly simulations: SimulationRepository;
  readonly observations: ObservationRepository;
  readonly classifiers: ClassifierRepository;
  readonly estimators: EstimatorRepository;
  readonly posteriors: PosteriorRepository;
  readonly reports: ReportRepository;
  readonly artifacts: ArtifactRepository;
  /** Schema version the file had before this open (0: created now; below SCHEMA_VERSION: upgraded now). */
  readonly versionBefore: number;
  private readonly s: StoreDb;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    private readonly lock: ProjectLock | undefined,
    versionBefore: number,
    readonly readonly: boolean,
  ) {
    this.s = new StoreDb(db, readonly);
    this.versionBefore = versionBefore;
    this.experiments = new ExperimentRepository(this.s);
    this.simulations = new SimulationRepository(this.s);
    this.observations = new ObservationRepository(this.s);
    this.classifiers = new ClassifierRepository(this.s);
    this.estimators = new EstimatorRepository(this.s);
    this.posteriors = new PosteriorRepository(this.s);
    this.reports = new ReportRepository(this.s);
    this.artifacts = new ArtifactRepository(this.s);
  }

  /** Open a project file; see `openProject` in index.ts. */
  static open(path: string, opts: OpenProjectOptions = {}): Project {
    const { db, lock, versionBefore } = openDatabase(path, opts);
    const p = new Project(path, db, lock, versionBefore, !!opts.readonly);
    if (versionBefore === 0 && !opts.readonly)
      p.setMeta('name', opts.name ?? basename(path).replace(/\.[^.]+$/, ''));
    return p;
  }

  /** A value of the meta table (name, created_at, workbench_version ...). */
  meta(key: string): string | undefined {
    return (this.s.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
      ?.value;
  }

  /** Set a value of the meta table. */
  setMeta(key: string, value: string): void {
    this.s.assertWritable('change project metadata');
    this.s
      .stmt(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** Run several repository calls as one atomic unit (no awaits inside `fn`). */
  transaction<T>(fn: () => T): T {
    return this.s.tx(fn);
  }

  /** Counts, sizes and the list of simulation sets. */
  overview(): ProjectOverview {
    const one = (sql: string) => (this.s.stmt(sql).get() as { n: number | null }).n ?? 0;
    const sets = this.simulations.list();
    return {
      path: this.path,
      name: this.meta('name') ?? basename(this.path),
      schemaVersion: SCHEMA_VERSION,
      createdAt: this.meta('created_at') ?? '',
      createdBy: this.meta('workbench_version') ?? '',
      fileBytes: statSync(this.path).size,
      walBytes: existsSync(`${this.path}-wal`) ? statSync(`${this.path}-wal`).size : 0,
      readonly: this.readonly,
      counts: {
        experiments: one('SELECT count(*) AS n FROM experiments'),
        simulationSets: sets.length,
        simulatedTraces: sets.reduce((a, s) => a + s.rows, 0),
        observations: one('SELECT count(*) AS n FROM observations'),
        classifiers: one('SELECT count(*) AS n FROM restriction_classifiers'),
        estimators: one('SELECT count(*) AS n FROM estimators'),
        posteriors: one('SELECT count(*) AS n FROM posteriors'),
        reports: one('SELECT count(*) AS n FROM reports'),
        artifacts: one('SELECT count(*) AS n FROM artifacts'),
      },
      dataBytes: {
        traces: one(
          'SELECT sum(length(theta) + length(codes) + length(spike_counts) + length(spike_times)) AS n FROM simulation_chunks',
        ),
        observations: one('SELECT sum(length(data)) AS n FROM observations'),
        graphs: one(
          'SELECT (SELECT coalesce(sum(length(onnx)), 0) FROM estimator_graphs) + (SELECT coalesce(sum(length(onnx)), 0) FROM restriction_classifiers) AS n',
        ),
        posteriors: one('SELECT sum(length(samples)) AS n FROM posteriors'),
        reports: one('SELECT sum(length(CAST(html AS BLOB))) AS n FROM reports'),
        artifacts: one(
          'SELECT sum(coalesce(length(blob), 0) + coalesce(length(CAST(json AS BLOB)), 0)) AS n FROM artifacts',
        ),
      },
      simulationSets: sets.map((s) => ({
        id: s.id,
        name: s.name,
        source: s.source,
        rows: s.rows,
        samplesPerTrace: s.samplesPerTrace,
        params: s.paramNames.length,
      })),
    };
  }

  /**
   * Copy the whole project to `dest` while it stays open (SQLite online backup), atomically: the
   * copy is written next to `dest` and renamed into place when complete.
   */
  async backup(dest: string): Promise<void> {
    const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
    try {
      await this.db.backup(tmp);
      renameSync(tmp, dest);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    } finally {
      rmSync(`${tmp}-wal`, { force: true });
      rmSync(`${tmp}-shm`, { force: true });
    }
  }

  /**
   * Give the space of deleted sets and results back to the file system (SQLite VACUUM; rewrites the
   * whole file, so it takes as long as copying it). Needs no other open reader in this process.
   */
  compact(): void {
    this.s.assertWritable('compact the project');
    this.db.exec('VACUUM');
    this.db.pragma('wal_checkpoint(TRUNCATE)'); // move the rewritten pages into the file, empty the log
  }

  /** Result of SQLite's `PRAGMA integrity_check`: 'ok' or the list of problems. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  }

  /** Close the connection (checkpointing the write-ahead log) and release the writer lock. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.readonly) this.db.pragma('optimize');
      this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
