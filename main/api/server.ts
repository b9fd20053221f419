/**
 * Browser mode: serves the built renderer and the API over HTTP + WebSocket on 127.0.0.1 only.
 *
 * Access needs a random per-run token: the printed URL carries it once (`/?token=...`); the server
 * then sets an HttpOnly, SameSite=Strict cookie and redirects to a clean URL. API calls carry the
 * cookie or an `x-adexwb-token` header. Requests with a foreign Host (DNS rebinding) or a foreign
 * Origin (other web pages) are refused, so neither other local users nor web pages can drive it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, MAX_PAYLOAD_BYTES } from './contract.ts';
import { parsePayload } from './dispatch.ts';
import type { Workbench } from './workbench.ts';

export interface ServeOptions {
  /** 0 picks a free port. */
  port: number;
  /** Folder of the built renderer (index.html and assets). */
  staticDir: string;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** URL including the access token: what the user opens. */
  urlWithToken: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'adexwb_token';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function csp(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

function tokenMatches(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return v;
  }
  return undefined;
}

/** Start the browser-mode server for a workbench. */
export async function serve(workbench: Workbench, options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const staticDir = path.resolve(options.staticDir);
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw new Error(
      `the UI is not built (${path.join(staticDir, 'index.html')} is missing): run 'npm run build' first`,
    );
  }
  let port = options.port;

  const hostOk = (req: IncomingMessage) => {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };
  const originOk = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    return (
      origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`
    );
  };
  const authed = (req: IncomingMessage) =>
    tokenMatches(cookieToken(req), token) ||
    tokenMatches(req.headers['x-adexwb-token'] as string | undefined, token);

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, name: string) => {
    if (req.method !== 'POST') return send(res, 405, 'API calls use POST');
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json'))
      return send(res, 415, 'API calls need content-type application/json');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES) {
        return send(
          res,
          413,
          JSON.stringify({
            ok: false,
            error: {
              code: 'invalid_argument',
              message: `payload too large (limit ${MAX_PAYLOAD_BYTES} bytes)`,
            },
          }),
          'application/json',
        );
      }
      chunks.push(chunk as Buffer);
    }
    let payload: unknown;
    try {
      payload = parsePayload(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      const e = err as ApiError;
      return send(
        res,
        400,
        JSON.stringify({ ok: false, error: { code: e.code, message: e.message } }),
        'application/json',
      );
    }
    const envelope = await workbench.call(name, payload);
    send(res, 200, JSON.stringify(envelope), 'application/json');
  };

  const handleStatic = (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return send(res, 400, 'malformed path');
    }
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(staticDir, '.' + rel);
    if (!file.startsWith(staticDir + path.sep)) return send(res, 404, 'not found');
    if (!existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'not found');
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': csp(port),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (!hostOk(req)) return send(res, 421, 'refused: unexpected Host header');
        const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
        const given = url.searchParams.get('token');
        if (given !== null) {
          if (!tokenMatches(given, token)) return send(res, 401, 'refused: wrong access token');
          res.writeHead(303, {
            location: url.pathname,
            'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
            'cache-control': 'no-store',
          });
          return res.end();
        }
        if (!authed(req)) {
          return send(
            res,
            401,
            'refused: this workbench needs its access token; open the URL printed by `adexwb serve`',
          );
        }
        if (url.pathname.startsWith('/api/')) {
          if (!originOk(req)) return send(res, 403, 'refused: cross-origin request');
          return await handleApi(req, res, url.pathname.slice(5));
        }
        return handleStatic(req, res, url.pathname);
      } catch (err) {
        if (!res.headersSent) send(res, 500, `internal error: ${(err as Error).message}`);
        else res.destroy();
      }
    })();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (
      url.pathname !== '/events' ||
      !hostOk(req) ||
      !originOk(req) ||
      !(authed(req) || tokenMatches(url.searchParams.get('token'), token))
    ) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', () => undefined); // the event channel is one-way
    });
  });
  const unsubscribe = workbench.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}/`;
  return {
    url: base,
    urlWithToken: `${base}?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
