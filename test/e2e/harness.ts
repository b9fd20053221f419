/**
 * End-to-end harness: starts the real `adexwb serve` as a child process and drives Debian's
 * Chromium with playwright-core against it. Screenshots go to test-output/e2e/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shotsDir = path.join(root, 'test-output', 'e2e');

export interface Served {
  url: string;
  base: string;
  child: ChildProcess;
  home: string;
  stop(): Promise<void>;
}

/** Start `adexwb serve --port 0` with a fresh settings folder; resolves with the printed URL. */
export async function startServe(extraEnv: Record<string, string> = {}): Promise<Served> {
  const home = mkdtempSync(path.join(tmpdir(), 'adexwb-e2e-'));
  const child = spawn(process.execPath, [path.join(root, 'bin', 'adexwb.js'), 'serve', '--port', '0'], {
    cwd: home,
    env: { ...process.env, ADEXWB_HOME: home, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`adexwb serve printed no URL in 60 s: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`adexwb serve exited with ${code}: ${err}`)));
  });
  return {
    url,
    base: url.split('?')[0],
    child,
    home,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/** Save a full-page screenshot as test-output/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, `${name}.png`);
  // Let the scrolling content area grow so the full-page capture shows all of the view.
  const style = await page.addStyleTag({
    content: '.shell{height:auto!important}.content{overflow:visible!important}',
  });
  await page.screenshot({ path: file, fullPage: true });
  await style.evaluate((el) => (el as Element).remove());
  return file;
}
