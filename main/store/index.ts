/**
 * The project store: one SQLite file per project (WAL journal, foreign keys on, versioned schema)
 * with typed repositories for everything the workbench makes. No SQL lives outside main/store/.
 *
 * @example
 * const project = openProject('lab.adexproj', { create: true });
 * try {
 *   const exp = project.experiments.create({ name: 'step 0.5 nA', stimulus, fixed: {}, prior, backend: { kind: 'emulator', mode: 'hardware', chipSeed: 1 }, space: 'model', duration: 200 });
 *   const set = project.simulations.create({ name: 'prior', source: 'emulator', experimentId: exp.id, paramNames: prior.names, samplesPerTrace: 1000, sampleRate: 29.4e6 });
 *   project.simulations.append(set.id, { theta, ...result, seed });   // one atomic batch
 *   const reader = project.simulations.openReader(set.id);            // streaming mini-batches
 *   for (const batch of reader.epoch(200, { seed: 1 })) train(batch.theta, batch.codes);
 * } finally {
 *   project.close();
 * }
 *
 * Concurrency: one process holds a project for writing (a second one gets ProjectLockedError
 * naming the holder); any number may open it with `{ readonly: true }` at the same time. Crash
 * safety: every multi-step write (a simulation batch, an estimator with its graphs, a migration)
 * is one transaction, so after a crash it is wholly present or absent.
 */
import { Project, type OpenProjectOptions } from './project.ts';

/**
 * Open the project at `path`. Throws ProjectOpenError (not a project, truncated or corrupt, newer
 * schema, missing) without changing the file, or ProjectLockedError when another process holds it
 * for writing. Opening for writing upgrades an older schema in one transaction.
 */
export function openProject(path: string, opts: OpenProjectOptions = {}): Project {
  return Project.open(path, opts);
}

export { Project, type OpenProjectOptions, type ProjectOverview } from './project.ts';
export { projectOption, withProjectOption } from './project-option.ts';
export { ProjectOpenError, inspectProjectFile, type OpenFailure } from './open.ts';
export { ProjectLockedError, type LockHolder } from './lock.ts';
export { NotFoundError, type Provenance } from './db.ts';
export { SCHEMA_VERSION, APPLICATION_ID } from './migrations.ts';
export type { Experiment, ExperimentSpec, PriorSpec, BackendSpec } from './experiments.ts';
export { validateExperimentSpec } from './experiments.ts';
export type {
  SimulationSet,
  SimulationSetSpec,
  SimulationBatch,
  SimulationSource,
  BatchInfo,
  SimulationRows,
} from './simulations.ts';
export { SetReader, seededRandom, type SetReaderOptions, type SetRows, type SetBatch } from './reader.ts';
export type { Observation, ObservationInfo, ObservationInput, ObservationSource } from './observations.ts';
export type {
  Classifier,
  ClassifierInput,
  Estimator,
  EstimatorInput,
  EstimatorStatus,
  SummaryType,
} from './estimators.ts';
export type {
  Posterior,
  PosteriorInfo,
  PosteriorInput,
  Artifact,
  ArtifactInput,
  Report,
  Links,
} from './results.ts';
