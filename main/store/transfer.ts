/**
 * Moving data between a project and the files a lab's Python side reads and writes: observations
 * from .npy/.npz/.csv (with a preview before import), simulation sets from theta + traces arrays
 * (streamed, any size), and posteriors, simulation sets and observations out as .npy/.npz/.csv.
 * Imports are one transaction; exports are written to a temporary path and renamed, so an error
 * leaves neither a half-imported set nor a half-written file.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  readNpyFile,
  toFloat32,
  encodeNpyHeader,
  writeNpyFile,
  type NpyArray,
  type NpyDtype,
} from '../io/npy.ts';
import { openNpyFile, writeNpyStreamed, npyItemSize, type NpyFileReader } from '../io/npy-stream.ts';
import { readNpzFile, writeNpzFile } from '../io/npz.ts';
import { readCsvFile, writeCsvFile } from '../io/csv.ts';
import { ZipFileWriter } from '../io/zip.ts';
import type { Project } from './project.ts';
import type { Observation } from './observations.ts';
import type { SimulationRows, SimulationSet } from './simulations.ts';

/** Traces read from a file, ready to preview or import. */
export interface ObservationFileContent {
  traces: number;
  samples: number;
  unit: 'codes' | 'volts';
  data: Int16Array | Float32Array;
  /** Samples per second, when the file says (npz `sample_rate`, CSV time column). */
  sampleRate?: number;
  trueTheta?: Float32Array;
  circuitId?: number;
}

/** Export formats. */
export type ExportFormat = 'npy' | 'npz' | 'csv';

const TIME_UNITS: Record<string, number> = { s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };

/** Convert an array to codes (integers in Int16 range) or volts (Float32). */
function toUnit(
  arr: NpyArray | { dtype: 'float64'; data: Float64Array },
  unit: 'codes' | 'volts' | 'auto',
  what: string,
): { unit: 'codes' | 'volts'; data: Int16Array | Float32Array } {
  const isInt = !['float32', 'float64'].includes(arr.dtype);
  const u = unit === 'auto' ? (isInt ? 'codes' : 'volts') : unit;
  if (u === 'volts') {
    const data = toFloat32(arr as NpyArray);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`${what}: value ${bad} is ${data[bad]}, not a finite voltage`);
    return { unit: u, data };
  }
  if (arr.data instanceof Int16Array) return { unit: u, data: arr.data };
  const out = new Int16Array(arr.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(arr.data[i]);
    if (!Number.isInteger(v) || v < -32768 || v > 32767)
      throw new RangeError(`${what}: value ${i} is ${v}, not an MADC code (an integer in Int16 range)`);
    out[i] = v;
  }
  return { unit: u, data: out };
}

