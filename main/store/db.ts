/**
 * Shared plumbing of the repositories: a connection with a prepared-statement cache, provenance
 * stamps (creation time, sha256 content hash, workbench version) and typed-array <-> blob helpers.
 * Only code under main/store/ sees SQL.
 */
import { createHash, type Hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { WORKBENCH_VERSION } from '../version.ts';

/** How every stored entity says when, from what and by which workbench it was made. */
export interface Provenance {
  /** ISO 8601 UTC creation time. */
  createdAt: string;
  /** sha256 (hex) over the entity's content: its specification JSON and its data bytes. */
  contentHash: string;
  /** Workbench version that wrote it. */
  workbenchVersion: string;
}

/** Thrown when an id does not name a stored entity (a RangeError: the caller passed a bad id). */
export class NotFoundError extends RangeError {
  constructor(what: string, id: number) {
    super(`no ${what} with id ${id} in this project`);
    this.name = 'NotFoundError';
  }
}

/** A connection plus its prepared statements, each SQL text prepared once. */
export class StoreDb {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(
    readonly db: Database.Database,
    readonly readonly: boolean,
  ) {}

  /** The prepared statement for `sql` (prepared on first use, then reused). */
  stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** Run `fn` in one transaction (nested calls become savepoints); `fn` must not await. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Throw a clear error when the project was opened read-only. */
  assertWritable(action: string): void {
    if (this.readonly) throw new Error(`cannot ${action}: the project is open read-only`);
  }
}

/** Provenance for a new entity whose content has the given hash. */
export function stamp(contentHash: string): Provenance {
  return { createdAt: new Date().toISOString(), contentHash, workbenchVersion: WORKBENCH_VERSION };
}

/** JSON with object keys sorted at every level, so equal content hashes equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** sha256 over a JSON specification and any number of byte arrays (each length-prefixed). */
export function contentHash(spec: unknown, ...parts: (ArrayBufferView | null | undefined)[]): string {
  const h = createHash('sha256');
  feed(h, Buffer.from(canonicalJson(spec), 'utf8'));
  for (const p of parts) if (p) feed(h, p);
  return h.digest('hex');
}

function feed(h: Hash, p: ArrayBufferView): void {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(p.byteLength));
  h.update(len);
  h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
}

/** A typed array's bytes as a Buffer view (no copy) for binding as a BLOB. */
export function blob(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

type TypedCtor<T> = { new (buf: ArrayBuffer, off: number, len: number): T; BYTES_PER_ELEMENT: number };

/** Copy a BLOB into a fresh, aligned typed array. */
export function fromBlob<T>(b: Buffer | Uint8Array, C: TypedCtor<T>, what = 'blob'): T {
  if (b.byteLength % C.BYTES_PER_ELEMENT !== 0) {
    throw new Error(`stored ${what} has ${b.byteLength} bytes, not a multiple of ${C.BYTES_PER_ELEMENT}`);
  }
  const own = new ArrayBuffer(b.byteLength);
  new Uint8Array(own).set(b);
  return new C(own, 0, b.byteLength / C.BYTES_PER_ELEMENT);
}

/** Parse a JSON column. */
export function parseJson<T>(text: string | null): T {
  return (text === null ? null : JSON.parse(text)) as T;
}

/** Provenance fields of a row (snake_case columns). */
export function rowProvenance(r: {
  created_at: string;
  content_hash: string;
  workbench_version: string;
}): Provenance {
  return { createdAt: r.created_at, contentHash: r.content_hash, workbenchVersion: r.workbench_version };
}

/** Throw a RangeError naming `name` unless `v` is a finite number (and positive / an integer when asked). */
export function checkNumber(
  name: string,
  v: unknown,
  opts: { positive?: boolean; integer?: boolean; min?: number } = {},
): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new RangeError(`${name} must be a finite number, got ${String(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw new RangeError(`${name} must be a whole number, got ${v}`);
  if (opts.positive && !(v > 0)) throw new RangeError(`${name} must be positive, got ${v}`);
  if (opts.min !== undefined && v < opts.min)
    throw new RangeError(`${name} must be at least ${opts.min}, got ${v}`);
  return v;
}
