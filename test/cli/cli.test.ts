import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'adexwb.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('adexwb command line', () => {
  it('lists its commands with --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}serve /m);
    expect(r.stdout).toMatch(/^ {2}version /m);
  });

  it('prints per-command help', () => {
    const r = run('serve', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: adexwb serve');
    expect(r.stdout).toContain('--port <integer>');
  });

  it('prints JSON with --json', () => {
    const r = run('version', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      workbench: expect.any(String),
      node: process.versions.node,
    });
  });

  it('exits 2 with one line for an unknown command or option', () => {
    const a = run('frobnicate');
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toContain("unknown command 'frobnicate'");
    const b = run('serve', '--port', 'abc');
    expect(b.status).toBe(2);
    expect(b.stderr.trim()).toBe("adexwb serve: --port must be a number, got 'abc'");
  });
});
