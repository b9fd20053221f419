/**
 * Simulation sets: parameter rows (theta, Float32) with their traces (Int16 MADC codes), spike
 * times and counts, appended in batches. Each batch is written in one transaction, split into
 * chunks of `chunkRows` traces (one BLOB per column per chunk), so a set of a million traces is a
 * few thousand rows and a reader loads only the chunks it needs (see reader.ts).
 *
 * @example
 * const set = project.simulations.create({ name: 'prior 100k', source: 'emulator', experimentId,
 *   paramNames: ['a', 'b'], samplesPerTrace: 1000, sampleRate: 29.4e6 });
 * project.simulations.append(set.id, { theta, ...result, seed: 7 });
 * const batch = project.simulations.openReader(set.id).read(Uint32Array.of(3, 17, 4));
 */
import { createHash } from 'node:crypto';
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
import { SetReader, type SetReaderOptions } from './reader.ts';

/** Where the traces of a set came from. */
export type SimulationSource = 'emulator' | 'hardware' | 'imported';

/** What defines a simulation set (its rows come later, in batches). */
export interface SimulationSetSpec {
  name: string;
  source: SimulationSource;
  experimentId?: number | null;
  /** Column names of theta, in order. */
  paramNames: string[];
  samplesPerTrace: number;
  /** MADC samples per second (hardware time). */
  sampleRate: number;
  /** Traces per stored chunk; default 256. */
  chunkRows?: number;
  /** Free-form JSON stored with the set (e.g. emulator mode, chip seed, stimulus used). */
  meta?: Record<string, unknown>;
}

/** A stored simulation set. `rows` counts the traces of all committed batches. */
export interface SimulationSet extends Provenance {
  id: number;
  name: string;
  source: SimulationSource;
  experimentId: number | null;
  paramNames: string[];
  samplesPerTrace: number;
  sampleRate: number;
  chunkRows: number;
  rows: number;
  meta: Record<string, unknown>;
}

/**
 * One batch of rows to append. Field names match the emulator's SimulationResult, so
 * `{ theta, ...result, seed }` is a valid batch. Spike data may be omitted (no spikes recorded).
 */
export interface SimulationBatch {
  /** rows * paramNames.length values, row-major. */
  theta: Float32Array;
  /** rows * samplesPerTrace MADC codes, row-major. */
  codes: Int16Array;
  spikeCounts?: Int32Array;
  /** Spike times (µs) of all rows concatenated, in row order. */
  spikeTimes?: Float32Array;
  /** rows + 1 offsets into spikeTimes; checked against spikeCounts when both are given. */
  spikeOffsets?: Int32Array;
  /** Circuit index per row. */
  circuits?: Int32Array;
  /** Noise seed of the run that produced the batch. */
  seed?: number;
}

/** A committed batch. */
export interface BatchInfo extends Provenance {
  id: number;
  setId: number;
  rowStart: number;
  rows: number;
  seed: number | null;
}

/** All columns of a run of consecutive rows (for export). */
export interface SimulationRows {
  theta: Float32Array;
  codes: Int16Array;
  spikeCounts: Int32Array;
  spikeTimes: Float32Array;
  spikeOffsets: Int32Array;
  /** Circuit per row, -1 where none was stored. */
  circuits: Int32Array;
}

interface SetRow {
  id: number;
  name: string;
  source: SimulationSource;
  experiment_id: number | null;
  param_names: string;
  samples_per_trace: number;
  sample_rate: number;
  chunk_rows: number;
  row_count: number;
  meta: string;
  created_at: string;
  content_hash: string;
  workbench_version: string;
}

function setFromRow(r: SetRow): SimulationSet {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    experimentId: r.experiment_id,
    paramNames: parseJson(r.param_names),
    samplesPerTrace: r.samples_per_trace,
    sampleRate: r.sample_rate,
    chunkRows: r.chunk_rows,
    rows: r.row_count,
    meta: parseJson(r.meta),
    ...rowProvenance(r),
  };
}

