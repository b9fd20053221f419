/**
 * Opening a project file safely. Before anything writes to a file it is inspected read-only: the
 * SQLite header (magic, page size, length against the page count), the application id, the schema
 * version and the meta table. A file that is not a project, is truncated or corrupt, or comes from a
 * newer workbench is refused with a ProjectOpenError naming the file and the reason, and is left
 * byte-for-byte unchanged. Only then is the writer lock taken and the migrations run, in one
 * transaction.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { acquireProjectLock, type ProjectLock } from './lock.ts';
import { WORKBENCH_VERSION } from '../version.ts';

/**
 * The desktop app runs better-sqlite3 built for Electron's ABI; `npm start` passes its path in
 * ADEXWB_SQLITE_BINDING. Node (CLI, browser mode, tests) uses the package's own build.
 */
function nativeBinding(): { nativeBinding?: string } {
  const p = process.env.ADEXWB_SQLITE_BINDING;
  return p ? { nativeBinding: p } : {};
}

/** Why a file could not be opened as a project. */
export type OpenFailure =
  | 'missing'
  | 'not-sqlite'
  | 'not-project'
  | 'truncated'
  | 'corrupt'
  | 'newer'
  | 'outdated'
  | 'upgrade-failed'
  | 'unreadable';

/** A file that cannot be opened as a project; the message names the file and the reason. */
export class ProjectOpenError extends Error {
  constructor(
    readonly path: string,
    readonly reason: OpenFailure,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'ProjectOpenError';
  }
}

/** The page size of new projects: large pages keep the chain of overflow pages of trace blobs short. */
export const PAGE_SIZE = 65536;
/** Files below this size get a full `PRAGMA quick_check` on open (larger ones: header and schema checks). */
const QUICK_CHECK_LIMIT = 256 * 1024 * 1024;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

interface Inspection {
  exists: boolean;
  version: number;
}

/** Check the raw header: SQLite magic, plausible page size and a file not shorter than its pages. */
function checkHeader(path: string): void {
  const st = statSync(path);
  if (!st.isFile())
    throw new ProjectOpenError(path, 'not-sqlite', 'not a workbench project (not a regular file)');
  const size = st.size;
  const head = Buffer.alloc(100);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new ProjectOpenError(
      path,
      'unreadable',
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (size < 100 || !head.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new ProjectOpenError(path, 'not-sqlite', 'not a workbench project (not an SQLite database file)');
  }
  const raw = head.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    throw new ProjectOpenError(path, 'corrupt', `corrupt SQLite header (page size ${raw})`);
  }
  if (size % pageSize !== 0) {
    throw new ProjectOpenError(
      path,
      'truncated',
      `truncated or damaged: ${size} bytes is not a whole number of ${pageSize}-byte pages`,
    );
  }
  // The page count in the header is trustworthy when no write-ahead log holds newer pages.
  const walPath = `${path}-wal`;
  const walEmpty = !existsSync(walPath) || statSync(walPath).size === 0;
  const pages = head.readUInt32BE(28);
  const valid = head.readUInt32BE(24) === head.readUInt32BE(92);
  if (walEmpty && valid && pages > 0 && size < pages * pageSize) {
    throw new ProjectOpenError(
      path,
      'truncated',
      `truncated: the file has ${size / pageSize} of its ${pages} pages`,
    );
  }
}

function sqliteFailure(path: string, err: unknown): ProjectOpenError {
  const e = err as { code?: string; message?: string };
  if (e.code === 'SQLITE_NOTADB')
    return new ProjectOpenError(path, 'not-sqlite', 'not a workbench project (not an SQLite database file)');
  if (
    e.code === 'SQLITE_CORRUPT' ||
    e.code?.startsWith('SQLITE_CORRUPT') ||
    e.code === 'SQLITE_IOERR_SHORT_READ'
  ) {
    return new ProjectOpenError(path, 'corrupt', `the database is corrupt (${e.message ?? e.code})`);
  }
  return new ProjectOpenError(
    path,
    'corrupt',
    `cannot be read as a project (${e.code ?? ''} ${e.message ?? String(err)})`,
  );
}

