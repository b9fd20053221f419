/**
 * The project schema as an ordered list of migrations. A project file records the version it is
 * at in `PRAGMA user_version` and is recognised by `PRAGMA application_id`; opening a project for
 * writing runs every migration above its version, all inside one transaction, so a crash during an
 * upgrade leaves the file at its old version.
 *
 * Never edit a migration that has shipped: append a new one. Version 1 stays here so files made by
 * the first workbench releases upgrade in place (see test/store/migrations.test.ts).
 */

/** `PRAGMA application_id` of every project file: the ASCII bytes 'ADXW'. */
export const APPLICATION_ID = 0x41445857;

/** One step of the schema. `up` is a script of SQL statements run inside the upgrade transaction. */
export interface Migration {
  version: number;
  description: string;
  up: string;
}

const PROVENANCE = `created_at TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  workbench_version TEXT NOT NULL`;

const V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  stimulus TEXT NOT NULL CHECK (json_valid(stimulus)),
  fixed TEXT NOT NULL CHECK (json_valid(fixed)),
  prior TEXT NOT NULL CHECK (json_valid(prior)),
  backend TEXT NOT NULL CHECK (json_valid(backend)),
  settings TEXT NOT NULL CHECK (json_valid(settings)),
  ${PROVENANCE}
) STRICT;

CREATE TABLE simulation_sets (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE RESTRICT,
  name TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('emulator', 'hardware', 'imported')),
  param_names TEXT NOT NULL CHECK (json_valid(param_names)),
  samples_per_trace INTEGER NOT NULL CHECK (samples_per_trace > 0),
  sample_rate REAL NOT NULL CHECK (sample_rate > 0),
  chunk_rows INTEGER NOT NULL CHECK (chunk_rows > 0),
  row_count INTEGER NOT NULL DEFAULT 0,
  meta TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
  ${PROVENANCE}
) STRICT;

CREATE TABLE simulation_batches (
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES simulation_sets(id) ON DELETE CASCADE,
  row_start INTEGER NOT NULL,
  row_count INTEGER NOT NULL CHECK (row_count > 0),
  seed INTEGER,
  ${PROVENANCE},
  UNIQUE (set_id, row_start)
) STRICT;

-- Large columns last: reading theta or counts does not walk the overflow pages of the codes.
CREATE TABLE simulation_chunks (
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES simulation_sets(id) ON DELETE CASCADE,
  batch_id INTEGER NOT NULL REFERENCES simulation_batches(id) ON DELETE CASCADE,
  row_start INTEGER NOT NULL,
  row_count INTEGER NOT NULL CHECK (row_count > 0),
  theta BLOB NOT NULL,
  spike_counts BLOB NOT NULL,
  circuits BLOB,
  spike_times BLOB NOT NULL,
  codes BLOB NOT NULL,
  UNIQUE (set_id, row_start)
) STRICT;
CREATE INDEX simulation_chunks_batch ON simulation_chunks(batch_id);

CREATE TABLE observations (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('recorded', 'imported', 'simulated')),
  sample_rate REAL NOT NULL CHECK (sample_rate > 0),
  circuit_id INTEGER,
  traces INTEGER NOT NULL CHECK (traces > 0),
  samples INTEGER NOT NULL CHECK (samples > 0),
  param_names TEXT CHECK (param_names IS NULL OR json_valid(param_names)),
  true_theta BLOB,
  meta TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
  data BLOB NOT NULL,
  ${PROVENANCE}
) STRICT;

CREATE TABLE estimators (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
  set_id INTEGER REFERENCES simulation_sets(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  config TEXT NOT NULL CHECK (json_valid(config)),
  summary_type TEXT NOT NULL CHECK (summary_type IN ('handcrafted', 'learned')),
  status TEXT NOT NULL CHECK (status IN ('created', 'training', 'trained', 'failed', 'cancelled')),
  history TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(history)),
  onnx BLOB,
  ${PROVENANCE}
) STRICT;

CREATE TABLE posteriors (
  id INTEGER PRIMARY KEY,
  estimator_id INTEGER NOT NULL REFERENCES estimators(id) ON DELETE CASCADE,
  observation_id INTEGER NOT NULL REFERENCES observations(id) ON DELETE CASCADE,
  n_samples INTEGER NOT NULL CHECK (n_samples >= 0),
  param_names TEXT NOT NULL CHECK (json_valid(param_names)),
  diagnostics TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(diagnostics)),
  samples BLOB NOT NULL,
  ${PROVENANCE}
) STRICT;

CREATE TABLE reports (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  links TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(links)),
  html TEXT NOT NULL,
  ${PROVENANCE}
) STRICT;
`;

const V2 = `
CREATE TABLE restriction_classifiers (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  config TEXT NOT NULL CHECK (json_valid(config)),
  threshold REAL NOT NULL,
  stats TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(stats)),
  onnx BLOB NOT NULL,
  ${PROVENANCE}
) STRICT;

-- Several named ONNX graphs per estimator (embedding net, flow, sampler ...) instead of one blob.
CREATE TABLE estimator_graphs (
  estimator_id INTEGER NOT NULL REFERENCES estimators(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  onnx BLOB NOT NULL,
  PRIMARY KEY (estimator_id, name)
) STRICT;
INSERT INTO estimator_graphs (estimator_id, name, onnx)
  SELECT id, 'posterior', onnx FROM estimators WHERE onnx IS NOT NULL;
ALTER TABLE estimators DROP COLUMN onnx;
ALTER TABLE estimators ADD COLUMN classifier_id INTEGER REFERENCES restriction_classifiers(id) ON DELETE SET NULL;

ALTER TABLE observations ADD COLUMN unit TEXT NOT NULL DEFAULT 'codes' CHECK (unit IN ('codes', 'volts'));

CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
  set_id INTEGER REFERENCES simulation_sets(id) ON DELETE CASCADE,
  observation_id INTEGER REFERENCES observations(id) ON DELETE CASCADE,
  estimator_id INTEGER REFERENCES estimators(id) ON DELETE CASCADE,
  posterior_id INTEGER REFERENCES posteriors(id) ON DELETE CASCADE,
  json TEXT CHECK (json IS NULL OR json_valid(json)),
  blob BLOB,
  ${PROVENANCE}
) STRICT;
CREATE INDEX artifacts_kind ON artifacts(kind);
CREATE INDEX posteriors_observation ON posteriors(observation_id);
CREATE INDEX posteriors_estimator ON posteriors(estimator_id);
`;

/** Every schema step, oldest first; the last one's version is the current schema. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, simulation sets in chunks, observations, estimators, posteriors, reports',
    up: V1,
  },
  {
    version: 2,
    description: 'restriction classifiers, named estimator graphs, observation units, artifacts',
    up: V2,
  },
];

/** The schema version this workbench writes. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;
