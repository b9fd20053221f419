/**
 * The restriction step and the stopped-run calls through the API (in-process transport, real
 * worker jobs, a real project file): validation of every payload, checks against the project, and
 * clear errors for runs that cannot be resumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Workbench } from '../../main/api/workbench.ts';
import type { Envelope, RestrictionDetails } from '../../main/api/contract.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-runs-'));
let wb: Workbench;

async function finish(res: Envelope<unknown>): Promise<void> {
  expect(res.ok).toBe(true);
  const jobId = (res as { ok: true; value: { jobId: string } }).value.jobId;
  const t0 = Date.now();
  while (wb.runner.get(jobId)?.state === 'running' && Date.now() - t0 < 120_000)
    await new Promise((r) => setTimeout(r, 200));
  expect(wb.runner.get(jobId)?.error).toBeUndefined();
  expect(wb.runner.get(jobId)?.state).toBe('done');
}

const error = (res: Envelope<unknown>) =>
  (res as { ok: false; error: { code: string; message: string } }).error;

beforeAll(async () => {
  wb = new Workbench({ transport: 'local', dataDir: dir });
  expect((await wb.call('project:create', { path: path.join(dir, 'p.adexproj') })).ok).toBe(true);
  await finish(await wb.call('sim:start', { name: 'box', n: 300, seed: 2, mode: 'hardware', chipSeed: 1 }));
});
afterAll(async () => {
  await wb.close();
  rmSync(dir, { recursive: true, force: true });
});

const regime = { minSpikes: 3, maxSpikes: 30 };
const run = {
  sims: 300,
  seed: 1,
  mode: 'hardware' as const,
  chipSeed: 1,
  estimator: 'mdn' as const,
  ensemble: 1,
  maxEpochs: 2,
  chipSamples: 0,
};

describe('restriction step through the API', () => {
  it('refuses bad payloads with a message naming the problem', async () => {
    const pct = error(await wb.call('restriction:start', { setId: 1, regime, falseNegativeRate: 5 }));
    expect(pct.code).toBe('invalid_argument');
    expect(pct.message).toMatch(/falseNegativeRate.*at most 0\.5/);
    const missing = error(await wb.call('restriction:start', { setId: 42, regime, falseNegativeRate: 0.01 }));
    expect(missing.code).toBe('not_found');
    const range = error(
      await wb.call('restriction:start', {
        setId: 1,
        regime: { minSpikes: 9, maxSpikes: 3 },
        falseNegativeRate: 0,
      }),
    );
    expect(range.message).toMatch(/maxSpikes must be at least minSpikes/);
  });

  it('trains and stores a restriction that pipeline runs must match', async () => {
    await finish(
      await wb.call('restriction:start', { setId: 1, regime, falseNegativeRate: 0.01, checkSims: 100 }),
    );
    const list = (await wb.call('results:restriction', {})) as { ok: true; value: RestrictionDetails[] };
    const r = list.value.find((c) => c.stats.source === 'restriction step')!;
    expect(r.stats.setId).toBe(1);
    expect(r.stats.checkSims).toBe(100);
    const mode = error(await wb.call('pipeline:start', { ...run, mode: 'ideal', restrictionId: r.id }));
    expect(mode.code).toBe('invalid_argument');
    expect(mode.message).toMatch(
      /trained on hardware-mode simulations of chip seed 1; this run simulates ideal mode/,
    );
    const reg = error(
      await wb.call('pipeline:start', {
        ...run,
        regime: { minSpikes: 2, maxSpikes: 30 },
        restrictionId: r.id,
      }),
    );
    expect(reg.message).toMatch(/regime 3-30 spikes, not 2-30/);
    expect(error(await wb.call('pipeline:start', { ...run, restrictionId: 999 })).code).toBe('not_found');
  });
});

describe('stopped runs through the API', () => {
  it('lists none, and refuses to resume a run without checkpoints or with a bad id', async () => {
    expect(await wb.call('pipeline:runs', {})).toEqual({ ok: true, value: [] });
    const bad = error(await wb.call('pipeline:resume', { runId: '../../etc' }));
    expect(bad.code).toBe('invalid_argument');
    expect(bad.message).toMatch(/runId/);
    const gone = error(await wb.call('pipeline:resume', { runId: 'no-such-run' }));
    expect(gone.code).toBe('not_found');
    expect(gone.message).toMatch(/cannot be resumed: its checkpoints are gone/);
    expect(await wb.call('pipeline:discard', { runId: 'no-such-run' })).toEqual({
      ok: true,
      value: { discarded: false },
    });
  });
});
