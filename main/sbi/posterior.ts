/**
 * A trained posterior estimate, executed by onnxruntime-node from the two exported contract graphs
 * (docs/onnx-contract.md). Many observations are handled in one call.
 *
 * With a box prior, samples outside the box are rejected and redrawn, and log-densities are
 * renormalized by the accepted mass Z(x), estimated per observation from `acceptanceSamples` draws.
 *
 * Large calls run in worker threads, one single-threaded session each, started by the first such
 * call (about 0.2 s) and stopped by `dispose`; they give the same numbers as the calling thread's
 * sessions, since the noise is drawn from one generator in run order either way.
 *
 * @example
 * const post = await loadPosterior('est');
 * const theta = await post.sample(x, 1000);        // x: B*xDim values -> B*1000*thetaDim values
 * const lp = await post.logProb(theta, x);          // B*1000 values
 * await post.save('copy');
 */
import os from 'node:os';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Session, SessionPool, ort, type PoolTensor, type TypedArray } from '../graph/index.ts';
import { checkSameEstimator, ContractError, readContractModel, type PosteriorMetadata } from './contract.ts';
import { DataError } from './data.ts';
import { insideBounds } from './prior.ts';
import { Rng } from './rng.ts';

/** Options of `sample`. */
export interface SampleOptions {
  /** Seed of the noise (default: fresh from Math.random). */
  seed?: number;
  /** Or a generator to draw from (its state advances). */
  rng?: Rng;
}

/** Options of `logProb`. */
export interface LogProbOptions {
  /** Draws per observation used to estimate the accepted mass of a bounded prior (10,000). */
  acceptanceSamples?: number;
  seed?: number;
}

/**
 * Rows (samples, or parameter sets to evaluate) per onnxruntime run of the sampler and the
 * log-density. Large runs are memory-bound (every intermediate [rows, 50] tensor leaves the cache).
 * For 512 observations x 1,000 parameter sets, log-densities in runs of this size took 5.4 s (NSF)
 * and 0.82 s (MDN) against 8.0 s and 1.46 s in one run.
 */
const ROWS_PER_RUN = 16_384;
/**
 * Rows per run in the workers: smaller, so that two workers running side by side do not crowd
 * each other out of the caches. Two workers sampling the NSF took 3.58-3.65 ms per 1,000 rows in
 * runs of 5,000-8,000 rows, against 3.89 in runs of 16,000 (one worker alone: 3.4-3.5 either way).
 */
const POOL_ROWS_PER_RUN = 6144;
/** One onnxruntime run: rows `row..row + rows` of observations `obs..obs + count`. */
interface Run {
  obs: number;
  count: number;
  row: number;
  rows: number;
}

/**
 * The onnxruntime runs for B observations with n rows each, at least `parts` of them when there
 * are enough rows (one per worker of a pool): whole observations per run while they fit in the
 * run size, else one observation's rows in slices of equal length. In order, so the runs' rows
 * concatenated are the B x n rows observation-major.
 */
function* runs(b: number, n: number, parts = 1, rowsPerRun = ROWS_PER_RUN): Generator<Run> {
  const size = Math.min(rowsPerRun, Math.ceil((b * n) / parts));
  const obsPerRun = Math.floor(size / n);
  if (obsPerRun >= 1) {
    for (let o = 0; o < b; o += obsPerRun)
      yield { obs: o, count: Math.min(obsPerRun, b - o), row: 0, rows: n };
    return;
  }
  // Slices of (nearly) equal length: runs of one shape, evenly spread over the workers.
  const slice = Math.ceil(n / Math.ceil(n / size));
  for (let o = 0; o < b; o++) {
    for (let r = 0; r < n; r += slice) yield { obs: o, count: 1, row: r, rows: Math.min(slice, n - r) };
  }
}
/** Below this acceptance rate sampling stops with an error instead of looping. */
const MIN_ACCEPTANCE = 1e-4;

/**
 * Intra-op threads of the sessions in the calling thread, which run the small calls (and every
 * call when there are no workers): two, or one on a single-core machine.
 */
export const POSTERIOR_THREADS = Math.min(2, os.availableParallelism());

