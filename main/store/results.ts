/**
 * What inference produces: posteriors (samples for one observation from one estimator, with
 * diagnostics), reports (self-contained HTML) and artifacts, a generic home for computed results
 * (SBC ranks, coverage curves, chip maps ...) as JSON and/or bytes, tagged with a kind and linked to
 * the entities they describe.
 */
import {
  NotFoundError,
  blob,
  contentHash,
  fromBlob,
  parseJson,
  rowProvenance,
  stamp,
  type Provenance,
  type StoreDb,
} from './db.ts';

/** A new posterior: `samples` is nSamples x paramNames.length, row-major. */
export interface PosteriorInput {
  estimatorId: number;
  observationId: number;
  paramNames: string[];
  samples: Float32Array;
  diagnostics?: Record<string, unknown>;
}

/** A stored posterior's description (without samples). */
export interface PosteriorInfo extends Provenance {
  id: number;
  estimatorId: number;
  observationId: number;
  paramNames: string[];
  nSamples: number;
  diagnostics: Record<string, unknown>;
}

/** A stored posterior with its samples. */
export interface Posterior extends PosteriorInfo {
  samples: Float32Array;
}

/** Links of an artifact or report to the entities it is about. */
export interface Links {
  experimentId?: number;
  setId?: number;
  observationId?: number;
  estimatorId?: number;
  posteriorId?: number;
}

/** A new artifact: a kind (e.g. 'sbc-ranks', 'coverage', 'chip-map'), JSON and/or bytes, links. */
export interface ArtifactInput extends Links {
  kind: string;
  name?: string;
  json?: unknown;
  bytes?: Uint8Array;
}

/** A stored artifact. */
export interface Artifact extends Provenance, Links {
  id: number;
  kind: string;
  name: string;
  json: unknown;
  bytes: Uint8Array | null;
}

/** A stored report. */
export interface Report extends Provenance {
  id: number;
  title: string;
  links: Links;
  html: string;
}

interface PosteriorRow {
  id: number;
  estimator_id: number;
  observation_id: number;
  param_names: string;
  n_samples: number;
  diagnostics: string;
  samples?: Buffer;
  created_at: string;
  content_hash: string;
  workbench_version: string;
}

function posteriorInfo(r: PosteriorRow): PosteriorInfo {
  return {
    id: r.id,
    estimatorId: r.estimator_id,
    observationId: r.observation_id,
    paramNames: parseJson(r.param_names),
    nSamples: r.n_samples,
    diagnostics: parseJson(r.diagnostics),
    ...rowProvenance(r),
  };
}

const POSTERIOR_INFO =
  'id, estimator_id, observation_id, param_names, n_samples, diagnostics, created_at, content_hash, workbench_version';

