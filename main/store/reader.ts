/**
 * Streaming reads of a simulation set for training: `read(indices)` gathers any rows into one
 * theta/codes pair, loading each needed chunk once per call and keeping recently used chunks in an
 * LRU cache bounded in bytes; `epoch(batchSize)` walks the whole set in shuffled mini-batches,
 * shuffling chunks and then rows inside windows that fit the cache, so a set far larger than the
 * cache streams at the speed of sequential chunk reads.
 *
 * Memory: the chunk index (a few numbers per chunk) plus at most `cacheBytes` of chunks plus the
 * caller's batches. A million-trace set of 1,000 samples (2 GB of codes) trains within the default
 * 512 MB cache (measured peak RSS 773 MiB for appending it and streaming one epoch).
 *
 * Which to use for training: when the set fits the cache (100,000 traces of 1,000 samples are
 * 200 MB), `read` with fully random indices is fast after the first epoch. When it does not, random
 * indices miss the cache and each miss loads a whole chunk for one row; use `epoch`, which reads
 * every chunk once per pass.
 */
import { checkNumber, type StoreDb } from './db.ts';
import type { SimulationSet } from './simulations.ts';

/** Options of a SetReader. */
export interface SetReaderOptions {
  /** Upper bound of the chunk cache in bytes; default 512 MiB. */
  cacheBytes?: number;
}

/** Rows gathered from a set: theta (rows x params) and codes (rows x samples), row-major. */
export interface SetRows {
  theta: Float32Array;
  codes: Int16Array;
}

/** One mini-batch of an epoch: the row indices and their data. */
export interface SetBatch extends SetRows {
  indices: Uint32Array;
}

interface Chunk {
  theta: Float32Array;
  codes: Int16Array;
  bytes: number;
}

/** Deterministic uniform [0, 1) generator (mulberry32) for reproducible shuffles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(a: Uint32Array, rnd: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

function view<T>(
  b: Buffer,
  C: { new (buf: ArrayBufferLike, off: number, len: number): T; BYTES_PER_ELEMENT: number },
): T {
  const k = C.BYTES_PER_ELEMENT;
  if (b.byteOffset % k === 0) return new C(b.buffer, b.byteOffset, b.byteLength / k);
  const own = new ArrayBuffer(b.byteLength);
  new Uint8Array(own).set(b);
  return new C(own, 0, b.byteLength / k);
}

/** Random access to the rows of one simulation set. Create with `project.simulations.openReader(id)`. */
export class SetReader {
  /** Committed rows when the reader was opened (or last refreshed). */
  rows = 0;
  readonly nParams: number;
  readonly samples: number;
  readonly paramNames: readonly string[];
  private starts = new Float64Array(0);
  private ids = new Float64Array(0);
  private readonly cache = new Map<number, Chunk>();
  private cachedBytes = 0;
  private readonly cacheBytes: number;
  /** Bytes of the largest chunk (theta + codes), bounding what one cache entry costs. */
  private readonly maxChunkBytes: number;
  /** Chunks loaded from the database since the reader was opened (cache misses). */
  chunkLoads = 0;

  constructor(
    private readonly s: StoreDb,
    readonly set: SimulationSet,
    opts: SetReaderOptions,
  ) {
    this.nParams = set.paramNames.length;
    this.samples = set.samplesPerTrace;
    this.paramNames = set.paramNames;
    this.cacheBytes = checkNumber('cacheBytes', opts.cacheBytes ?? 512 * 1024 * 1024, { min: 0 });
    this.maxChunkBytes = set.chunkRows * (4 * this.nParams + 2 * this.samples);
    this.refresh();
  }

  /** Pick up batches appended since the reader was opened. */
  refresh(): void {
    // Row count first: every chunk below it belongs to a committed batch.
    this.rows = (
      this.s.stmt('SELECT row_count FROM simulation_sets WHERE id = ?').get(this.set.id) as {
        row_count: number;
      }
    ).row_count;
    const chunks = this.s
      .stmt(
        'SELECT id, row_start FROM simulation_chunks WHERE set_id = ? AND row_start < ? ORDER BY row_start',
      )
      .raw(true)
      .all(this.set.id, this.rows) as [number, number][];
    this.ids = Float64Array.from(chunks, (r) => r[0]);
    this.starts = Float64Array.from(chunks, (r) => r[1]);
  }