function shape2d(shape: readonly number[], what: string): [number, number] {
  if (shape.length === 1) return [1, shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  throw new RangeError(
    `${what}: traces must be 1-d (samples) or 2-d (traces x samples), got shape [${shape.join(', ')}]`,
  );
}

const TRACE_KEYS = ['traces', 'codes', 'volts', 'x', 'data', 'trace', 'v'];

/**
 * Read traces from .npy (1-d or traces x samples), .npz (member traces|codes|volts|x|data, with
 * optional sample_rate, true_theta, circuit_id) or .csv (one column per trace, optionally a time
 * column named t_s/time_ms/t_us ... that gives the sample rate). Integer data are MADC codes, float
 * data volts, unless `unit` says otherwise.
 */
export function readObservationFile(
  path: string,
  unit: 'codes' | 'volts' | 'auto' = 'auto',
): ObservationFileContent {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = readNpyFile(path);
    const [traces, samples] = shape2d(a.shape, path);
    return { traces, samples, ...toUnit(a, unit, path) };
  }
  if (ext === '.npz') {
    const z = readNpzFile(path);
    const key = TRACE_KEYS.find((k) => k in z);
    if (!key)
      throw new RangeError(
        `${path}: no traces member (expected one of ${TRACE_KEYS.join(', ')}; found ${Object.keys(z).join(', ') || 'none'})`,
      );
    const [traces, samples] = shape2d(z[key].shape, `${path}[${key}]`);
    const out: ObservationFileContent = { traces, samples, ...toUnit(z[key], unit, `${path}[${key}]`) };
    if (z.sample_rate) out.sampleRate = Number(z.sample_rate.data[0]);
    const tt = z.true_theta ?? z.theta;
    if (tt) out.trueTheta = toFloat32(tt);
    const circ = z.circuit_id ?? z.circuit;
    if (circ) out.circuitId = Number(circ.data[0]);
    return out;
  }
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') {
    const t = readCsvFile(path);
    if (t.rows === 0) throw new RangeError(`${path}: no data rows`);
    const timeCol = t.columns.findIndex((c) => /^(t|time)(_(s|ms|us|ns))?$/i.test(c));
    const traceCols = t.columns.map((_, i) => i).filter((i) => i !== timeCol);
    if (traceCols.length === 0) throw new RangeError(`${path}: only a time column, no trace columns`);
    const cols = t.columns.length;
    const values = new Float64Array(traceCols.length * t.rows);
    traceCols.forEach((c, k) => {
      for (let r = 0; r < t.rows; r++) values[k * t.rows + r] = t.data[r * cols + c];
    });
    const out: ObservationFileContent = {
      traces: traceCols.length,
      samples: t.rows,
      ...toUnit({ dtype: 'float64', data: values }, unit === 'auto' ? 'volts' : unit, path),
    };
    const suffix = timeCol >= 0 ? /_(s|ms|us|ns)$/i.exec(t.columns[timeCol])?.[1]?.toLowerCase() : undefined;
    if (suffix && t.rows > 1) {
      const dt =
        ((t.data[(t.rows - 1) * cols + timeCol] - t.data[timeCol]) / (t.rows - 1)) * TIME_UNITS[suffix];
      if (!(dt > 0)) throw new RangeError(`${path}: time column '${t.columns[timeCol]}' does not increase`);
      out.sampleRate = 1 / dt;
    }
    return out;
  }
  throw new RangeError(`${path}: unknown observation format '${ext}' (use .npy, .npz or .csv)`);
}

/** Options of `importObservation`. */
export interface ImportObservationOptions {
  name?: string;
  /** Samples per second; required unless the file carries it. */
  sampleRate?: number;
  unit?: 'codes' | 'volts' | 'auto';
  circuitId?: number;
  experimentId?: number;
  /** Names of the true parameters in the file (default: the experiment's prior names). */
  paramNames?: string[];
}

/** Import an observation file into the project (see readObservationFile for the formats). */
export function importObservation(
  project: Project,
  path: string,
  opts: ImportObservationOptions = {},
): Observation {
  const c = readObservationFile(path, opts.unit ?? 'auto');
  const sampleRate = opts.sampleRate ?? c.sampleRate;
  if (sampleRate === undefined)
    throw new RangeError(`${path} does not state its sample rate; give it (samples per second)`);
  let paramNames = opts.paramNames ?? null;
  if (c.trueTheta && !paramNames && opts.experimentId !== undefined)
    paramNames = project.experiments.get(opts.experimentId).prior.names;
  if (c.trueTheta && !paramNames) paramNames = Array.from(c.trueTheta, (_, i) => `theta_${i}`);
  return project.observations.create({
    name: opts.name ?? path.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, ''),
    source: 'imported',
    sampleRate,
    traces: c.traces,
    samples: c.samples,
    data: c.data,
    circuitId: opts.circuitId ?? c.circuitId ?? null,
    experimentId: opts.experimentId ?? null,
    trueTheta: c.trueTheta ?? null,
    paramNames,
    meta: { importedFrom: path },
  });
}

