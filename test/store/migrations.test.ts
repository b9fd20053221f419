import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openProject, SCHEMA_VERSION, APPLICATION_ID } from '../../main/store/index.ts';
import { MIGRATIONS } from '../../main/store/migrations.ts';
import { PAGE_SIZE } from '../../main/store/open.ts';
import { fileHash, tempProjectPath } from './helpers.ts';

const P = "'2026-01-01T00:00:00.000Z', 'h', '0.0.1'";

/** A project file exactly as the first workbench release (schema v1) wrote it, with some data. */
function makeV1File(path: string): void {
  const db = new Database(path);
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.exec(MIGRATIONS[0].up);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('user_version = 1');
  db.exec(`
    INSERT INTO meta VALUES ('name', 'old lab'), ('workbench_version', '0.0.1');
    INSERT INTO experiments VALUES (1, 'step', '{"kind":"step","onset":10,"duration":100,"amplitude":0.5}', '{}',
      '{"names":["a"],"units":["nS"],"low":[0],"high":[1]}', '{"kind":"emulator","mode":"ideal"}', '{"space":"model","duration":200}', ${P});
    INSERT INTO simulation_sets VALUES (1, 1, 'set', 'emulator', '["a"]', 4, 1e6, 256, 2, '{}', ${P});
    INSERT INTO simulation_batches VALUES (1, 1, 0, 2, 7, ${P});
    INSERT INTO observations VALUES (1, 1, 'rec', 'recorded', 1e6, 3, 1, 4, NULL, NULL, '{}', X'0100020003000400', ${P});
  `);
  const chunk = db.prepare('INSERT INTO simulation_chunks VALUES (1, 1, 1, 0, 2, ?, ?, NULL, ?, ?)');
  chunk.run(
    Buffer.from(Float32Array.of(0.25, 0.75).buffer),
    Buffer.from(Int32Array.of(1, 0).buffer),
    Buffer.from(Float32Array.of(5).buffer),
    Buffer.from(Int16Array.of(1, 2, 3, 4, 5, 6, 7, 8).buffer),
  );
  db.prepare(
    `INSERT INTO estimators VALUES (1, 1, 1, 'npe', '{"flow":"maf"}', 'handcrafted', 'trained', '[{"epoch":1,"loss":2.5}]', ?, ${P})`,
  ).run(Buffer.from([8, 1, 2, 3]));
  db.prepare(`INSERT INTO posteriors VALUES (1, 1, 1, 2, '["a"]', '{}', ?, ${P})`).run(
    Buffer.from(Float32Array.of(0.5, 0.6).buffer),
  );
  db.close();
}

describe('schema migrations', () => {
  it('lists versions in order, ending at the current schema', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
  });

  it('upgrades a schema v1 project to the current schema keeping every record', () => {
    const path = tempProjectPath('v1.adexproj');
    makeV1File(path);
    const p = openProject(path);
    expect(p.versionBefore).toBe(1);
    expect(p.meta('name')).toBe('old lab');
    expect(p.experiments.get(1).prior.names).toEqual(['a']);
    const set = p.simulations.get(1);
    expect(set.rows).toBe(2);
    const rows = p.simulations.readRows(1, 0, 2);
    expect(Array.from(rows.theta)).toEqual([0.25, 0.75]);
    expect(Array.from(rows.codes)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(rows.spikeTimes)).toEqual([5]);
    const obs = p.observations.get(1);
    expect(obs.unit).toBe('codes');
    expect(Array.from(obs.data)).toEqual([1, 2, 3, 4]);
    expect(obs.circuitId).toBe(3);
    // The single ONNX blob of v1 estimators becomes the graph named 'posterior'.
    const est = p.estimators.get(1);
    expect(est.graphNames).toEqual(['posterior']);
    expect(Array.from(p.estimators.graph(1, 'posterior'))).toEqual([8, 1, 2, 3]);
    expect(est.history).toEqual([{ epoch: 1, loss: 2.5 }]);
    expect(Array.from(p.posteriors.get(1).samples)).toEqual([0.5, 0.6].map(Math.fround));
    // New tables work.
    p.artifacts.create({ kind: 'sbc-ranks', json: { ranks: [1, 2] }, estimatorId: 1 });
    expect(p.integrityCheck()).toBe('ok');
    p.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });

  it('leaves a v1 file untouched when opened read-only and says it needs an upgrade', () => {
    const path = tempProjectPath('v1.adexproj');
    makeV1File(path);
    const before = fileHash(path);
    expect(() => openProject(path, { readonly: true })).toThrow(/schema v1; open it once for writing/);
    expect(fileHash(path)).toBe(before);
  });

  it('rolls a failing upgrade back completely, leaving the file at v1', () => {
    const path = tempProjectPath('v1.adexproj');
    makeV1File(path);
    // A v1 file that already has a table the v2 step creates makes the upgrade fail halfway.
    const db = new Database(path);
    db.exec('CREATE TABLE artifacts (x)');
    db.close();
    expect(() => openProject(path)).toThrow(
      /upgrade from schema v1 to v2 failed .*artifacts.*left at schema v1/,
    );
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(1);
    const tables = (
      check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((r) => r.name);
    expect(tables).not.toContain('restriction_classifiers');
    expect(tables).not.toContain('estimator_graphs');
    expect(check.prepare('SELECT onnx FROM estimators').get()).toEqual({ onnx: Buffer.from([8, 1, 2, 3]) });
    check.close();
  });
});
