import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openProject } from '../../main/store/index.ts';
import { patternBatch, tempProjectPath, tsxArgs } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./fixtures/project-child.ts', import.meta.url));
const ROWS = 1000;
const SAMPLES = 1000;

/** Run the appending child, SIGKILL it `delayMs` after it is ready; resolve with the tags it reported. */
function appendAndKill(path: string, delayMs: number): Promise<number[]> {
  const [cmd, argv] = tsxArgs(CHILD, 'append', path, String(ROWS), String(SAMPLES));
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      const first = !out.includes('ready');
      out += d.toString();
      if (first && out.includes('ready')) setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code}/${signal}: ${err}`));
      else resolve([...out.matchAll(/appended (\d+)/g)].map((m) => Number(m[1])));
    });
  });
}

describe('crash safety', () => {
  it('keeps every batch whole or absent when the writer is killed with SIGKILL at random moments', async () => {
    const path = tempProjectPath();
    let verified = 0;
    let killsMidStream = 0;
    for (let round = 0; round < 8; round++) {
      const reported = await appendAndKill(path, 50 + Math.random() * 600);
      // Structure, checked directly on the file: SQLite integrity and chunk coverage of every batch.
      const db = new Database(path, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const bad = db
        .prepare(
          `SELECT b.id, b.row_count, coalesce(sum(c.row_count), 0) AS chunk_rows FROM simulation_batches b
           LEFT JOIN simulation_chunks c ON c.batch_id = b.id GROUP BY b.id HAVING chunk_rows != b.row_count`,
        )
        .all();
      expect(bad).toEqual([]);
      const orphans = db
        .prepare(
          'SELECT count(*) AS n FROM simulation_chunks WHERE batch_id NOT IN (SELECT id FROM simulation_batches)',
        )
        .get() as { n: number };
      expect(orphans.n).toBe(0);
      db.close();

      const p = openProject(path); // also takes over the stale lock of the killed writer
      expect(p.integrityCheck()).toBe('ok');
      const set = p.simulations.list()[0];
      const batches = p.simulations.batches(set.id);
      expect(set.rows).toBe(batches.length * ROWS);
      // Every batch the writer reported as committed survived; at most one more may have committed unreported.
      const lastReported = reported.length ? reported[reported.length - 1] : verified - 1;
      expect(batches.length).toBeGreaterThanOrEqual(lastReported + 1);
      expect(batches.length).toBeLessThanOrEqual(lastReported + 2);
      if (batches.length > lastReported + 1 || reported.length > 0) killsMidStream++;
      batches.forEach((b, i) => {
        expect(b.rowStart).toBe(i * ROWS);
        expect(b.seed).toBe(i);
      });
      // Contents of the batches added this round are exactly what was written.
      for (let i = verified; i < batches.length; i++) {
        const want = patternBatch(i, ROWS, 4, SAMPLES);
        const got = p.simulations.readRows(set.id, i * ROWS, ROWS);
        expect(Buffer.from(got.theta.buffer).equals(Buffer.from(want.theta.buffer))).toBe(true);
        expect(Buffer.from(got.codes.buffer).equals(Buffer.from(want.codes.buffer))).toBe(true);
        expect(Array.from(got.spikeCounts)).toEqual(Array.from(want.spikeCounts));
        expect(Array.from(got.spikeTimes)).toEqual(Array.from(want.spikeTimes));
      }
      verified = batches.length;
      p.close();
    }
    expect(verified).toBeGreaterThan(0);
    expect(killsMidStream).toBeGreaterThan(0);
  });
});
