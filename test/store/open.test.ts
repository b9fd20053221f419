import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openProject, ProjectOpenError, SCHEMA_VERSION, APPLICATION_ID } from '../../main/store/index.ts';
import { fileHash, patternBatch, tempProjectPath } from './helpers.ts';

function refusal(path: string, opts = {}): ProjectOpenError {
  try {
    openProject(path, opts).close();
  } catch (err) {
    expect(err).toBeInstanceOf(ProjectOpenError);
    return err as ProjectOpenError;
  }
  throw new Error(`${path} opened although it should have been refused`);
}

function makeProjectWithData(path: string): void {
  const p = openProject(path, { create: true });
  const set = p.simulations.create({
    name: 's',
    source: 'emulator',
    paramNames: ['a', 'b'],
    samplesPerTrace: 500,
    sampleRate: 1e6,
    chunkRows: 64,
  });
  for (let b = 0; b < 4; b++) p.simulations.append(set.id, patternBatch(b, 300, 2, 500));
  p.close();
}

describe('opening project files', () => {
  it('creates a project in WAL mode with foreign keys, application id and current schema', () => {
    const path = tempProjectPath();
    const p = openProject(path, { create: true, name: 'lab' });
    expect(p.versionBefore).toBe(0);
    expect(p.meta('name')).toBe('lab');
    p.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    const again = openProject(path);
    expect(again.versionBefore).toBe(SCHEMA_VERSION);
    expect(again.meta('name')).toBe('lab');
    again.close();
  });

  it('refuses a missing file unless asked to create it', () => {
    const path = tempProjectPath();
    expect(refusal(path).reason).toBe('missing');
    expect(existsSync(path)).toBe(false);
    expect(refusal(path, { readonly: true, create: true }).reason).toBe('missing');
  });

  it('refuses a text file as not a project and leaves it unchanged', () => {
    const path = tempProjectPath('notes.adexproj');
    writeFileSync(path, 'theta,x\n1,2\n'.repeat(100));
    const before = fileHash(path);
    const err = refusal(path, { create: true });
    expect(err.reason).toBe('not-sqlite');
    expect(err.message).toContain(path);
    expect(fileHash(path)).toBe(before);
  });

  it('refuses an empty file', () => {
    const path = tempProjectPath();
    writeFileSync(path, '');
    expect(refusal(path, { create: true }).reason).toBe('not-sqlite');
    expect(statSync(path).size).toBe(0);
  });

  it('refuses a foreign SQLite database and leaves it unchanged', () => {
    const path = tempProjectPath('other.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    db.close();
    const before = fileHash(path);
    const err = refusal(path);
    expect(err.reason).toBe('not-project');
    expect(err.message).toMatch(/not a workbench project/);
    expect(fileHash(path)).toBe(before);
  });

  it('refuses a truncated project with a clear message and leaves it unchanged', () => {
    const src = tempProjectPath();
    makeProjectWithData(src);
    for (const cut of [0.5, 0.9]) {
      const path = tempProjectPath(`cut-${cut}.adexproj`);
      copyFileSync(src, path);
      truncateSync(path, Math.floor(statSync(path).size * cut));
      const before = fileHash(path);
      const err = refusal(path);
      expect(['truncated', 'corrupt']).toContain(err.reason);
      expect(err.message).toContain(path);
      expect(fileHash(path)).toBe(before);
    }
    // Cut at a page boundary: only the page count in the header betrays it.
    const path = tempProjectPath('page-cut.adexproj');
    copyFileSync(src, path);
    truncateSync(path, 65536 * 3);
    const before = fileHash(path);
    expect(refusal(path).reason).toBe('truncated');
    expect(fileHash(path)).toBe(before);
  });

  it('refuses a project with damaged pages and leaves it unchanged', () => {
    const path = tempProjectPath();
    makeProjectWithData(path);
    const db = new Database(path);
    const root = (
      db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'simulation_chunks'").get() as {
        rootpage: number;
      }
    ).rootpage;
    db.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, (root - 1) * 65536 + 8, (root - 1) * 65536 + 4096); // overwrite the b-tree page's cells
    writeFileSync(path, bytes);
    const before = fileHash(path);
    const err = refusal(path);
    expect(err.reason).toBe('corrupt');
    expect(fileHash(path)).toBe(before);
  });

  it('refuses a project from a newer workbench and leaves it unchanged', () => {
    const path = tempProjectPath();
    openProject(path, { create: true }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.prepare("UPDATE meta SET value = '9.0.0' WHERE key = 'workbench_version'").run();
    db.close();
    const before = fileHash(path);
    for (const opts of [{}, { readonly: true }]) {
      const err = refusal(path, opts);
      expect(err.reason).toBe('newer');
      expect(err.message).toMatch(/newer workbench \(9\.0\.0, schema v3\)/);
    }
    expect(fileHash(path)).toBe(before);
  });

  it('opens read-only without writing, and refuses writes through that handle', () => {
    const path = tempProjectPath();
    makeProjectWithData(path);
    const before = fileHash(path);
    const p = openProject(path, { readonly: true });
    expect(p.simulations.list()[0].rows).toBe(1200);
    expect(() => p.experiments.create({} as never)).toThrow(/read-only/);
    p.close();
    expect(fileHash(path)).toBe(before);
  });
});

describe('opening odd paths', () => {
  it('refuses a directory with a clear message', () => {
    const dir = tempProjectPath('folder.adexproj');
    mkdirSync(dir);
    expect(refusal(dir).message).toBe(`${dir}: not a workbench project (not a regular file)`);
  });
});