/** Options of `importSimulations`. */
export interface ImportSimulationsOptions {
  name?: string;
  sampleRate: number;
  paramNames?: string[];
  experimentId?: number;
  /** Rows per appended batch (default 4096). */
  batchRows?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Theta from .npy (rows x params) or .csv (header = parameter names). */
function openTheta(path: string): {
  rows: number;
  cols: number;
  names?: string[];
  read(start: number, n: number): Float32Array;
  close(): void;
} {
  if (extname(path).toLowerCase() === '.csv') {
    const t = readCsvFile(path);
    const data = Float32Array.from(t.data);
    return {
      rows: t.rows,
      cols: t.columns.length,
      names: t.columns,
      read: (s, n) => data.slice(s * t.columns.length, (s + n) * t.columns.length),
      close() {},
    };
  }
  const f = openNpyFile(path);
  if (f.shape.length !== 2) {
    f.close();
    throw new RangeError(`${path}: theta must be 2-d (rows x parameters), got shape [${f.shape.join(', ')}]`);
  }
  return {
    rows: f.shape[0],
    cols: f.shape[1],
    read: (s, n) => toFloat32(f.readRows(s, n)),
    close: () => f.close(),
  };
}

/**
 * Import a simulation set from a theta file (.npy or .csv) and a traces file (.npy of rows x
 * samples MADC codes, read piecewise, so sets larger than memory import). All batches are written
 * in one transaction: on any error the project is unchanged.
 */
export function importSimulations(
  project: Project,
  thetaPath: string,
  tracesPath: string,
  opts: ImportSimulationsOptions,
): SimulationSet {
  const theta = openTheta(thetaPath);
  let traces: NpyFileReader | undefined;
  try {
    traces = openNpyFile(tracesPath);
    if (traces.shape.length !== 2)
      throw new RangeError(
        `${tracesPath}: traces must be 2-d (rows x samples), got shape [${traces.shape.join(', ')}]`,
      );
    if (traces.shape[0] !== theta.rows)
      throw new RangeError(`${thetaPath} has ${theta.rows} rows but ${tracesPath} has ${traces.shape[0]}`);
    if (theta.rows === 0) throw new RangeError(`${thetaPath}: no rows`);
    const paramNames =
      opts.paramNames ?? theta.names ?? Array.from({ length: theta.cols }, (_, i) => `theta_${i}`);
    if (paramNames.length !== theta.cols)
      throw new RangeError(
        `${paramNames.length} parameter names given, ${thetaPath} has ${theta.cols} columns`,
      );
    const batchRows = opts.batchRows ?? 4096;
    const tr = traces;
    return project.transaction(() => {
      const set = project.simulations.create({
        name: opts.name ?? thetaPath.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, ''),
        source: 'imported',
        experimentId: opts.experimentId ?? null,
        paramNames,
        samplesPerTrace: tr.shape[1],
        sampleRate: opts.sampleRate,
        meta: { importedFrom: { theta: thetaPath, traces: tracesPath } },
      });
      for (let s = 0; s < theta.rows; s += batchRows) {
        const n = Math.min(batchRows, theta.rows - s);
        const codes = toUnit(tr.readRows(s, n), 'codes', `${tracesPath} rows ${s}..${s + n - 1}`)
          .data as Int16Array;
        project.simulations.append(set.id, { theta: theta.read(s, n), codes });
        opts.onProgress?.(s + n, theta.rows);
      }
      return project.simulations.get(set.id);
    });
  } finally {
    theta.close();
    traces?.close();
  }
}

function checkOut(out: string, format: ExportFormat, allowed: ExportFormat[], what: string): void {
  if (!allowed.includes(format))
    throw new RangeError(`${what} export supports ${allowed.join(', ')}, not ${format}`);
  if (!out) throw new RangeError('an output path is needed');
}

/** Write posterior samples (nSamples x params) as .npy, .csv (header = parameter names) or .npz. */
export function exportPosterior(project: Project, id: number, out: string, format: ExportFormat): void {
  checkOut(out, format, ['npy', 'csv', 'npz'], 'posterior');
  const p = project.posteriors.get(id);
  const arr: NpyArray = { dtype: 'float32', shape: [p.nSamples, p.paramNames.length], data: p.samples };
  if (format === 'npy') writeNpyFile(out, arr);
  else if (format === 'csv') writeCsvFile(out, p.paramNames, p.samples);
  else writeNpzFile(out, { samples: arr });
}

