/**
 * The one object the renderer sees: `window.adexwb`, named async functions (one IPC channel each)
 * plus `onEvent`. Raw ipcRenderer never leaves this file; every payload is validated in main.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNELS, EVENT_CHANNEL } from '../main/api/channels.ts';

type Envelope = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

const api: Record<string, unknown> = {};
for (const channel of CHANNELS) {
  api[channel] = async (args: unknown) => {
    const res = (await ipcRenderer.invoke(channel, args)) as Envelope;
    if (res.ok) return res.value;
    const err = new Error(res.error.message);
    (err as Error & { code: string }).code = res.error.code;
    throw err;
  };
}
api.onEvent = (listener: (event: unknown) => void) => {
  const handler = (_e: IpcRendererEvent, event: unknown) => listener(event);
  ipcRenderer.on(EVENT_CHANNEL, handler);
  return () => ipcRenderer.off(EVENT_CHANNEL, handler);
};

contextBridge.exposeInMainWorld('adexwb', Object.freeze(api));