/** Check a batch against its set; returns the row count. Errors name the field and the row. */
function checkBatch(set: SimulationSet, b: SimulationBatch): number {
  const p = set.paramNames.length;
  if (!(b.theta instanceof Float32Array)) throw new TypeError('batch.theta must be a Float32Array');
  if (!(b.codes instanceof Int16Array)) throw new TypeError('batch.codes must be an Int16Array');
  if (b.theta.length === 0 || b.theta.length % p !== 0) {
    throw new RangeError(
      `batch.theta has ${b.theta.length} values, expected a positive multiple of ${p} parameters`,
    );
  }
  const rows = b.theta.length / p;
  if (b.codes.length !== rows * set.samplesPerTrace) {
    throw new RangeError(
      `batch.codes has ${b.codes.length} values, expected ${rows} rows x ${set.samplesPerTrace} samples = ${rows * set.samplesPerTrace}`,
    );
  }
  for (let i = 0; i < b.theta.length; i++) {
    if (!Number.isFinite(b.theta[i])) {
      throw new RangeError(
        `batch.theta row ${Math.floor(i / p)} (${set.paramNames[i % p]}) is ${b.theta[i]}, not a finite number`,
      );
    }
  }
  if (b.spikeCounts && b.spikeCounts.length !== rows)
    throw new RangeError(`batch.spikeCounts has ${b.spikeCounts.length} entries, expected ${rows}`);
  if (b.circuits && b.circuits.length !== rows)
    throw new RangeError(`batch.circuits has ${b.circuits.length} entries, expected ${rows}`);
  const total = b.spikeCounts ? b.spikeCounts.reduce((a, c) => a + c, 0) : 0;
  if ((b.spikeTimes?.length ?? 0) !== total) {
    throw new RangeError(
      `batch.spikeTimes has ${b.spikeTimes?.length ?? 0} entries but spikeCounts sum to ${total}`,
    );
  }
  if (b.spikeOffsets) {
    if (b.spikeOffsets.length !== rows + 1)
      throw new RangeError(`batch.spikeOffsets has ${b.spikeOffsets.length} entries, expected ${rows + 1}`);
    let off = 0;
    for (let i = 0; i < rows; i++) {
      if (b.spikeOffsets[i] !== off)
        throw new RangeError(`batch.spikeOffsets[${i}] is ${b.spikeOffsets[i]}, spikeCounts imply ${off}`);
      off += b.spikeCounts?.[i] ?? 0;
    }
  }
  if (b.seed !== undefined) checkNumber('batch.seed', b.seed, { integer: true });
  return rows;
}

/** Typed access to the simulation sets of a project. */
export class SimulationRepository {
  constructor(private readonly s: StoreDb) {}