/** Write an observation as .npy (traces x samples), .npz (with sample_rate, true_theta) or .csv (time_us + one column per trace). */
export function exportObservation(project: Project, id: number, out: string, format: ExportFormat): void {
  checkOut(out, format, ['npy', 'csv', 'npz'], 'observation');
  const o = project.observations.get(id);
  const dtype: NpyDtype = o.unit === 'codes' ? 'int16' : 'float32';
  const arr: NpyArray = { dtype, shape: [o.traces, o.samples], data: o.data };
  if (format === 'npy') writeNpyFile(out, arr);
  else if (format === 'npz') {
    const arrays: Record<string, NpyArray> = {
      traces: arr,
      sample_rate: { dtype: 'float64', shape: [], data: Float64Array.of(o.sampleRate) },
    };
    if (o.trueTheta) arrays.true_theta = { dtype: 'float32', shape: [o.trueTheta.length], data: o.trueTheta };
    if (o.circuitId !== null)
      arrays.circuit_id = { dtype: 'int32', shape: [], data: Int32Array.of(o.circuitId) };
    writeNpzFile(out, arrays);
  } else {
    const cols = ['time_us', ...Array.from({ length: o.traces }, (_, k) => `trace_${k}`)];
    const table = new Float64Array(o.samples * cols.length);
    for (let s = 0; s < o.samples; s++) {
      table[s * cols.length] = (s / o.sampleRate) * 1e6;
      for (let k = 0; k < o.traces; k++) table[s * cols.length + 1 + k] = o.data[k * o.samples + s];
    }
    writeCsvFile(out, cols, table);
  }
}

/** Arrays of a simulation export, each produced in row blocks. */
function simulationColumns(project: Project, set: SimulationSet) {
  const block = Math.max(1, Math.floor((64 << 20) / (2 * set.samplesPerTrace + 4 * set.paramNames.length)));
  const blocks = function* () {
    for (let s = 0; s < set.rows; s += block)
      yield project.simulations.readRows(set.id, s, Math.min(block, set.rows - s));
  };
  const totalSpikes = project.simulations.spikeTotal(set.id);
  return [
    {
      key: 'theta',
      dtype: 'float32' as const,
      shape: [set.rows, set.paramNames.length],
      pick: (b: SimulationRows) => b.theta,
    },
    {
      key: 'codes',
      dtype: 'int16' as const,
      shape: [set.rows, set.samplesPerTrace],
      pick: (b: SimulationRows) => b.codes,
    },
    {
      key: 'spike_counts',
      dtype: 'int32' as const,
      shape: [set.rows],
      pick: (b: SimulationRows) => b.spikeCounts,
    },
    {
      key: 'spike_times',
      dtype: 'float32' as const,
      shape: [totalSpikes],
      pick: (b: SimulationRows) => b.spikeTimes,
    },
  ].map((c) => ({
    ...c,
    produce: (write: (chunk: ArrayBufferView & { byteLength: number }) => void) => {
      for (const b of blocks()) write(c.pick(b));
    },
  }));
}

/**
 * Write a simulation set: .npz (theta, codes, spike_counts, spike_times), a directory of .npy files
 * plus param_names.txt (format 'npy': `out` is the directory), or .csv (theta columns plus spike_count; no traces).
 * Traces are streamed in blocks, so sets larger than memory export.
 */
export function exportSimulations(project: Project, id: number, out: string, format: ExportFormat): void {
  checkOut(out, format, ['npy', 'csv', 'npz'], 'simulation set');
  const set = project.simulations.get(id);
  if (format === 'csv') {
    const r = project.simulations.readRows(id, 0, set.rows);
    const P = set.paramNames.length;
    const table = new Float64Array(set.rows * (P + 1));
    for (let i = 0; i < set.rows; i++) {
      for (let j = 0; j < P; j++) table[i * (P + 1) + j] = r.theta[i * P + j];
      table[i * (P + 1) + P] = r.spikeCounts[i];
    }
    writeCsvFile(out, [...set.paramNames, 'spike_count'], table);
    return;
  }
  const columns = simulationColumns(project, set);
  if (format === 'npz') {
    const zip = new ZipFileWriter(out);
    try {
      for (const c of columns) {
        const header = encodeNpyHeader(c.dtype, c.shape);
        const size = header.length + c.shape.reduce((a, b) => a * b, 1) * npyItemSize(c.dtype);
        zip.addStreamed(`${c.key}.npy`, size, (write) => {
          write(header);
          c.produce((chunk) => write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
        });
      }
      zip.finish();
    } catch (err) {
      zip.abort();
      throw err;
    }
    return;
  }
  if (existsSync(out)) throw new RangeError(`${out} already exists; give a new directory for the .npy files`);
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    for (const c of columns)
      writeNpyStreamed(`${tmp}/${c.key}.npy`, c.dtype, c.shape, (write) =>
        c.produce((chunk) => write(chunk as never)),
      );
    writeFileSync(`${tmp}/param_names.txt`, set.paramNames.join('\n') + '\n');
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
