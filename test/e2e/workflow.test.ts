/**
 * The researcher's workflow through the real UI in Chromium against `adexwb serve`, with a small
 * budget: new project, simulate, ... Each step checks what the view shows and saves a screenshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, startServe, type Served } from './harness.ts';

let served: Served;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  served = await startServe();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(served.url);
  await page.waitForSelector('nav[aria-label="Views"]');
});
afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

describe('workflow in the browser', () => {
  it('shows empty states that say what to do next', async () => {
    await page.click('nav >> text=Simulate');
    expect(await page.textContent('[data-testid="empty-state"]')).toContain('Open or create one in the');
  });

  it('creates a new project', async () => {
    await page.click('nav >> text=Project');
    const file = path.join(served.home, 'e2e.adexproj');
    await page.fill('input[placeholder="/home/me/lab/chip42.adexproj"] >> nth=0', file);
    await page.fill('input[placeholder="Chip 42, step protocol"]', 'E2E <b>chip</b>');
    await page.click('button:has-text("Create")');
    await expect.poll(() => page.textContent('h1')).toBe('E2E <b>chip</b>'); // user text shown as text
    expect(await page.textContent('[data-testid="count-Simulation sets"]')).toBe('0');
    await screenshot(page, 'workflow-1-project');
  });

  it('shows a clear error for a bad request and keeps working', async () => {
    await page.click('button:has-text("Close project")');
    await page.fill(
      'input[placeholder="/home/me/lab/chip42.adexproj"] >> nth=1',
      path.join(served.home, 'missing.adexproj'),
    );
    await page.click('button:has-text("Open")');
    await expect.poll(() => page.textContent('[data-testid="error"]')).toContain('no such project file');
    await page.click('button:has-text("Dismiss")');
    await page.click(`button.link:has-text("e2e.adexproj")`);
    await expect.poll(() => page.textContent('h1')).toBe('E2E <b>chip</b>');
  });

  it('simulates a small set and shows its statistics', async () => {
    await page.click('nav >> text=Simulate');
    await page.fill('label:has-text("Simulations") input', '600');
    await page.click('form button[type="submit"]:has-text("Simulate")');
    await page.waitForSelector('[data-testid="sim-results"]', { timeout: 120_000 });
    expect(await page.textContent('[data-testid="sim-results"] h2')).toContain('600 simulations');
    const frac = Number((await page.textContent('[data-testid="in-regime"]'))!.replace('%', '').trim());
    expect(frac).toBeGreaterThan(0);
    expect(frac).toBeLessThanOrEqual(100);
    expect(await page.locator('[data-testid="sim-results"] canvas').count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'workflow-2-simulate');
  });

  it('had no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