  /** Create an empty set. */
  create(spec: SimulationSetSpec): SimulationSet {
    this.s.assertWritable('create a simulation set');
    if (!spec.name) throw new RangeError('simulation set name must not be empty');
    if (!['emulator', 'hardware', 'imported'].includes(spec.source)) {
      throw new RangeError(
        `simulation set source must be emulator, hardware or imported, got '${spec.source}'`,
      );
    }
    if (!Array.isArray(spec.paramNames) || spec.paramNames.length === 0)
      throw new RangeError('simulation set needs at least one parameter name');
    checkNumber('samplesPerTrace', spec.samplesPerTrace, { integer: true, positive: true });
    checkNumber('sampleRate', spec.sampleRate, { positive: true });
    const chunkRows = checkNumber('chunkRows', spec.chunkRows ?? 256, { integer: true, positive: true });
    const meta = spec.meta ?? {};
    const p = stamp(contentHash({ ...spec, name: undefined, chunkRows: undefined, meta }));
    const { lastInsertRowid } = this.s
      .stmt(
        `INSERT INTO simulation_sets (experiment_id, name, source, param_names, samples_per_trace, sample_rate, chunk_rows, meta,
           created_at, content_hash, workbench_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        spec.experimentId ?? null,
        spec.name,
        spec.source,
        JSON.stringify(spec.paramNames),
        spec.samplesPerTrace,
        spec.sampleRate,
        chunkRows,
        JSON.stringify(meta),
        p.createdAt,
        p.contentHash,
        p.workbenchVersion,
      );
    return this.get(Number(lastInsertRowid));
  }

  /** The set with this id (its row count as committed now); throws NotFoundError. */
  get(id: number): SimulationSet {
    const r = this.s.stmt('SELECT * FROM simulation_sets WHERE id = ?').get(id) as SetRow | undefined;
    if (!r) throw new NotFoundError('simulation set', id);
    return setFromRow(r);
  }

  /** All sets, oldest first. */
  list(): SimulationSet[] {
    return (this.s.stmt('SELECT * FROM simulation_sets ORDER BY id').all() as SetRow[]).map(setFromRow);
  }

  /**
   * Append one batch atomically: after a crash the batch is either wholly in the set or absent.
   * The set's content hash becomes sha256(previous hash || batch hash).
   */
  append(setId: number, batch: SimulationBatch): BatchInfo {
    this.s.assertWritable('append simulations');
    const set = this.get(setId);
    const rows = checkBatch(set, batch);
    const counts = batch.spikeCounts ?? new Int32Array(rows);
    const times = batch.spikeTimes ?? new Float32Array(0);
    const batchHash = contentHash(
      { rows, seed: batch.seed ?? null },
      batch.theta,
      batch.codes,
      counts,
      times,
      batch.circuits,
    );
    const p = stamp(batchHash);
    const insertChunk = this.s.stmt(
      `INSERT INTO simulation_chunks (set_id, batch_id, row_start, row_count, theta, spike_counts, circuits, spike_times, codes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const nP = set.paramNames.length;
    const S = set.samplesPerTrace;
    return this.s.tx(() => {
      const cur = this.s
        .stmt('SELECT row_count, content_hash FROM simulation_sets WHERE id = ?')
        .get(setId) as {
        row_count: number;
        content_hash: string;
      };
      const rowStart = cur.row_count;
      const { lastInsertRowid } = this.s
        .stmt(
          `INSERT INTO simulation_batches (set_id, row_start, row_count, seed, created_at, content_hash, workbench_version)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(setId, rowStart, rows, batch.seed ?? null, p.createdAt, p.contentHash, p.workbenchVersion);
      const batchId = Number(lastInsertRowid);
      let spikeOff = 0;
      for (let r0 = 0; r0 < rows; r0 += set.chunkRows) {
        const n = Math.min(set.chunkRows, rows - r0);
        let nSpikes = 0;
        for (let i = r0; i < r0 + n; i++) nSpikes += counts[i];
        insertChunk.run(
          setId,
          batchId,
          rowStart + r0,
          n,
          blob(batch.theta.subarray(r0 * nP, (r0 + n) * nP)),
          blob(counts.subarray(r0, r0 + n)),
          batch.circuits ? blob(batch.circuits.subarray(r0, r0 + n)) : null,
          blob(times.subarray(spikeOff, spikeOff + nSpikes)),
          blob(batch.codes.subarray(r0 * S, (r0 + n) * S)),
        );
        spikeOff += nSpikes;
      }
      const setHash = createHash('sha256').update(cur.content_hash).update(batchHash).digest('hex');
      this.s
        .stmt('UPDATE simulation_sets SET row_count = ?, content_hash = ? WHERE id = ?')
        .run(rowStart + rows, setHash, setId);
      return { id: batchId, setId, rowStart, rows, seed: batch.seed ?? null, ...p };
    });
  }

  /** The committed batches of a set, in row order. */
  batches(setId: number): BatchInfo[] {
    this.get(setId);
    const rows = this.s
      .stmt('SELECT * FROM simulation_batches WHERE set_id = ? ORDER BY row_start')
      .all(setId) as {
      id: number;
      set_id: number;
      row_start: number;
      row_count: number;
      seed: number | null;
      created_at: string;
      content_hash: string;
      workbench_version: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      setId: r.set_id,
      rowStart: r.row_start,
      rows: r.row_count,
      seed: r.seed,
      ...rowProvenance(r),
    }));
  }

  /** Every column of rows [start, start + count), spike data included (for export and checks). */
  readRows(setId: number, start: number, count: number): SimulationRows {
    const set = this.get(setId);
    checkNumber('start', start, { integer: true, min: 0 });
    checkNumber('count', count, { integer: true, min: 0 });
    if (start + count > set.rows)
      throw new RangeError(`rows ${start}..${start + count - 1} are outside set ${setId} (${set.rows} rows)`);
    const nP = set.paramNames.length;
    const S = set.samplesPerTrace;
    const out = {
      theta: new Float32Array(count * nP),
      codes: new Int16Array(count * S),
      spikeCounts: new Int32Array(count),
      circuits: new Int32Array(count).fill(-1),
    };
    const times: Float32Array[] = [];
    const chunks = this.s
      .stmt(
        `SELECT row_start, row_count, theta, spike_counts, circuits, spike_times, codes FROM simulation_chunks
         WHERE set_id = ? AND row_start < ? AND row_start + row_count > ? ORDER BY row_start`,
      )
      .iterate(setId, start + count, start) as IterableIterator<{
      row_start: number;
      row_count: number;
      theta: Buffer;
      spike_counts: Buffer;
      circuits: Buffer | null;
      spike_times: Buffer;
      codes: Buffer;
    }>;
    for (const c of chunks) {
      const a = Math.max(start, c.row_start);
      const b = Math.min(start + count, c.row_start + c.row_count);
      const lo = a - c.row_start;
      const hi = b - c.row_start;
      const dst = a - start;
      out.theta.set(fromBlob(c.theta, Float32Array).subarray(lo * nP, hi * nP), dst * nP);
      out.codes.set(fromBlob(c.codes, Int16Array).subarray(lo * S, hi * S), dst * S);
      const cnt = fromBlob(c.spike_counts, Int32Array);
      out.spikeCounts.set(cnt.subarray(lo, hi), dst);
      if (c.circuits) out.circuits.set(fromBlob(c.circuits, Int32Array).subarray(lo, hi), dst);
      let t0 = 0;
      for (let i = 0; i < lo; i++) t0 += cnt[i];
      let t1 = t0;
      for (let i = lo; i < hi; i++) t1 += cnt[i];
      times.push(fromBlob(c.spike_times, Float32Array).subarray(t0, t1));
    }
    const spikeOffsets = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) spikeOffsets[i + 1] = spikeOffsets[i] + out.spikeCounts[i];
    const spikeTimes = new Float32Array(spikeOffsets[count]);
    let o = 0;
    for (const t of times) {
      spikeTimes.set(t, o);
      o += t.length;
    }
    return { ...out, spikeTimes, spikeOffsets };
  }

  /** Total number of spike times stored in a set (without reading the traces). */
  spikeTotal(setId: number): number {
    this.get(setId);
    const r = this.s
      .stmt('SELECT coalesce(sum(length(spike_times)), 0) / 4 AS n FROM simulation_chunks WHERE set_id = ?')
      .get(setId) as { n: number };
    return r.n;
  }

  /** A reader of random mini-batches by row index, with a chunk cache (the set is never loaded whole). */
  openReader(setId: number, opts: SetReaderOptions = {}): SetReader {
    return new SetReader(this.s, this.get(setId), opts);
  }

  /** Delete a set with all its batches and chunks (estimators trained on it keep their graphs). */
  delete(setId: number): void {
    this.s.assertWritable('delete a simulation set');
    if (this.s.stmt('DELETE FROM simulation_sets WHERE id = ?').run(setId).changes === 0)
      throw new NotFoundError('simulation set', setId);
  }
}
