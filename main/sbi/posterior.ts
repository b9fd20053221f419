/**
 * A trained posterior estimate, executed by onnxruntime-node from the two exported contract graphs
 * (docs/onnx-contract.md). Many observations are handled in one call.
 *
 * With a box prior, samples outside the box are rejected and redrawn, and log-densities are
 * renormalized by the accepted mass Z(x), estimated per observation from `acceptanceSamples` draws.
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
import { Session, ort } from '../graph/index.ts';
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
 * The onnxruntime runs for B observations with n rows each: whole observations per run while they
 * fit in ROWS_PER_RUN rows, else one observation's rows in slices. Rows `row..row + rows` of
 * observations `obs..obs + count`.
 */
function* runs(b: number, n: number): Generator<{ obs: number; count: number; row: number; rows: number }> {
  const obsPerRun = Math.floor(ROWS_PER_RUN / n);
  if (obsPerRun >= 1) {
    for (let o = 0; o < b; o += obsPerRun)
      yield { obs: o, count: Math.min(obsPerRun, b - o), row: 0, rows: n };
    return;
  }
  for (let o = 0; o < b; o++) {
    for (let r = 0; r < n; r += ROWS_PER_RUN)
      yield { obs: o, count: 1, row: r, rows: Math.min(ROWS_PER_RUN, n - r) };
  }
}
/** Below this acceptance rate sampling stops with an error instead of looping. */
const MIN_ACCEPTANCE = 1e-4;

/**
 * Intra-op threads of the sampler and log-density sessions: two, or one on a single-core machine.
 * Measured on the 2-core development machine (quiet, graph run alone, best of 7): 10,000 samples
 * of one observation took 211 / 149 ms (MAF), 186 / 114 ms (NSF) and 8.3 / 7.2 ms (MDN) with one /
 * two threads; 1,000 samples for each of 512 observations 11.9 / 7.0 s (MAF) and 0.30 / 0.21 s (MDN).
 */
export const POSTERIOR_THREADS = Math.min(2, os.availableParallelism());

/** The posterior estimate q(theta | x). Arrays are row-major float32. */
export class Posterior {
  private constructor(
    private readonly samplerSession: Session,
    private readonly logProbSession: Session,
    /** What the estimator declares about itself (parameter names, bounds, z-score, ...). */
    readonly meta: PosteriorMetadata,
    private readonly bytes: { sampler: Uint8Array; logProb: Uint8Array },
  ) {}

  /** Create from the two contract models' bytes (checked against the contract). */
  static async fromBytes(
    sampler: Uint8Array,
    logProb: Uint8Array,
    where = 'estimator',
    opts: { threads?: number } = {},
  ): Promise<Posterior> {
    const a = readContractModel(sampler, `${where}/sampler.onnx`, 'sampler').meta;
    const b = readContractModel(logProb, `${where}/log_prob.onnx`, 'log_prob').meta;
    checkSameEstimator(a, b, where);
    const threads = opts.threads ?? POSTERIOR_THREADS;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${opts.threads}`);
    let s: Session, l: Session;
    try {
      s = await Session.create(sampler, { threads });
      l = await Session.create(logProb, { threads });
    } catch (err) {
      throw new ContractError(`${where}: onnxruntime cannot load the estimator: ${(err as Error).message}`);
    }
    return new Posterior(s, l, a, { sampler, logProb });
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

  /** One sampler run: x [B, X], noise [B, n, Z] -> theta [B, n, D]. */
  private async runSampler(x: Float32Array, b: number, n: number, rng: Rng): Promise<Float32Array> {
    const z = this.meta.noiseDim;
    const noise = rng.fillNormal(new Float32Array(b * n * z));
    const out = await this.samplerSession.runRaw({
      x: new ort.Tensor('float32', x, [b, this.meta.xDim]),
      noise: new ort.Tensor('float32', noise, [b, n, z]),
    });
    return out.theta.data as Float32Array;
  }

  /**
   * Unbounded draws for many observations, in cache-sized runs. `ids` numbers the observations
   * as the caller knows them (for errors).
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
    const out = new Float32Array(b * n * d);
    for (const r of runs(b, n)) {
      const draws = await this.runSampler(
        x.subarray(r.obs * xd, (r.obs + r.count) * xd),
        r.count,
        r.rows,
        rng,
      );
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
    }
    return out;
  }

  /** One log-density run: theta [B, n, D], x [B, X] -> [B * n]. */
  private async runLogProb(
    theta: Float32Array,
    x: Float32Array,
    b: number,
    n: number,
  ): Promise<Float32Array> {
    const out = await this.logProbSession.runRaw({
      theta: new ort.Tensor('float32', theta, [b, n, this.meta.thetaDim]),
      x: new ort.Tensor('float32', x, [b, this.meta.xDim]),
    });
    return out.log_prob.data as Float32Array;
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
    for (const r of runs(b, n)) {
      const first = r.obs * n + r.row;
      const part = theta.subarray(first * d, (first + r.count * r.rows) * d);
      out.set(
        await this.runLogProb(part, x.subarray(r.obs * xd, (r.obs + r.count) * xd), r.count, r.rows),
        first,
      );
    }
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

  /** Free the native sessions. */
  async dispose(): Promise<void> {
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
