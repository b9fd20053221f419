import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, startServe, type Served } from './harness.ts';

let served: Served;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  served = await startServe();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
});
afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

describe('workbench shell in Chromium via adexwb serve', () => {
  it('refuses a browser without the token', async () => {
    const p = await browser.newPage();
    const res = await p.goto(served.base);
    expect(res!.status()).toBe(401);
    expect(await p.textContent('body')).toContain('needs its access token');
    await p.close();
  });

  it('renders the shell with all eight views and the version from the API', async () => {
    await page.goto(served.url);
    await page.waitForSelector('nav[aria-label="Views"]');
    const labels = await page.locator('nav[aria-label="Views"] button').allTextContents();
    expect(labels.map((l) => l.trim())).toEqual([
      'Project',
      'Simulate',
      'Train',
      'Infer',
      'Compare',
      'Diagnostics',
      'Hardware',
      'Reports',
    ]);
    await expect.poll(() => page.textContent('[data-testid="version"]')).toMatch(/^v\d+\.\d+\.\d+ · http$/);
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    await screenshot(page, 'shell-project');
  });

  it('switches views by click and by keyboard', async () => {
    await page.click('nav >> text=Train');
    await expect.poll(() => page.textContent('h1')).toBe('Train');
    await page.keyboard.press('Alt+7');
    await expect.poll(() => page.textContent('h1')).toBe('Hardware');
    expect(await page.getAttribute('nav button[aria-current="page"]', 'title')).toContain('Hardware');
  });

  it('switches to the dark theme and keeps it after a reload', async () => {
    await page.selectOption('select[aria-label="Theme"]', 'dark');
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(17, 20, 24)');
    await page.reload();
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('dark');
    await screenshot(page, 'shell-dark');
    await page.selectOption('select[aria-label="Theme"]', 'light');
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('light');
  });

  it('runs without console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