/** Inspect a file read-only and throw unless it is a project this workbench can open. */
export function inspectProjectFile(path: string): Inspection {
  if (!existsSync(path)) return { exists: false, version: 0 };
  checkHeader(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, ...nativeBinding() });
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (appId !== APPLICATION_ID) {
      throw new ProjectOpenError(
        path,
        'not-project',
        `not a workbench project (an SQLite database with application id ${appId})`,
      );
    }
    if (version > SCHEMA_VERSION) {
      const written = (
        db.prepare("SELECT value FROM meta WHERE key = 'workbench_version'").get() as
          { value: string } | undefined
      )?.value;
      throw new ProjectOpenError(
        path,
        'newer',
        `written by a newer workbench (${written ?? 'unknown version'}, schema v${version}); this workbench ${WORKBENCH_VERSION} knows schema up to v${SCHEMA_VERSION}; the file was not changed`,
      );
    }
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (statSync(path).size <= QUICK_CHECK_LIMIT) {
      const res = db.pragma('quick_check', { simple: true }) as string;
      if (res !== 'ok') throw new ProjectOpenError(path, 'corrupt', `the database is corrupt (${res})`);
    }
    return { exists: true, version };
  } catch (err) {
    if (err instanceof ProjectOpenError) throw err;
    throw sqliteFailure(path, err);
  } finally {
    db?.close();
  }
}

/** What `openDatabase` hands to the Project. */
export interface OpenedDatabase {
  db: Database.Database;
  lock?: ProjectLock;
  /** Schema version the file had before this open (0 for a new file). */
  versionBefore: number;
}

/** Apply the connection settings every handle uses. */
function configure(db: Database.Database, readonly: boolean): void {
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536');
  if (!readonly) db.pragma('synchronous = NORMAL');
}

/** Run the migrations above the file's version, in one transaction that rechecks the version. */
function migrate(path: string, db: Database.Database): number {
  const run = db.transaction(() => {
    const at = db.pragma('user_version', { simple: true }) as number;
    if (at > SCHEMA_VERSION)
      throw new ProjectOpenError(
        path,
        'newer',
        `schema v${at} is newer than this workbench knows (v${SCHEMA_VERSION})`,
      );
    if (at === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    for (const m of MIGRATIONS) {
      if (m.version <= at) continue;
      try {
        db.exec(m.up);
      } catch (err) {
        const what =
          at === 0 ? `creating schema v${m.version}` : `upgrade from schema v${at} to v${m.version}`;
        throw new ProjectOpenError(
          path,
          'upgrade-failed',
          `${what} failed (${(err as Error).message}); the file was left at schema v${at}`,
        );
      }
    }
    if (at < SCHEMA_VERSION) {
      const put = db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      );
      if (at === 0) put.run('created_at', new Date().toISOString());
      put.run('workbench_version', WORKBENCH_VERSION);
      put.run(`migrated_to_v${SCHEMA_VERSION}_at`, new Date().toISOString());
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    return at;
  });
  return run.immediate();
}

/**
 * Open (and create or upgrade) the SQLite file of a project. Read-only opens take no lock and
 * refuse files that would need an upgrade.
 */
export function openDatabase(path: string, opts: { create?: boolean; readonly?: boolean }): OpenedDatabase {
  const found = inspectProjectFile(path);
  if (!found.exists && (!opts.create || opts.readonly)) {
    throw new ProjectOpenError(path, 'missing', 'no such project file');
  }
  if (opts.readonly) {
    if (found.version < SCHEMA_VERSION) {
      throw new ProjectOpenError(
        path,
        'outdated',
        `uses schema v${found.version}; open it once for writing to upgrade it to v${SCHEMA_VERSION}`,
      );
    }
    const db = new Database(path, { readonly: true, fileMustExist: true, ...nativeBinding() });
    configure(db, true);
    return { db, versionBefore: found.version };
  }
  const lock = acquireProjectLock(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: found.exists, ...nativeBinding() });
    if (!found.exists) db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    configure(db, false);
    const versionBefore = migrate(path, db);
    return { db, lock, versionBefore };
  } catch (err) {
    db?.close();
    lock.release();
    if (err instanceof ProjectOpenError) throw err;
    throw sqliteFailure(path, err);
  }
}
