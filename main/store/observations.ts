/**
 * Observations: recorded, imported or simulated traces that posteriors are computed for. An
 * observation holds one or more traces of equal length (repeats of one recording), as MADC codes
 * (Int16) or volts (Float32), with sampling rate, circuit id and, when known, the true parameters.
 */
import {
  NotFoundError,
  blob,
  checkNumber,
  contentHash,
  fromBlob,
  parseJson,
  rowProvenance,
  stamp,
  type Provenance,
  type StoreDb,
} from './db.ts';

/** Where an observation came from. */
export type ObservationSource = 'recorded' | 'imported' | 'simulated';

/** A new observation. `data` is traces x samples, row-major: Int16Array for codes, Float32Array for volts. */
export interface ObservationInput {
  name: string;
  source: ObservationSource;
  sampleRate: number;
  traces: number;
  samples: number;
  data: Int16Array | Float32Array;
  circuitId?: number | null;
  experimentId?: number | null;
  /** Ground-truth parameters (simulated or calibrated recordings), in the order of `paramNames`. */
  trueTheta?: Float32Array | null;
  paramNames?: string[] | null;
  meta?: Record<string, unknown>;
}

/** A stored observation's description (without its data). */
export interface ObservationInfo extends Provenance {
  id: number;
  name: string;
  source: ObservationSource;
  unit: 'codes' | 'volts';
  sampleRate: number;
  traces: number;
  samples: number;
  circuitId: number | null;
  experimentId: number | null;
  paramNames: string[] | null;
  meta: Record<string, unknown>;
}

/** A stored observation with its data. */
export interface Observation extends ObservationInfo {
  data: Int16Array | Float32Array;
  trueTheta: Float32Array | null;
}

const INFO_COLUMNS = `id, name, source, unit, sample_rate, traces, samples, circuit_id, experiment_id, param_names, meta,
  created_at, content_hash, workbench_version`;

interface Row {
  id: number;
  name: string;
  source: ObservationSource;
  unit: 'codes' | 'volts';
  sample_rate: number;
  traces: number;
  samples: number;
  circuit_id: number | null;
  experiment_id: number | null;
  param_names: string | null;
  meta: string;
  created_at: string;
  content_hash: string;
  workbench_version: string;
  data?: Buffer;
  true_theta?: Buffer | null;
}

function infoFromRow(r: Row): ObservationInfo {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    unit: r.unit,
    sampleRate: r.sample_rate,
    traces: r.traces,
    samples: r.samples,
    circuitId: r.circuit_id,
    experimentId: r.experiment_id,
    paramNames: parseJson(r.param_names),
    meta: parseJson(r.meta),
    ...rowProvenance(r),
  };
}

/** Check an observation before storing; errors name the field. */
function check(o: ObservationInput): 'codes' | 'volts' {
  if (!o.name) throw new RangeError('observation name must not be empty');
  if (!['recorded', 'imported', 'simulated'].includes(o.source))
    throw new RangeError(`observation source must be recorded, imported or simulated, got '${o.source}'`);
  checkNumber('sampleRate', o.sampleRate, { positive: true });
  checkNumber('traces', o.traces, { integer: true, positive: true });
  checkNumber('samples', o.samples, { integer: true, positive: true });
  const unit = o.data instanceof Int16Array ? 'codes' : o.data instanceof Float32Array ? 'volts' : undefined;
  if (!unit)
    throw new TypeError('observation data must be an Int16Array (MADC codes) or a Float32Array (volts)');
  if (o.data.length !== o.traces * o.samples) {
    throw new RangeError(
      `observation data has ${o.data.length} values, expected ${o.traces} traces x ${o.samples} samples`,
    );
  }
  if (unit === 'volts') {
    const i = o.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0)
      throw new RangeError(
        `observation data: trace ${Math.floor(i / o.samples)} sample ${i % o.samples} is ${o.data[i]}`,
      );
  }
  if (o.circuitId != null) checkNumber('circuitId', o.circuitId, { integer: true, min: 0 });
  if (o.trueTheta) {
    if (!o.paramNames || o.paramNames.length !== o.trueTheta.length) {
      throw new RangeError(
        `trueTheta has ${o.trueTheta.length} values but paramNames lists ${o.paramNames?.length ?? 0}`,
      );
    }
  }
  return unit;
}

/** Typed access to the observations of a project. */
export class ObservationRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store an observation. */
  create(o: ObservationInput): Observation {
    this.s.assertWritable('store an observation');
    const unit = check(o);
    const meta = o.meta ?? {};
    const spec = {
      unit,
      sampleRate: o.sampleRate,
      traces: o.traces,
      samples: o.samples,
      circuitId: o.circuitId ?? null,
      paramNames: o.paramNames ?? null,
    };
    const p = stamp(contentHash(spec, o.data, o.trueTheta));
    const { lastInsertRowid } = this.s
      .stmt(
        `INSERT INTO observations (experiment_id, name, source, unit, sample_rate, circuit_id, traces, samples, param_names, true_theta, meta, data,
           created_at, content_hash, workbench_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        o.experimentId ?? null,
        o.name,
        o.source,
        unit,
        o.sampleRate,
        o.circuitId ?? null,
        o.traces,
        o.samples,
        o.paramNames ? JSON.stringify(o.paramNames) : null,
        o.trueTheta ? blob(o.trueTheta) : null,
        JSON.stringify(meta),
        blob(o.data),
        p.createdAt,
        p.contentHash,
        p.workbenchVersion,
      );
    return this.get(Number(lastInsertRowid));
  }

  /** The observation with its data; throws NotFoundError. */
  get(id: number): Observation {
    const r = this.s
      .stmt(`SELECT ${INFO_COLUMNS}, data, true_theta FROM observations WHERE id = ?`)
      .get(id) as Row | undefined;
    if (!r) throw new NotFoundError('observation', id);
    return {
      ...infoFromRow(r),
      data:
        r.unit === 'codes'
          ? fromBlob(r.data!, Int16Array, 'observation codes')
          : fromBlob(r.data!, Float32Array, 'observation volts'),
      trueTheta: r.true_theta ? fromBlob(r.true_theta, Float32Array, 'true parameters') : null,
    };
  }

  /** Descriptions of all observations (no data), oldest first. */
  list(): ObservationInfo[] {
    return (this.s.stmt(`SELECT ${INFO_COLUMNS} FROM observations ORDER BY id`).all() as Row[]).map(
      infoFromRow,
    );
  }

  /** Delete an observation and the posteriors computed for it. */
  delete(id: number): void {
    this.s.assertWritable('delete an observation');
    if (this.s.stmt('DELETE FROM observations WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('observation', id);
  }
}
