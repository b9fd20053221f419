/**
 * Electron entry of the desktop app. The only main-side file that imports electron: it creates a
 * hardened window and connects the preload's IPC channels to the same Workbench that the CLI and
 * the browser mode use.
 */
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.ADEXWB_ROOT ??= app.getAppPath();

const { Workbench } = await import('./api/workbench.ts');
const { CHANNELS, EVENT_CHANNEL } = await import('./api/channels.ts');

const here = path.dirname(fileURLToPath(import.meta.url));

if (!app.requestSingleInstanceLock()) {
  app.quit();
  process.exit(0);
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

let win: BrowserWindow | undefined;
/** Report PDFs through Electron's own printToPDF in a hidden, script-less window. */
async function printToPdf(
  html: string,
  o: {
    printBackground?: boolean;
    displayHeaderFooter?: boolean;
    headerTemplate?: string;
    footerTemplate?: string;
    preferCSSPageSize?: boolean;
  },
): Promise<Uint8Array> {
  const w = new BrowserWindow({
    show: false,
    webPreferences: { javascript: false, sandbox: true, contextIsolation: true },
  });
  try {
    w.webContents.session.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*'] }, (_d, cb) =>
      cb({ cancel: true }),
    );
    await w.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);
    return await w.webContents.printToPDF({
      printBackground: o.printBackground ?? true,
      displayHeaderFooter: o.displayHeaderFooter ?? false,
      headerTemplate: o.headerTemplate,
      footerTemplate: o.footerTemplate,
      preferCSSPageSize: o.preferCSSPageSize ?? true,
    });
  } finally {
    w.destroy();
  }
}

const workbench = new Workbench({
  transport: 'ipc',
  dataDir: app.getPath('userData'),
  pdfPrinter: printToPdf,
});

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    title: 'adex-workbench',
    show: false,
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  w.once('ready-to-show', () => w.show());
  // Navigation and new windows are blocked; external links open in the system browser only if https.
  w.webContents.on('will-navigate', (e) => e.preventDefault());
  w.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (process.env.ELECTRON_RENDERER_URL) void w.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void w.loadFile(path.join(here, '../renderer/index.html'));
  return w;
}

app.on('second-instance', () => {
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (event, args: unknown) => {
      if (!win || event.sender !== win.webContents) {
        return { ok: false, error: { code: 'invalid_argument', message: 'unknown sender' } };
      }
      return workbench.call(channel, args);
    });
  }
  workbench.onEvent((event) => win?.webContents.send(EVENT_CHANNEL, event));
  win = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow();
  });
});

app.on('window-all-closed', () => {
  void workbench.close().finally(() => app.quit());
});
