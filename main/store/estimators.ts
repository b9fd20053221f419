/**
 * Trained models: restriction classifiers (which prior regions give valid traces) and neural
 * posterior estimators. Both keep their configuration as JSON and their networks as ONNX bytes; an
 * estimator holds several named graphs (e.g. 'embedding', 'flow', 'sampler'), its training history
 * and a status that follows training ('created' -> 'training' -> 'trained' | 'failed' | 'cancelled').
 */
import {
  NotFoundError,
  checkNumber,
  contentHash,
  parseJson,
  rowProvenance,
  stamp,
  type Provenance,
  type StoreDb,
} from './db.ts';

/** A new restriction classifier. */
export interface ClassifierInput {
  name: string;
  experimentId?: number | null;
  config: Record<string, unknown>;
  onnx: Uint8Array;
  /** Decision threshold on the classifier output. */
  threshold: number;
  stats?: Record<string, unknown>;
}

/** A stored restriction classifier. */
export interface Classifier extends Provenance {
  id: number;
  name: string;
  experimentId: number | null;
  config: Record<string, unknown>;
  onnx: Uint8Array;
  threshold: number;
  stats: Record<string, unknown>;
}

/** How summary statistics of traces are made. */
export type SummaryType = 'handcrafted' | 'learned';
/** Training state of an estimator. */
export type EstimatorStatus = 'created' | 'training' | 'trained' | 'failed' | 'cancelled';
const STATUSES: readonly EstimatorStatus[] = ['created', 'training', 'trained', 'failed', 'cancelled'];

/** A new estimator. */
export interface EstimatorInput {
  name: string;
  experimentId?: number | null;
  /** Simulation set it is (or will be) trained on. */
  setId?: number | null;
  classifierId?: number | null;
  config: Record<string, unknown>;
  summaryType: SummaryType;
  status?: EstimatorStatus;
  history?: unknown[];
  graphs?: Record<string, Uint8Array>;
}

/** A stored estimator. `graphs` lists the names; fetch bytes with `graph(id, name)` or `graphs(id)`. */
export interface Estimator extends Provenance {
  id: number;
  name: string;
  experimentId: number | null;
  setId: number | null;
  classifierId: number | null;
  config: Record<string, unknown>;
  summaryType: SummaryType;
  status: EstimatorStatus;
  history: unknown[];
  graphNames: string[];
}

interface ClassifierRow {
  id: number;
  name: string;
  experiment_id: number | null;
  config: string;
  onnx: Buffer;
  threshold: number;
  stats: string;
  created_at: string;
  content_hash: string;
  workbench_version: string;
}