  /** Index of the chunk holding `row` (binary search over chunk starts). */
  private chunkOf(row: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private chunk(ci: number): Chunk {
    const hit = this.cache.get(ci);
    if (hit) {
      this.cache.delete(ci); // move to the most-recently-used end
      this.cache.set(ci, hit);
      return hit;
    }
    const r = this.s.stmt('SELECT theta, codes FROM simulation_chunks WHERE id = ?').get(this.ids[ci]) as {
      theta: Buffer;
      codes: Buffer;
    };
    this.chunkLoads++;
    const c: Chunk = {
      theta: view(r.theta, Float32Array),
      codes: view(r.codes, Int16Array),
      bytes: r.theta.byteLength + r.codes.byteLength,
    };
    if (c.bytes <= this.cacheBytes) {
      this.cache.set(ci, c);
      this.cachedBytes += c.bytes;
      for (const [k, old] of this.cache) {
        if (this.cachedBytes <= this.cacheBytes) break;
        this.cache.delete(k);
        this.cachedBytes -= old.bytes;
      }
    }
    return c;
  }

  /**
   * Gather the rows at `indices` (any order, repeats allowed) into `out` or fresh arrays;
   * row k of the result is row indices[k] of the set. Throws a RangeError naming a bad index.
   */
  read(indices: Uint32Array | readonly number[], out?: SetRows): SetRows {
    const n = indices.length;
    const P = this.nParams;
    const S = this.samples;
    const theta = out?.theta ?? new Float32Array(n * P);
    const codes = out?.codes ?? new Int16Array(n * S);
    if (theta.length < n * P || codes.length < n * S) {
      throw new RangeError(
        `read: output arrays hold ${theta.length / P} / ${codes.length / S} rows, ${n} needed`,
      );
    }
    for (let k = 0; k < n; k++) {
      const row = indices[k];
      if (!(row >= 0 && row < this.rows && Number.isInteger(row))) {
        throw new RangeError(`read: index ${row} at position ${k} is outside the set (${this.rows} rows)`);
      }
    }
    const copyRow = (c: Chunk, ci: number, k: number) => {
      const local = indices[k] - this.starts[ci];
      const t0 = local * P;
      for (let j = 0; j < P; j++) theta[k * P + j] = c.theta[t0 + j];
      codes.set(c.codes.subarray(local * S, local * S + S), k * S);
    };
    if (n * this.maxChunkBytes <= this.cacheBytes) {
      // Every chunk this call touches fits in the cache at once: gather in the given order.
      let ci = -1;
      let c: Chunk | undefined;
      for (let k = 0; k < n; k++) {
        const kci = this.chunkOf(indices[k]);
        if (kci !== ci) {
          ci = kci;
          c = this.chunk(ci);
        }
        copyRow(c!, ci, k);
      }
      return { theta, codes };
    }
    // Small cache: visit positions sorted by chunk so each chunk is fetched once per call.
    const key = new Float64Array(n);
    for (let k = 0; k < n; k++) key[k] = this.chunkOf(indices[k]) * 4294967296 + k;
    key.sort();
    let ci = -1;
    let c: Chunk | undefined;
    for (let j = 0; j < n; j++) {
      const kci = Math.floor(key[j] / 4294967296);
      if (kci !== ci) {
        ci = kci;
        c = this.chunk(ci);
      }
      copyRow(c!, ci, key[j] - kci * 4294967296);
    }
    return { theta, codes };
  }

  /** Rows [start, start + count) in order. */
  readRange(start: number, count: number): SetRows {
    const idx = new Uint32Array(count);
    for (let i = 0; i < count; i++) idx[i] = start + i;
    return this.read(idx);
  }

  /**
   * One pass over every row in shuffled mini-batches of `batchSize` (the last may be smaller).
   * Chunks are visited in random order, in windows of about `windowBytes` (default: the cache size);
   * the rows of a window are shuffled together. Reproducible for a given `seed`.
   */
  *epoch(batchSize: number, opts: { seed?: number; windowBytes?: number } = {}): Generator<SetBatch> {
    checkNumber('batchSize', batchSize, { integer: true, positive: true });
    const rnd = seededRandom(opts.seed ?? 0);
    const nChunks = this.starts.length;
    const order = new Uint32Array(nChunks);
    for (let i = 0; i < nChunks; i++) order[i] = i;
    shuffle(order, rnd);
    const bytesPerRow = 4 * this.nParams + 2 * this.samples;
    const windowRows = Math.max(
      batchSize,
      Math.floor((opts.windowBytes ?? Math.max(this.cacheBytes, 1)) / bytesPerRow),
    );
    let w = 0;
    while (w < nChunks) {
      const rows: number[] = [];
      while (w < nChunks && (rows.length === 0 || rows.length + this.chunkSize(order[w]) <= windowRows)) {
        const ci = order[w++];
        const end = Math.min(this.starts[ci] + this.chunkSize(ci), this.rows);
        for (let r = this.starts[ci]; r < end; r++) rows.push(r);
      }
      const idx = Uint32Array.from(rows);
      shuffle(idx, rnd);
      for (let b = 0; b < idx.length; b += batchSize) {
        const indices = idx.slice(b, b + batchSize);
        yield { indices, ...this.read(indices) };
      }
    }
  }

  private chunkSize(ci: number): number {
    return (ci + 1 < this.starts.length ? this.starts[ci + 1] : this.rows) - this.starts[ci];
  }

  /** Bytes currently held by the chunk cache. */
  get cacheUsage(): number {
    return this.cachedBytes;
  }

  /** Drop the cache. */
  close(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }
}