/**
 * Worker threads that run the large calls (POOL_MIN_ROWS rows or more), one single-threaded
 * session per model each, side by side: one per core, at most four, none on a single-core
 * machine. On the 2-core development machine two workers sample 1,000 for each of 512
 * observations in 0.91-0.94 s with the NSF, against 1.0-1.7 s for one session on two threads, whose
 * threads wait for each other at every node (docs/sbi-measurements.md). Each worker keeps a
 * session of each model it ran.
 */
export const POSTERIOR_WORKERS = os.availableParallelism() > 1 ? Math.min(4, os.availableParallelism()) : 0;
/** Fewest rows (samples or parameter sets) of a call that goes to the workers. */
const POOL_MIN_ROWS = 4096;

/** The posterior estimate q(theta | x). Arrays are row-major float32. */
export class Posterior {
  /** The worker pool of large calls, started by the first one. */
  private pool: Promise<SessionPool | null> | null = null;
  private disposed = false;

  private constructor(
    private readonly samplerSession: Session,
    private readonly logProbSession: Session,
    /** What the estimator declares about itself (parameter names, bounds, z-score, ...). */
    readonly meta: PosteriorMetadata,
    private readonly bytes: { sampler: Uint8Array; logProb: Uint8Array },
    /** Workers of large calls (0 or 1: every call runs in this thread's sessions). */
    readonly workers: number,
  ) {}