/** Typed access to posteriors. */
export class PosteriorRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store a posterior; the estimator and observation must exist. */
  create(p: PosteriorInput): Posterior {
    this.s.assertWritable('store a posterior');
    const d = p.paramNames?.length ?? 0;
    if (d === 0) throw new RangeError('posterior needs at least one parameter name');
    if (!(p.samples instanceof Float32Array) || p.samples.length % d !== 0) {
      throw new RangeError(
        `posterior samples must be a Float32Array of nSamples x ${d} values, got ${p.samples?.length}`,
      );
    }
    const bad = p.samples.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new RangeError(
        `posterior sample ${Math.floor(bad / d)} (${p.paramNames[bad % d]}) is ${p.samples[bad]}`,
      );
    const n = p.samples.length / d;
    const pv = stamp(
      contentHash(
        { estimatorId: p.estimatorId, observationId: p.observationId, paramNames: p.paramNames },
        p.samples,
      ),
    );
    try {
      const { lastInsertRowid } = this.s
        .stmt(
          `INSERT INTO posteriors (estimator_id, observation_id, n_samples, param_names, diagnostics, samples, created_at, content_hash, workbench_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          p.estimatorId,
          p.observationId,
          n,
          JSON.stringify(p.paramNames),
          JSON.stringify(p.diagnostics ?? {}),
          blob(p.samples),
          pv.createdAt,
          pv.contentHash,
          pv.workbenchVersion,
        );
      return this.get(Number(lastInsertRowid));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new RangeError(
          `posterior refers to estimator ${p.estimatorId} / observation ${p.observationId}, and one of them does not exist`,
        );
      }
      throw err;
    }
  }

  /** The posterior with its samples; throws NotFoundError. */
  get(id: number): Posterior {
    const r = this.s.stmt(`SELECT ${POSTERIOR_INFO}, samples FROM posteriors WHERE id = ?`).get(id) as
      PosteriorRow | undefined;
    if (!r) throw new NotFoundError('posterior', id);
    return { ...posteriorInfo(r), samples: fromBlob(r.samples!, Float32Array, 'posterior samples') };
  }

  /** Update the diagnostics of a posterior (e.g. after a posterior-predictive check). */
  setDiagnostics(id: number, diagnostics: Record<string, unknown>): void {
    this.s.assertWritable('update a posterior');
    if (
      this.s.stmt('UPDATE posteriors SET diagnostics = ? WHERE id = ?').run(JSON.stringify(diagnostics), id)
        .changes === 0
    ) {
      throw new NotFoundError('posterior', id);
    }
  }

  /** Descriptions of posteriors, optionally only those of one observation or estimator. */
  list(filter: { observationId?: number; estimatorId?: number } = {}): PosteriorInfo[] {
    const rows = this.s
      .stmt(
        `SELECT ${POSTERIOR_INFO} FROM posteriors WHERE (@obs IS NULL OR observation_id = @obs) AND (@est IS NULL OR estimator_id = @est) ORDER BY id`,
      )
      .all({ obs: filter.observationId ?? null, est: filter.estimatorId ?? null }) as PosteriorRow[];
    return rows.map(posteriorInfo);
  }

  /** Delete a posterior. */
  delete(id: number): void {
    this.s.assertWritable('delete a posterior');
    if (this.s.stmt('DELETE FROM posteriors WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('posterior', id);
  }
}

interface ArtifactRow {
  id: number;
  kind: string;
  name: string;
  experiment_id: number | null;
  set_id: number | null;
  observation_id: number | null;
  estimator_id: number | null;
  posterior_id: number | null;
  json: string | null;
  blob: Buffer | null;
  created_at: string;
  content_hash: string;
  workbench_version: string;
}

function artifactFromRow(r: ArtifactRow): Artifact {
  const links: Links = {};
  if (r.experiment_id !== null) links.experimentId = r.experiment_id;
  if (r.set_id !== null) links.setId = r.set_id;
  if (r.observation_id !== null) links.observationId = r.observation_id;
  if (r.estimator_id !== null) links.estimatorId = r.estimator_id;
  if (r.posterior_id !== null) links.posteriorId = r.posterior_id;
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    ...links,
    json: parseJson(r.json),
    bytes: r.blob ? new Uint8Array(r.blob) : null,
    ...rowProvenance(r),
  };
}

/** Typed access to artifacts (diagnostics results and other computed data). */
export class ArtifactRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store an artifact; at least one of `json` and `bytes` is required. */
  create(a: ArtifactInput): Artifact {
    this.s.assertWritable('store an artifact');
    if (!a.kind) throw new RangeError('artifact kind must not be empty');
    if (a.json === undefined && !a.bytes)
      throw new RangeError(`artifact '${a.kind}' has neither json nor bytes`);
    const json = a.json === undefined ? null : JSON.stringify(a.json);
    const p = stamp(contentHash({ kind: a.kind, json: a.json ?? null }, a.bytes));
    try {
      const { lastInsertRowid } = this.s
        .stmt(
          `INSERT INTO artifacts (kind, name, experiment_id, set_id, observation_id, estimator_id, posterior_id, json, blob, created_at, content_hash, workbench_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          a.kind,
          a.name ?? '',
          a.experimentId ?? null,
          a.setId ?? null,
          a.observationId ?? null,
          a.estimatorId ?? null,
          a.posteriorId ?? null,
          json,
          a.bytes ? blob(a.bytes) : null,
          p.createdAt,
          p.contentHash,
          p.workbenchVersion,
        );
      return this.get(Number(lastInsertRowid));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new RangeError(
          `artifact '${a.kind}' links to an entity that does not exist (${JSON.stringify(a, ['experimentId', 'setId', 'observationId', 'estimatorId', 'posteriorId'])})`,
        );
      }
      throw err;
    }
  }

  /** The artifact with this id; throws NotFoundError. */
  get(id: number): Artifact {
    const r = this.s.stmt('SELECT * FROM artifacts WHERE id = ?').get(id) as ArtifactRow | undefined;
    if (!r) throw new NotFoundError('artifact', id);
    return artifactFromRow(r);
  }

  /** Artifacts matching every given filter (kind and links), oldest first. */
  list(filter: Links & { kind?: string } = {}): Artifact[] {
    const rows = this.s
      .stmt(
        `SELECT * FROM artifacts WHERE (@kind IS NULL OR kind = @kind) AND (@exp IS NULL OR experiment_id = @exp) AND (@set IS NULL OR set_id = @set)
           AND (@obs IS NULL OR observation_id = @obs) AND (@est IS NULL OR estimator_id = @est) AND (@post IS NULL OR posterior_id = @post) ORDER BY id`,
      )
      .all({
        kind: filter.kind ?? null,
        exp: filter.experimentId ?? null,
        set: filter.setId ?? null,
        obs: filter.observationId ?? null,
        est: filter.estimatorId ?? null,
        post: filter.posteriorId ?? null,
      }) as ArtifactRow[];
    return rows.map(artifactFromRow);
  }

  /** Delete an artifact. */
  delete(id: number): void {
    this.s.assertWritable('delete an artifact');
    if (this.s.stmt('DELETE FROM artifacts WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('artifact', id);
  }
}

/** Typed access to reports. */
export class ReportRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store a report (self-contained HTML) with links to what it describes. */
  create(r: { title: string; html: string; links?: Links }): Report {
    this.s.assertWritable('store a report');
    if (!r.title) throw new RangeError('report title must not be empty');
    if (typeof r.html !== 'string') throw new TypeError('report html must be a string');
    const p = stamp(contentHash({ title: r.title, links: r.links ?? {} }, Buffer.from(r.html, 'utf8')));
    const { lastInsertRowid } = this.s
      .stmt(
        'INSERT INTO reports (title, links, html, created_at, content_hash, workbench_version) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(r.title, JSON.stringify(r.links ?? {}), r.html, p.createdAt, p.contentHash, p.workbenchVersion);
    return this.get(Number(lastInsertRowid));
  }

  /** The report with this id; throws NotFoundError. */
  get(id: number): Report {
    const r = this.s.stmt('SELECT * FROM reports WHERE id = ?').get(id) as
      | {
          id: number;
          title: string;
          links: string;
          html: string;
          created_at: string;
          content_hash: string;
          workbench_version: string;
        }
      | undefined;
    if (!r) throw new NotFoundError('report', id);
    return { id: r.id, title: r.title, links: parseJson(r.links), html: r.html, ...rowProvenance(r) };
  }

  /** Reports without their HTML, oldest first. */
  list(): Omit<Report, 'html'>[] {
    const rows = this.s
      .stmt('SELECT id, title, links, created_at, content_hash, workbench_version FROM reports ORDER BY id')
      .all() as {
      id: number;
      title: string;
      links: string;
      created_at: string;
      content_hash: string;
      workbench_version: string;
    }[];
    return rows.map((r) => ({ id: r.id, title: r.title, links: parseJson(r.links), ...rowProvenance(r) }));
  }
}
