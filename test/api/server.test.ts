import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { Workbench } from '../../main/api/workbench.ts';
import { serve, type RunningServer } from '../../main/api/server.ts';

let dir: string;
let wb: Workbench;
let srv: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'adexwb-serve-'));
  const ui = path.join(dir, 'ui');
  mkdirSync(path.join(ui, 'assets'), { recursive: true });
  writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>shell</title>');
  writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'secret.txt'), 'do not serve');
  wb = new Workbench({ transport: 'http', dataDir: path.join(dir, 'data') });
  srv = await serve(wb, { port: 0, staticDir: ui });
});
afterAll(async () => {
  await srv.close();
  await wb.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Raw HTTP request so Host, Origin and Cookie can be set freely. */
function raw(
  method: string,
  p: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: srv.port,
        method,
        path: p,
        headers: { host: `127.0.0.1:${srv.port}`, ...headers },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const json = { 'content-type': 'application/json' };

describe('browser-mode server', () => {
  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/`);
    expect(srv.urlWithToken).toContain(`?token=${srv.token}`);
    expect(srv.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses the page and the API without the token', async () => {
    expect((await raw('GET', '/')).status).toBe(401);
    expect((await raw('POST', '/api/app:info', json, '{}')).status).toBe(401);
    expect((await raw('GET', '/?token=wrong')).status).toBe(401);
  });

  it('trades the URL token for an HttpOnly SameSite cookie, then serves the shell with a CSP', async () => {
    const first = await raw('GET', `/?token=${srv.token}`);
    expect(first.status).toBe(303);
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await raw('GET', '/', { cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>shell</title>');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
  });

  it('answers API calls with the token header', async () => {
    const res = await raw('POST', '/api/app:info', { ...json, 'x-adexwb-token': srv.token }, '{}');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, value: { transport: 'http' } });
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin', async () => {
    const h = { ...json, 'x-adexwb-token': srv.token };
    expect((await raw('POST', '/api/app:info', { ...h, host: 'evil.example:80' }, '{}')).status).toBe(421);
    expect((await raw('POST', '/api/app:info', { ...h, origin: 'http://evil.example' }, '{}')).status).toBe(
      403,
    );
  });

  it('rejects malformed JSON and invalid payloads with clear errors', async () => {
    const h = { ...json, 'x-adexwb-token': srv.token };
    const bad = await raw('POST', '/api/settings:set', h, '{"theme":');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toBe('payload is not valid JSON');
    const invalid = await raw('POST', '/api/settings:set', h, JSON.stringify({ theme: 'neon' }));
    expect(JSON.parse(invalid.body)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
  });

  it('never serves files outside the UI folder', async () => {
    const h = { 'x-adexwb-token': srv.token };
    expect((await raw('GET', '/../secret.txt', h)).status).toBe(404);
    expect((await raw('GET', '/%2e%2e/secret.txt', h)).status).toBe(404);
    expect((await raw('GET', '/assets/app.js', h)).status).toBe(200);
    expect((await raw('GET', '/%E0%A4%A', h)).status).toBe(400);
  });

  it('pushes events over the WebSocket only to authenticated clients', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${srv.port}/events`);
    const refusedOutcome = await new Promise<string>((resolve) => {
      refused.on('open', () => resolve('open'));
      refused.on('error', () => resolve('error'));
    });
    expect(refusedOutcome).toBe('error');

    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/events`, {
      headers: { cookie: `adexwb_token=${srv.token}` },
    });
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const got = new Promise<unknown>((resolve) => ws.on('message', (m) => resolve(JSON.parse(String(m)))));
    wb.emit({ type: 'log', level: 'info', message: 'hello' });
    expect(await got).toEqual({ type: 'log', level: 'info', message: 'hello' });
    ws.close();
  });
});