  /**
   * Create from the two contract models' bytes (checked against the contract). `threads`: intra-op
   * threads of this thread's sessions (POSTERIOR_THREADS); `workers`: worker threads of the large
   * calls (POSTERIOR_WORKERS; 0 or 1 runs every call in this thread, since one single-threaded
   * worker is slower than the calling thread's two-thread sessions).
   */
  static async fromBytes(
    sampler: Uint8Array,
    logProb: Uint8Array,
    where = 'estimator',
    opts: { threads?: number; workers?: number } = {},
  ): Promise<Posterior> {
    const a = readContractModel(sampler, `${where}/sampler.onnx`, 'sampler').meta;
    const b = readContractModel(logProb, `${where}/log_prob.onnx`, 'log_prob').meta;
    checkSameEstimator(a, b, where);
    const threads = opts.threads ?? POSTERIOR_THREADS;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${opts.threads}`);
    const workers = opts.workers ?? POSTERIOR_WORKERS;
    if (!Number.isInteger(workers) || workers < 0)
      throw new RangeError(`workers must be a non-negative integer, got ${opts.workers}`);
    let s: Session, l: Session;
    try {
      s = await Session.create(sampler, { threads });
      l = await Session.create(logProb, { threads });
    } catch (err) {
      throw new ContractError(`${where}: onnxruntime cannot load the estimator: ${(err as Error).message}`);
    }
    return new Posterior(s, l, a, { sampler, logProb }, workers);
  }

  /** Worker threads running now: 0 until the first large call starts them, and after `dispose`. */
  async workersRunning(): Promise<number> {
    const pool = await this.pool;
    return pool?.usable ? pool.size : 0;
  }

  /**
   * The worker pool for a call of `rows` rows, or null when the call runs in this thread: small
   * calls, no workers, or workers that could not start (then a warning says why, once).
   */
  private async poolFor(rows: number): Promise<SessionPool | null> {
    if (this.workers < 2 || rows < POOL_MIN_ROWS) return null;
    this.pool ??= this.startPool();
    const started = this.pool;
    const pool = await started;
    if (pool === null || pool.usable) return pool;
    // A worker stopped: one fresh pool, however many calls noticed it.
    if (this.pool === started) this.pool = this.startPool();
    return this.pool;
  }

  private startPool(): Promise<SessionPool | null> {
    return SessionPool.create(
      { sampler: this.bytes.sampler, logProb: this.bytes.logProb },
      { workers: this.workers },
    ).catch((err: Error) => {
      process.emitWarning(`posterior runs stay in the calling thread: ${err.message}`);
      return null;
    });
  }

  /**
   * Runs `model` over the rows of B observations with n rows each, in the workers (several runs in
   * flight, `done` called in run order) or in this thread. `feeds` makes a run's inputs, in run
   * order, with the arrays it hands over to the worker.
   */
  private async execute(
    model: 'sampler' | 'logProb',
    b: number,
    n: number,
    feeds: (r: Run) => { feeds: Record<string, PoolTensor>; handOver: TypedArray[] },
    done: (r: Run, out: Float32Array) => void,
  ): Promise<void> {
    if (this.disposed) throw new Error('this posterior was disposed; load the estimator again to use it');
    const output = model === 'sampler' ? 'theta' : 'log_prob';
    const pool = await this.poolFor(b * n);
    if (!pool) {
      const session = model === 'sampler' ? this.samplerSession : this.logProbSession;
      for (const r of runs(b, n)) {
        const tensors: Record<string, ort.Tensor> = {};
        for (const [name, f] of Object.entries(feeds(r).feeds))
          tensors[name] = new ort.Tensor('float32', f.data as Float32Array, f.dims);
        done(r, (await session.runRaw(tensors))[output].data as Float32Array);
      }
      return;
    }
    // Two runs per worker in flight: each has its next run waiting when it finishes one.
    const window = 2 * pool.size;
    const inFlight: { r: Run; out: Promise<Record<string, PoolTensor>> }[] = [];
    const plan = runs(b, n, pool.size, POOL_ROWS_PER_RUN);
    try {
      for (;;) {
        while (inFlight.length < window) {
          const next = plan.next();
          if (next.done) break;
          const f = feeds(next.value);
          inFlight.push({ r: next.value, out: pool.run(model, f.feeds, f.handOver) });
        }
        const first = inFlight.shift();
        if (!first) return;
        done(first.r, (await first.out)[output].data as Float32Array);
      }
    } finally {
      // After an error, let the runs still in flight end before the caller goes on.
      await Promise.allSettled(inFlight.map((f) => f.out));
    }
  }

  get thetaDim(): number {
    return this.meta.thetaDim;
  }
  get xDim(): number {
    return this.meta.xDim;
  }

  /** Number of observations in `x` (throws when its length is not a multiple of xDim). */
  private observations(x: Float32Array, what = 'x'): number {
    const d = this.meta.xDim;
    if (x.length === 0 || x.length % d !== 0) {
      throw new DataError(
        `${what}: expected a multiple of ${d} values (observations of width ${d}), got ${x.length}`,
      );
    }
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]))
        throw new DataError(`${what}: observation ${Math.floor(i / d)} contains NaN or inf`);
    }
    return x.length / d;
  }

  /**
   * Unbounded draws for many observations, in cache-sized runs. `ids` numbers the observations
   * as the caller knows them (for errors). The noise is drawn from `rng` in run order, so the
   * draws do not depend on how the runs are split.
   * @throws DataError when a sample is not finite (NaN or inf), naming the observation.
   */
  private async drawUnbounded(
    x: Float32Array,
    b: number,
    n: number,
    rng: Rng,
    ids: readonly number[] = [...Array(b).keys()],
  ): Promise<Float32Array> {
    const d = this.meta.thetaDim;
    const xd = this.meta.xDim;
    const z = this.meta.noiseDim;
    const out = new Float32Array(b * n * d);
    await this.execute(
      'sampler',
      b,
      n,
      (r) => {
        const noise = rng.fillNormal(new Float32Array(r.count * r.rows * z));
        return {
          feeds: {
            x: { data: x.subarray(r.obs * xd, (r.obs + r.count) * xd), dims: [r.count, xd] },
            noise: { data: noise, dims: [r.count, r.rows, z] },
          },
          handOver: [noise],
        };
      },
      (r, draws) => {
        // v - v is 0 for finite v, NaN for NaN and +-inf.
        for (let i = 0; i < draws.length; i++) {
          if (draws[i] - draws[i] !== 0) {
            const obs = ids[r.obs + Math.floor(i / (r.rows * d))];
            throw new DataError(
              `observation ${obs}: the estimator returned a non-finite sample (${draws[i]}); its outputs overflow for this observation, so its estimate cannot be used`,
            );
          }
        }
        out.set(draws, (r.obs * n + r.row) * d);
      },
    );
    return out;
  }

  /** Log-densities of the unbounded estimate for B observations with n parameter sets each, in cache-sized runs. */
  private async logProbUnbounded(
    theta: Float32Array,
    x: Float32Array,
    b: number,
    n: number,
  ): Promise<Float32Array> {
    const d = this.meta.thetaDim;
    const xd = this.meta.xDim;
    const out = new Float32Array(b * n);
    await this.execute(
      'logProb',
      b,
      n,
      (r) => {
        const first = r.obs * n + r.row;
        return {
          feeds: {
            theta: {
              data: theta.subarray(first * d, (first + r.count * r.rows) * d),
              dims: [r.count, r.rows, d],
            },
            x: { data: x.subarray(r.obs * xd, (r.obs + r.count) * xd), dims: [r.count, xd] },
          },
          handOver: [],
        };
      },
      (r, lp) => out.set(lp, r.obs * n + r.row),
    );
    return out;
  }

  /**
   * `n` samples for each observation in `x` (B observations of width xDim): returns B*n*thetaDim
   * values, observation-major. Inside the prior box when the estimator has bounds.
   * @throws DataError for malformed x, or when almost no mass of an observation lies in the box.
   */
  async sample(x: Float32Array, n: number, opts: SampleOptions = {}): Promise<Float32Array> {
    if (!Number.isInteger(n) || n < 1)
      throw new DataError(`number of samples must be a positive integer, got ${n}`);
    const b = this.observations(x);
    const rng = opts.rng ?? new Rng(opts.seed ?? Math.floor(Math.random() * 2 ** 32));
    const first = await this.drawUnbounded(x, b, n, rng);
    const bounds = this.meta.bounds;
    if (!bounds) return first;
    const d = this.meta.thetaDim;
    const xd = this.meta.xDim;
    const out = new Float32Array(b * n * d);
    const filled = new Int32Array(b);
    const drawn = new Float64Array(b);
    const accept = (draws: Float32Array, obs: number[], per: number) => {
      obs.forEach((o, k) => {
        drawn[o] += per;
        for (let r = 0; r < per && filled[o] < n; r++) {
          if (insideBounds(draws, k * per + r, bounds)) {
            out.set(draws.subarray((k * per + r) * d, (k * per + r + 1) * d), (o * n + filled[o]) * d);
            filled[o]++;
          }
        }
      });
    };
    accept(first, [...Array(b).keys()], n);
    for (;;) {
      const todo = [...Array(b).keys()].filter((o) => filled[o] < n);
      if (todo.length === 0) return out;
      for (const o of todo) {
        const rate = filled[o] / drawn[o];
        if (drawn[o] >= 100_000 && rate < MIN_ACCEPTANCE) {
          throw new DataError(
            `observation ${o}: only ${filled[o]} of ${drawn[o]} samples fall inside the prior bounds; the estimate puts almost no mass there`,
          );
        }
      }
      // Redraw enough for the neediest observation at its observed acceptance rate (+20%).
      const need = Math.max(
        ...todo.map((o) => (n - filled[o]) / Math.max(filled[o] / drawn[o], MIN_ACCEPTANCE / 10)),
      );
      const per = Math.min(
        Math.ceil(need * 1.2) + 16,
        Math.max(n, Math.floor((64 * ROWS_PER_RUN) / todo.length)),
      );
      const xs = new Float32Array(todo.length * xd);
      todo.forEach((o, k) => xs.set(x.subarray(o * xd, (o + 1) * xd), k * xd));
      accept(await this.drawUnbounded(xs, todo.length, per, rng, todo), todo, per);
    }
  }

  /**
   * Fraction of the unbounded estimate's mass inside the prior box, per observation (1 without
   * bounds), estimated from `m` draws each.
   */
  async acceptanceRate(x: Float32Array, m = 10_000, seed = 0): Promise<Float64Array> {
    const b = this.observations(x);
    const out = new Float64Array(b).fill(1);
    const bounds = this.meta.bounds;
    if (!bounds) return out;
    const draws = await this.drawUnbounded(x, b, m, new Rng(seed));
    for (let o = 0; o < b; o++) {
      let inside = 0;
      for (let r = 0; r < m; r++) if (insideBounds(draws, o * m + r, bounds)) inside++;
      out[o] = inside / m;
    }
    return out;
  }

  /**
   * log p(theta | x). `x` holds B observations; `theta` holds B*N parameter sets (N per
   * observation, observation-major) or N sets evaluated under the single observation when B = 1.
   * Returns B*N values. With bounds: -Infinity outside the box, log q - log Z(x) inside.
   */
  async logProb(theta: Float32Array, x: Float32Array, opts: LogProbOptions = {}): Promise<Float32Array> {
    const b = this.observations(x);
    const d = this.meta.thetaDim;
    if (theta.length === 0 || theta.length % (b * d) !== 0) {
      throw new DataError(
        `theta: expected a multiple of ${b * d} values (${b} observation(s) x parameter sets of width ${d}), got ${theta.length}`,
      );
    }
    const n = theta.length / (b * d);
    const lp = await this.logProbUnbounded(theta, x, b, n);
    const bounds = this.meta.bounds;
    if (!bounds) return lp;
    const z = await this.acceptanceRate(x, opts.acceptanceSamples ?? 10_000, opts.seed ?? 0);
    for (let o = 0; o < b; o++) {
      const logZ = Math.log(Math.max(z[o], 1 / (opts.acceptanceSamples ?? 10_000)));
      for (let r = 0; r < n; r++) {
        const i = o * n + r;
        lp[i] = insideBounds(theta, i, bounds) ? lp[i] - logZ : -Infinity;
      }
    }
    return lp;
  }

  /**
   * Check that data matches this estimator: observation width and, if given, parameter names.
   * @throws ContractError naming the mismatch.
   */
  checkCompatible(opts: { xDim?: number; thetaDim?: number; parameterNames?: string[] }): void {
    if (opts.xDim !== undefined && opts.xDim !== this.meta.xDim) {
      throw new ContractError(
        `observations have ${opts.xDim} columns but the estimator expects ${this.meta.xDim}`,
      );
    }
    if (opts.thetaDim !== undefined && opts.thetaDim !== this.meta.thetaDim) {
      throw new ContractError(
        `parameter sets have ${opts.thetaDim} columns but the estimator has ${this.meta.thetaDim}`,
      );
    }
    if (
      opts.parameterNames &&
      opts.parameterNames.join('\u0000') !== this.meta.parameterNames.join('\u0000')
    ) {
      throw new ContractError(
        `parameter names [${opts.parameterNames.join(', ')}] differ from the estimator's [${this.meta.parameterNames.join(', ')}]`,
      );
    }
  }

  /**
   * Write `sampler.onnx` and `log_prob.onnx` into a new directory `dir`, atomically: the files go to a
   * temporary sibling directory that is renamed into place. Refuses to overwrite an existing path.
   */
  async save(dir: string): Promise<void> {
    if (existsSync(dir))
      throw new DataError(`${dir} already exists; choose a new directory for the estimator`);
    const parent = dirname(dir);
    if (!existsSync(parent)) throw new DataError(`cannot save to ${dir}: directory ${parent} does not exist`);
    const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
    try {
      mkdirSync(tmp);
      writeFileSync(join(tmp, 'sampler.onnx'), this.bytes.sampler);
      writeFileSync(join(tmp, 'log_prob.onnx'), this.bytes.logProb);
      renameSync(tmp, dir);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** The ONNX bytes of the two graphs. */
  modelBytes(): { sampler: Uint8Array; logProb: Uint8Array } {
    return this.bytes;
  }

  /** Free the native sessions and stop the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const pool = await this.pool;
    this.pool = null;
    await pool?.close();
    await this.samplerSession.release();
    await this.logProbSession.release();
  }
}

/**
 * Load an estimator directory written by `save` (or `adexwb train`).
 * @throws ContractError for missing, corrupt or foreign files, or files from different estimators.
 */
export async function loadPosterior(dir: string): Promise<Posterior> {
  const read = (f: string): Uint8Array => {
    const p = join(dir, f);
    try {
      return readFileSync(p);
    } catch (err) {
      throw new ContractError(
        `cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  return Posterior.fromBytes(read('sampler.onnx'), read('log_prob.onnx'), dir);
}