interface EstimatorRow {
  id: number;
  name: string;
  experiment_id: number | null;
  set_id: number | null;
  classifier_id: number | null;
  config: string;
  summary_type: SummaryType;
  status: EstimatorStatus;
  history: string;
  created_at: string;
  content_hash: string;
  workbench_version: string;
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Typed access to restriction classifiers. */
export class ClassifierRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store a classifier. */
  create(c: ClassifierInput): Classifier {
    this.s.assertWritable('store a classifier');
    if (!c.name) throw new RangeError('classifier name must not be empty');
    if (!(c.onnx instanceof Uint8Array) || c.onnx.length === 0)
      throw new RangeError('classifier onnx must be non-empty bytes');
    checkNumber('threshold', c.threshold);
    const stats = c.stats ?? {};
    const p = stamp(contentHash({ config: c.config, threshold: c.threshold }, c.onnx));
    const { lastInsertRowid } = this.s
      .stmt(
        `INSERT INTO restriction_classifiers (experiment_id, name, config, threshold, stats, onnx, created_at, content_hash, workbench_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.experimentId ?? null,
        c.name,
        JSON.stringify(c.config),
        c.threshold,
        JSON.stringify(stats),
        Buffer.from(c.onnx),
        p.createdAt,
        p.contentHash,
        p.workbenchVersion,
      );
    return this.get(Number(lastInsertRowid));
  }

  /** The classifier with this id; throws NotFoundError. */
  get(id: number): Classifier {
    const r = this.s.stmt('SELECT * FROM restriction_classifiers WHERE id = ?').get(id) as
      ClassifierRow | undefined;
    if (!r) throw new NotFoundError('restriction classifier', id);
    return {
      id: r.id,
      name: r.name,
      experimentId: r.experiment_id,
      config: parseJson(r.config),
      onnx: bytes(r.onnx),
      threshold: r.threshold,
      stats: parseJson(r.stats),
      ...rowProvenance(r),
    };
  }

  /** All classifiers (with their ONNX bytes), oldest first. */
  list(): Classifier[] {
    return (this.s.stmt('SELECT id FROM restriction_classifiers ORDER BY id').all() as { id: number }[]).map(
      (r) => this.get(r.id),
    );
  }
}

/** Typed access to estimators and their graphs. */
export class EstimatorRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store an estimator with its graphs, in one transaction. */
  create(e: EstimatorInput): Estimator {
    this.s.assertWritable('store an estimator');
    if (!e.name) throw new RangeError('estimator name must not be empty');
    if (e.summaryType !== 'handcrafted' && e.summaryType !== 'learned') {
      throw new RangeError(`summaryType must be 'handcrafted' or 'learned', got '${String(e.summaryType)}'`);
    }
    const status = e.status ?? 'created';
    if (!STATUSES.includes(status))
      throw new RangeError(`estimator status must be one of ${STATUSES.join(', ')}, got '${status}'`);
    return this.s.tx(() => {
      const { lastInsertRowid } = this.s
        .stmt(
          `INSERT INTO estimators (experiment_id, set_id, classifier_id, name, config, summary_type, status, history, created_at, content_hash, workbench_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)`,
        )
        .run(
          e.experimentId ?? null,
          e.setId ?? null,
          e.classifierId ?? null,
          e.name,
          JSON.stringify(e.config),
          e.summaryType,
          status,
          JSON.stringify(e.history ?? []),
          new Date().toISOString(),
          stamp('').workbenchVersion,
        );
      const id = Number(lastInsertRowid);
      for (const [name, onnx] of Object.entries(e.graphs ?? {})) this.putGraphRow(id, name, onnx);
      this.rehash(id);
      return this.get(id);
    });
  }

  private putGraphRow(id: number, name: string, onnx: Uint8Array): void {
    if (!name) throw new RangeError('graph name must not be empty');
    if (!(onnx instanceof Uint8Array) || onnx.length === 0)
      throw new RangeError(`graph '${name}' must be non-empty ONNX bytes`);
    this.s
      .stmt(
        'INSERT INTO estimator_graphs (estimator_id, name, onnx) VALUES (?, ?, ?) ON CONFLICT (estimator_id, name) DO UPDATE SET onnx = excluded.onnx',
      )
      .run(id, name, Buffer.from(onnx.buffer, onnx.byteOffset, onnx.byteLength));
  }

  /** Recompute the content hash over configuration, summary type and graphs (history and status excluded). */
  private rehash(id: number): void {
    const r = this.s.stmt('SELECT config, summary_type FROM estimators WHERE id = ?').get(id) as {
      config: string;
      summary_type: string;
    };
    const graphs = this.s
      .stmt('SELECT name, onnx FROM estimator_graphs WHERE estimator_id = ? ORDER BY name')
      .all(id) as { name: string; onnx: Buffer }[];
    const h = contentHash(
      { config: JSON.parse(r.config), summaryType: r.summary_type, graphs: graphs.map((g) => g.name) },
      ...graphs.map((g) => g.onnx),
    );
    this.s.stmt('UPDATE estimators SET content_hash = ? WHERE id = ?').run(h, id);
  }

  /** Add or replace a named ONNX graph. */
  putGraph(id: number, name: string, onnx: Uint8Array): void {
    this.s.assertWritable('store an estimator graph');
    this.s.tx(() => {
      this.get(id);
      this.putGraphRow(id, name, onnx);
      this.rehash(id);
    });
  }

  /** Update status and/or training history (e.g. after each epoch). */
  update(
    id: number,
    patch: { status?: EstimatorStatus; history?: unknown[]; setId?: number | null },
  ): Estimator {
    this.s.assertWritable('update an estimator');
    if (patch.status !== undefined && !STATUSES.includes(patch.status)) {
      throw new RangeError(`estimator status must be one of ${STATUSES.join(', ')}, got '${patch.status}'`);
    }
    return this.s.tx(() => {
      const cur = this.get(id);
      this.s
        .stmt('UPDATE estimators SET status = ?, history = ?, set_id = ? WHERE id = ?')
        .run(
          patch.status ?? cur.status,
          JSON.stringify(patch.history ?? cur.history),
          patch.setId !== undefined ? patch.setId : cur.setId,
          id,
        );
      return this.get(id);
    });
  }

  /** The estimator (graph names only); throws NotFoundError. */
  get(id: number): Estimator {
    const r = this.s.stmt('SELECT * FROM estimators WHERE id = ?').get(id) as EstimatorRow | undefined;
    if (!r) throw new NotFoundError('estimator', id);
    const names = this.s
      .stmt('SELECT name FROM estimator_graphs WHERE estimator_id = ? ORDER BY name')
      .all(id) as { name: string }[];
    return {
      id: r.id,
      name: r.name,
      experimentId: r.experiment_id,
      setId: r.set_id,
      classifierId: r.classifier_id,
      config: parseJson(r.config),
      summaryType: r.summary_type,
      status: r.status,
      history: parseJson(r.history),
      graphNames: names.map((n) => n.name),
      ...rowProvenance(r),
    };
  }

  /** The bytes of one graph; throws when the estimator has no graph of that name. */
  graph(id: number, name: string): Uint8Array {
    const r = this.s
      .stmt('SELECT onnx FROM estimator_graphs WHERE estimator_id = ? AND name = ?')
      .get(id, name) as { onnx: Buffer } | undefined;
    if (!r)
      throw new Error(
        `estimator ${id} has no graph named '${name}' (it has: ${this.get(id).graphNames.join(', ') || 'none'})`,
      );
    return bytes(r.onnx);
  }

  /** All graphs of an estimator by name. */
  graphs(id: number): Record<string, Uint8Array> {
    this.get(id);
    const rows = this.s
      .stmt('SELECT name, onnx FROM estimator_graphs WHERE estimator_id = ? ORDER BY name')
      .all(id) as { name: string; onnx: Buffer }[];
    return Object.fromEntries(rows.map((g) => [g.name, bytes(g.onnx)]));
  }

  /** All estimators, oldest first. */
  list(): Estimator[] {
    return (this.s.stmt('SELECT id FROM estimators ORDER BY id').all() as { id: number }[]).map((r) =>
      this.get(r.id),
    );
  }

  /** Delete an estimator with its graphs and posteriors. */
  delete(id: number): void {
    this.s.assertWritable('delete an estimator');
    if (this.s.stmt('DELETE FROM estimators WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('estimator', id);
  }
}
