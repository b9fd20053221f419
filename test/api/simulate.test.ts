import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Workbench } from '../../main/api/workbench.ts';
import type { JobStatus } from '../../main/jobs/types.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('simulation through the API', () => {
  it('runs a simulation job in a worker that writes into the open project', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-sim-'));
    dirs.push(dir);
    const wb = new Workbench({ transport: 'local', dataDir: dir });
    try {
      expect((await wb.call('project:create', { path: path.join(dir, 'p.adexproj') })).ok).toBe(true);
      const statuses: JobStatus[] = [];
      wb.onEvent((e) => e.type === 'job' && statuses.push(e.status));
      const res = await wb.call('sim:start', {
        name: 'prior draws',
        n: 300,
        seed: 3,
        mode: 'hardware',
        chipSeed: 1,
      });
      expect(res.ok).toBe(true);
      const jobId = (res as { ok: true; value: { jobId: string } }).value.jobId;
      await expect.poll(() => wb.runner.get(jobId)?.state, { timeout: 120_000, interval: 200 }).toBe('done');
      expect(statuses.some((s) => s.state === 'running' && (s.done ?? 0) > 0)).toBe(true);

      const summary = await wb.call('project:summary', {});
      expect(summary).toMatchObject({
        ok: true,
        value: { overview: { counts: { simulationSets: 1, simulatedTraces: 300 } } },
      });
      const stats = await wb.call('sim:stats', {});
      expect(stats.ok).toBe(true);
      const s = (
        stats as {
          ok: true;
          value: { rows: number; spikeHistogram: number[]; invalid: number; inRegime: number }[];
        }
      ).value[0];
      expect(s.rows).toBe(300);
      expect(s.spikeHistogram.reduce((a, b) => a + b, 0) + s.invalid).toBe(300);
      expect(s.inRegime).toBeGreaterThan(0);
      expect(s.inRegime).toBeLessThanOrEqual(1);
    } finally {
      await wb.close();
    }
  });

  it('removes the set of a cancelled simulation, so no unfinished set stays in the project', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-sim-'));
    dirs.push(dir);
    const wb = new Workbench({ transport: 'local', dataDir: dir });
    try {
      await wb.call('project:create', { path: path.join(dir, 'p.adexproj') });
      const res = await wb.call('sim:start', {
        name: 'big',
        n: 400_000,
        seed: 1,
        mode: 'hardware',
        chipSeed: 1,
      });
      const jobId = (res as { ok: true; value: { jobId: string } }).value.jobId;
      await expect
        .poll(() => wb.runner.get(jobId)?.done ?? 0, { timeout: 120_000, interval: 100 })
        .toBeGreaterThan(0);
      expect(wb.runner.cancel(jobId)).toBe(true);
      await expect
        .poll(() => wb.runner.get(jobId)?.state, { timeout: 60_000, interval: 100 })
        .toBe('cancelled');
      const summary = await wb.call('project:summary', {});
      expect(summary).toMatchObject({
        ok: true,
        value: { overview: { counts: { simulationSets: 0, simulatedTraces: 0, experiments: 0 } } },
      });
    } finally {
      await wb.close();
    }
  });

  it('rejects inverted prior bounds before starting anything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-sim-'));
    dirs.push(dir);
    const wb = new Workbench({ transport: 'local', dataDir: dir });
    try {
      await wb.call('project:create', { path: path.join(dir, 'p.adexproj') });
      const box = { low: [1, 1, 1, 1, 1, 1, 1], high: [2, 2, 0.5, 2, 2, 2, 2] };
      const res = await wb.call('sim:start', { name: 'x', n: 10, seed: 1, mode: 'ideal', chipSeed: 1, box });
      expect(res).toMatchObject({
        ok: false,
        error: { code: 'invalid_argument', message: expect.stringContaining('parameter 3') },
      });
      expect(wb.runner.list()).toEqual([]);
    } finally {
      await wb.close();
    }
  });
});
