import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Workbench } from '../../main/api/workbench.ts';
import { calls } from '../../main/api/contract.ts';
import { CHANNELS } from '../../main/api/channels.ts';

const dirs: string[] = [];
function makeWorkbench() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'adexwb-api-'));
  dirs.push(dataDir);
  return { wb: new Workbench({ transport: 'local', dataDir }), dataDir };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('API dispatch', () => {
  it('lists the same channels in the preload list as in the contract', () => {
    expect([...CHANNELS].sort()).toEqual(Object.keys(calls).sort());
  });

  it('answers a valid call', async () => {
    const { wb } = makeWorkbench();
    const res = await wb.call('app:info', {});
    expect(res).toMatchObject({ ok: true, value: { name: 'adex-workbench', transport: 'local' } });
  });

  it('rejects an unknown call by name', async () => {
    const { wb } = makeWorkbench();
    const res = await wb.call('project:format-disk', {});
    expect(res).toEqual({
      ok: false,
      error: { code: 'unknown_call', message: "unknown API call 'project:format-disk'" },
    });
  });

  it('persists a valid settings change', async () => {
    const { wb, dataDir } = makeWorkbench();
    const res = await wb.call('settings:set', { theme: 'dark' });
    expect(res).toMatchObject({ ok: true, value: { theme: 'dark' } });
    expect(JSON.parse(readFileSync(path.join(dataDir, 'settings.json'), 'utf8')).theme).toBe('dark');
    const again = new Workbench({ transport: 'local', dataDir });
    expect(await again.call('settings:get', {})).toMatchObject({ ok: true, value: { theme: 'dark' } });
  });

  it.each([
    ['a wrong type', { theme: 42 }, /theme: Invalid option/],
    ['an unknown field', { theme: 'dark', evil: true }, /unknown field 'evil'/],
    [
      'a huge string',
      { recentProjects: ['x'.repeat(100_000)] },
      /recentProjects\.0: must be at most 4096 characters/,
    ],
    ['a non-object payload', 'theme=dark', /invalid arguments for 'settings:set'/],
  ])('rejects %s with a clear message and changes nothing', async (_what, payload, message) => {
    const { wb } = makeWorkbench();
    await wb.call('settings:set', { theme: 'light' });
    const res = await wb.call('settings:set', payload);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe('invalid_argument');
      expect(res.error.message).toMatch(message);
    }
    expect(await wb.call('settings:get', {})).toMatchObject({ ok: true, value: { theme: 'light' } });
  });

  it('rejects a missing required field', async () => {
    const { wb } = makeWorkbench();
    const res = await wb.call('jobs:cancel', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    if (!res.ok) expect(res.error.message).toMatch(/^invalid arguments for 'jobs:cancel': id:/);
  });

  it('reports an unknown job as not found', async () => {
    const { wb } = makeWorkbench();
    const res = await wb.call('jobs:cancel', { id: '0b8e3f2c-5d6a-4c1e-9f00-123456789abc' });
    expect(res).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
