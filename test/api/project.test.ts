import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Workbench } from '../../main/api/workbench.ts';

const open: Workbench[] = [];
const dirs: string[] = [];
function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-apiproj-'));
  dirs.push(dir);
  const wb = new Workbench({ transport: 'local', dataDir: path.join(dir, 'home') });
  open.push(wb);
  return { wb, dir };
}
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('project API', () => {
  it('creates a project, summarizes it and remembers it as recent', async () => {
    const { wb, dir } = setup();
    const file = path.join(dir, 'lab.adexproj');
    const res = await wb.call('project:create', { path: file, name: 'Lab <b>one</b>' });
    expect(res.ok).toBe(true);
    const summary = await wb.call('project:summary', {});
    expect(summary).toMatchObject({ ok: true, value: { overview: { name: 'Lab <b>one</b>', path: file } } });
    expect(await wb.call('settings:get', {})).toMatchObject({ ok: true, value: { recentProjects: [file] } });
    expect(await wb.call('project:close', {})).toEqual({ ok: true, value: { closed: true } });
    expect(await wb.call('project:summary', {})).toEqual({ ok: true, value: null });
  });

  it('refuses to create over an existing file', async () => {
    const { wb, dir } = setup();
    const file = path.join(dir, 'notes.txt');
    writeFileSync(file, 'precious');
    const res = await wb.call('project:create', { path: file });
    expect(res).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(readFileSync(file, 'utf8')).toBe('precious');
  });

  it('refuses to open a file that is not a project and leaves it unchanged', async () => {
    const { wb, dir } = setup();
    const file = path.join(dir, 'data.adexproj');
    writeFileSync(file, 'not sqlite at all, just text');
    const res = await wb.call('project:open', { path: file });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.message).toContain(file);
    expect(readFileSync(file, 'utf8')).toBe('not sqlite at all, just text');
  });

  it('says what to do when a call needs a project and none is open', async () => {
    const { wb } = setup();
    const res = await wb.call('observation:get', { id: 1 });
    expect(res).toEqual({
      ok: false,
      error: { code: 'conflict', message: 'no project is open: create or open a project first' },
    });
  });
});
