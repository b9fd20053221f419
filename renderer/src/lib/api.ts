/**
 * The renderer's handle on the workbench API. In the desktop app the preload exposes
 * `window.adexwb`; in the browser mode the same calls go over HTTP (POST /api/<call>) with the
 * session cookie, and events arrive over a WebSocket.
 */
import type {
  ApiEvent,
  CallArgs,
  CallName,
  CallResult,
  Envelope,
  WorkbenchApi,
} from '../../../main/api/contract.ts';
import { CHANNELS } from '../../../main/api/channels.ts';

declare global {
  interface Window {
    adexwb?: WorkbenchApi;
  }
}

/** An error returned by the workbench, with its code (`invalid_argument`, `not_found`, ...). */
export class WorkbenchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkbenchError';
  }
}

function httpApi(): WorkbenchApi {
  const listeners = new Set<(e: ApiEvent) => void>();
  let socket: WebSocket | undefined;
  let retry = 500;
  const connect = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(`${proto}//${location.host}/events`);
    socket.onmessage = (m) => {
      const event = JSON.parse(String(m.data)) as ApiEvent;
      for (const l of listeners) l(event);
    };
    socket.onopen = () => (retry = 500);
    socket.onclose = () => {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };
  const api: Record<string, unknown> = {};
  for (const name of CHANNELS) {
    api[name] = async (args: unknown) => {
      let res: Response;
      try {
        res = await fetch(`/api/${name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          credentials: 'same-origin',
          body: JSON.stringify(args ?? {}),
        });
      } catch {
        throw new WorkbenchError(
          'failed',
          'the workbench server does not answer (was `adexwb serve` stopped?)',
        );
      }
      if (res.status === 401)
        throw new WorkbenchError(
          'failed',
          'access token missing or expired: reopen the URL printed by `adexwb serve`',
        );
      const body = (await res.json()) as Envelope<unknown>;
      if (!body.ok) throw new WorkbenchError(body.error.code, body.error.message);
      return body.value;
    };
  }
  api.onEvent = (l: (e: ApiEvent) => void) => {
    if (!socket) connect();
    listeners.add(l);
    return () => listeners.delete(l);
  };
  return api as WorkbenchApi;
}

function ipcApi(raw: WorkbenchApi): WorkbenchApi {
  const api: Record<string, unknown> = { onEvent: raw.onEvent };
  for (const name of CHANNELS) {
    api[name] = async (args: unknown) => {
      try {
        return await (raw[name] as (a: unknown) => Promise<unknown>)(args ?? {});
      } catch (err) {
        const e = err as Error & { code?: string };
        throw new WorkbenchError(e.code ?? 'failed', e.message);
      }
    };
  }
  return api as WorkbenchApi;
}

export const api: WorkbenchApi = window.adexwb ? ipcApi(window.adexwb) : httpApi();

/** Typed call helper, e.g. `call('settings:set', { theme: 'dark' })`. */
export function call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>> {
  return (api[name] as (a: CallArgs<K>) => Promise<CallResult<K>>)(args);
}
