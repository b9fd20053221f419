/**
 * Validation tasks from the sbibm benchmark (Lueckmann et al. 2021) with the benchmark's
 * definitions, and loading of the shipped reference observations and posterior samples
 * (`<root>/<task>/obs<N>/`, gzip CSV read with node:zlib).
 *
 * @example
 * const task = getTask('two_moons');
 * const theta = task.samplePrior(10_000, rng);
 * const x = task.simulate(theta, rng);
 * const ref = loadReference('two_moons', 1, defaultReferenceRoot());
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Rng } from './rng.ts';
import type { Bounds } from './prior.ts';

/** Names of the built-in validation tasks. */
export const TASK_NAMES = ['two_moons', 'gaussian_linear'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** A simulator with its prior; arrays are row-major float32 (n rows). */
export interface Task {
  readonly name: TaskName;
  readonly thetaDim: number;
  readonly xDim: number;
  readonly parameterNames: string[];
  /** Box support of the prior, when it is bounded. */
  readonly bounds?: Bounds;
  samplePrior(n: number, rng: Rng): Float32Array;
  simulate(theta: Float32Array, rng: Rng): Float32Array;
}

/** gaussian_linear, dim 10: theta ~ N(0, 0.1 I), x ~ N(theta, 0.1 I). */
function gaussianLinear(): Task {
  const dim = 10;
  const sd = Math.sqrt(0.1);
  return {
    name: 'gaussian_linear',
    thetaDim: dim,
    xDim: dim,
    parameterNames: Array.from({ length: dim }, (_, i) => `parameter_${i + 1}`),
    samplePrior(n, rng) {
      const out = new Float32Array(n * dim);
      for (let i = 0; i < out.length; i++) out[i] = sd * rng.normal();
      return out;
    },
    simulate(theta, rng) {
      const out = new Float32Array(theta.length);
      for (let i = 0; i < out.length; i++) out[i] = theta[i] + sd * rng.normal();
      return out;
    },
  };
}

/**
 * two_moons: theta ~ U([-1, 1]^2); a ~ U(-pi/2, pi/2), r ~ N(0.1, 0.01^2),
 * p = (r cos a + 0.25, r sin a); x = p + (-|z0|, z1) with (z0, z1) theta rotated by -pi/4.
 */
function twoMoons(): Task {
  const c = Math.cos(-Math.PI / 4);
  const s = Math.sin(-Math.PI / 4);
  return {
    name: 'two_moons',
    thetaDim: 2,
    xDim: 2,
    parameterNames: ['parameter_1', 'parameter_2'],
    bounds: { low: [-1, -1], high: [1, 1] },
    samplePrior(n, rng) {
      const out = new Float32Array(n * 2);
      for (let i = 0; i < out.length; i++) out[i] = 2 * rng.uniform() - 1;
      return out;
    },
    simulate(theta, rng) {
      const n = theta.length / 2;
      const out = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const a = Math.PI * (rng.uniform() - 0.5);
        const r = 0.1 + 0.01 * rng.normal();
        const t1 = theta[2 * i];
        const t2 = theta[2 * i + 1];
        const z0 = c * t1 - s * t2;
        const z1 = s * t1 + c * t2;
        out[2 * i] = r * Math.cos(a) + 0.25 - Math.abs(z0);
        out[2 * i + 1] = r * Math.sin(a) + z1;
      }
      return out;
    },
  };
}

/** Look up a task by name. @throws RangeError for an unknown name. */
export function getTask(name: string): Task {
  if (name === 'two_moons') return twoMoons();
  if (name === 'gaussian_linear') return gaussianLinear();
  throw new RangeError(`unknown task '${name}' (known: ${TASK_NAMES.join(', ')})`);
}

/** `../shared/reference/sbibm` relative to the repository root. */
export function defaultReferenceRoot(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return resolve(repoRoot, '..', 'shared', 'reference', 'sbibm');
}

/** One reference observation of a task. */
export interface Reference {
  observation: Float32Array;
  trueParameters: Float32Array;
  /** Reference posterior samples, row-major (rows x thetaDim). */
  samples: Float32Array;
  rows: number;
}

/**
 * Read `<root>/<task>/obs<num>/`: observation.csv, true_parameters.csv and
 * reference_posterior_samples.csv.gz.
 * @throws Error naming the file when a file is missing or malformed.
 */
export function loadReference(task: TaskName, num: number, root: string): Reference {
  const dir = join(root, task, `obs${num}`);
  if (!existsSync(dir)) throw new Error(`reference observation not found: ${dir}`);
  const t = getTask(task);
  const obs = readCsv(join(dir, 'observation.csv'), t.xDim);
  const truth = readCsv(join(dir, 'true_parameters.csv'), t.thetaDim);
  const samples = readCsv(join(dir, 'reference_posterior_samples.csv.gz'), t.thetaDim);
  if (obs.rows !== 1)
    throw new Error(`${join(dir, 'observation.csv')}: expected 1 data row, got ${obs.rows}`);
  return { observation: obs.data, trueParameters: truth.data, samples: samples.data, rows: samples.rows };
}

/** Parse a numeric CSV with one header line (gzip when the name ends in .gz). */
export function readCsv(path: string, columns: number): { data: Float32Array; rows: number } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = lines[0]?.split(',') ?? [];
  if (header.length !== columns)
    throw new Error(`${path}: expected ${columns} columns, header has ${header.length}`);
  const rows = lines.length - 1;
  const data = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1].split(',');
    if (cells.length !== columns)
      throw new Error(`${path}: row ${r + 1} has ${cells.length} columns, expected ${columns}`);
    for (let c = 0; c < columns; c++) {
      const v = Number(cells[c]);
      if (!Number.isFinite(v))
        throw new Error(`${path}: row ${r + 1} column ${c + 1} is not a number: '${cells[c]}'`);
      data[r * columns + c] = v;
    }
  }
  return { data, rows };
}
