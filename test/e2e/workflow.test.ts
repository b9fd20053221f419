/**
 * The researcher's workflow through the real UI in Chromium against `adexwb serve`, with a small
 * budget: new project, simulate, restrict the prior, train (cancel and resume), infer, compare, ... Each step checks what the view shows and saves a screenshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, root, screenshot, shotsDir, startServe, type Served } from './harness.ts';
import { PIPELINE_PATIENCE } from '../../main/pipeline/estimators.ts';
import { DEFAULT_PIPELINE_SIMS, PIPELINE_MAX_EPOCHS } from '../../main/pipeline/defaults.ts';

let served: Served;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const perf: Record<string, number> = {};
let device: ChildProcess | undefined;

beforeAll(async () => {
  served = await startServe();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(served.url);
  await page.waitForSelector('nav[aria-label="Views"]');
});
afterAll(async () => {
  device?.kill('SIGINT');
  await browser?.close();
  await served?.stop();
  mkdirSync(shotsDir, { recursive: true });
  writeFileSync(path.join(shotsDir, 'performance.json'), JSON.stringify(perf, null, 2) + '\n');
});

/** Fill a labelled number input. */
async function fillLabel(label: string, value: string | number) {
  await page.fill(`label:has-text("${label}") input`, String(value));
}

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

  it('trains a prior restriction on the set and shows the useful fractions before and after', async () => {
    const inRegime = (await page.textContent('[data-testid="in-regime"]'))!.trim();
    const form = page.locator('[data-testid="restriction-step"]');
    expect(await form.locator('label:has-text("Restriction: min spikes") input').inputValue()).toBe('3');
    await fillLabel('False-negative rate (%)', 2);
    await fillLabel('Check simulations', 300);
    await form.locator('button:has-text("Train restriction")').click();
    await page.waitForSelector('[data-testid="restriction-result"]', { timeout: 180_000 });
    const pct = async (id: string) =>
      Number((await page.textContent(`[data-testid="${id}"]`))!.replace('%', '').trim());
    // Before: the set's own in-regime fraction; after: measured on fresh restricted-prior simulations.
    expect((await page.textContent('[data-testid="restriction-before"]'))!.trim()).toBe(inRegime);
    const after = await pct('restriction-after');
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(100);
    const accuracy = await pct('restriction-accuracy');
    expect(accuracy).toBeGreaterThan(50);
    expect(accuracy).toBeLessThanOrEqual(100);
    expect(await page.textContent('[data-testid="restriction-result"]')).toContain('300 fresh simulations');
    await screenshot(page, 'workflow-2b-restriction');
  });

  it('trains both estimators on the stored restriction, cancels and resumes the run, and shows both loss curves', async () => {
    await page.click('nav >> text=Train');
    await expect
      .poll(() => page.textContent('[data-testid="uses-restriction"]'))
      .toMatch(/Use the stored restriction #\d+/);
    // The fields start at the pipeline's defaults (the same constants as the CLI and the API).
    expect(await page.inputValue('label:has-text("Training simulations") input')).toBe(
      String(DEFAULT_PIPELINE_SIMS),
    );
    expect(await page.inputValue('label:has-text("Max epochs") input')).toBe(String(PIPELINE_MAX_EPOCHS));
    await fillLabel('Training simulations', 2000);
    await fillLabel('Max epochs', 10);
    await fillLabel('Chip samples/circuit', 100);
    await page.click('form button[type="submit"]:has-text("Train both estimators")');
    await page.waitForSelector('form [data-testid="job-progress"][data-state="running"]', {
      timeout: 60_000,
    });
    const liveChart = page.locator('div.chart:has(canvas[aria-label="Live training and validation loss"])');
    const livePoints = async () =>
      ((await liveChart.getAttribute('data-points', { timeout: 200 }).catch(() => null)) ?? '')
        .split(' ')
        .filter(Boolean)
        .map(Number);
    // Cancel once the handcrafted estimator has trained an epoch (its training and validation curves).
    await expect
      .poll(async () => (await livePoints())[0] ?? 0, { timeout: 300_000, interval: 50 })
      .toBeGreaterThanOrEqual(1);
    await page.locator('form [data-testid="job-progress"] button:has-text("Cancel")').click();
    await screenshot(page, 'workflow-3-training');
    await page.waitForSelector('form [data-testid="job-progress"][data-state="cancelled"]', {
      timeout: 60_000,
    });
    const stopped = page.locator('[data-testid="stopped-run"]');
    await expect.poll(() => stopped.count(), { timeout: 30_000 }).toBe(1);
    expect(await stopped.textContent()).toMatch(/(cancelled|stopped).*handcrafted: \d+ epochs saved/s);
    await screenshot(page, 'workflow-3b-stopped');
    await stopped.locator('button:has-text("Resume")').click();
    await page.waitForSelector('[data-testid="estimator"] >> nth=1', { timeout: 900_000 });
    expect(await page.textContent('form [data-testid="job-progress"]')).toContain('resumed');
    await expect.poll(() => stopped.count(), { timeout: 30_000 }).toBe(0);
    const names = await page.locator('[data-testid="estimator"] h2').allTextContents();
    expect(names.join(' ')).toContain('handcrafted');
    expect(names.join(' ')).toContain('learned');
    // Live: training and validation curves of both estimators, every epoch from 1 (resumed from checkpoints).
    const live = await livePoints();
    expect(live).toHaveLength(4);
    for (const n of live) expect(n).toBeGreaterThan(1);
    expect(await page.textContent('[data-testid="early-stopping"]')).toMatch(
      new RegExp(
        `handcrafted.*early stopping: \\d+ of ${PIPELINE_PATIENCE} epochs without improvement.*learned`,
        's',
      ),
    );
    for (const e of await page.locator('[data-testid="estimator"] div.chart').all()) {
      const pts = (await e.getAttribute('data-points'))!.split(' ').map(Number);
      expect(pts).toHaveLength(2);
      for (const n of pts) expect(n).toBeGreaterThan(1);
    }
    expect(await page.textContent('[data-testid="restriction"]')).toMatch(
      /Useful simulations.*\d+(\.\d+)? %/s,
    );
    await screenshot(page, 'workflow-4-trained');
  });

  it('shows the restriction and the trained estimators in the dark theme', async () => {
    await page.selectOption('select[aria-label="Theme"]', 'dark');
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('dark');
    await page.click('nav >> text=Simulate');
    await page.waitForSelector('[data-testid="restriction-result"]');
    await screenshot(page, 'workflow-dark-simulate');
    await page.click('nav >> text=Train');
    await page.waitForSelector('[data-testid="estimator"] >> nth=1');
    await screenshot(page, 'workflow-dark-train');
    await page.selectOption('select[aria-label="Theme"]', 'light');
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('light');
  });

  it('infers a held-out observation with 10,000 samples per estimator', async () => {
    await page.click('nav >> text=Infer');
    await fillLabel('Posterior samples', 10000);
    await fillLabel('Predictive simulations', 10);
    const row = page.locator('[data-testid="observations"] tbody tr').first();
    await row.locator('button:has-text("Infer")').click();
    await page.waitForSelector('[data-testid="job-progress"][data-state="done"]', { timeout: 300_000 });
    await expect
      .poll(async () => Number(await row.locator('td').nth(4).textContent()), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(4);
    await screenshot(page, 'workflow-5-infer');
    await row.locator('button:has-text("Compare")').click();
  });

  it('compares both posteriors side by side with predictive traces and summary agreement', async () => {
    await page.waitForSelector('[data-testid="corner-ms"]', { timeout: 60_000 });
    const legend = await page.textContent('[data-testid="corner"] figcaption');
    expect(legend).toContain('handcrafted summary (10000 samples)');
    expect(legend).toContain('learned summary (10000 samples)');
    expect(legend).toContain('true value');
    perf.cornerPlot2x10000x7_ms = Number(
      (await page.textContent('[data-testid="corner-ms"]'))!.match(/([\d.]+) ms/)![1],
    );
    expect(await page.locator('[data-testid="param-table"] tbody tr').count()).toBe(7);
    expect(await page.locator('[data-testid="predictive"]').count()).toBe(2);
    expect(await page.locator('[data-testid="summary-agreement"] tbody tr').count()).toBeGreaterThanOrEqual(
      10,
    );
    await screenshot(page, 'workflow-6-compare');
  });

  it('shows calibration and the whole-chip maps', async () => {
    await page.click('nav >> text=Diagnostics');
    await page.waitForSelector('[data-testid="coverage"]', { timeout: 30_000 });
    expect(await page.locator('[data-testid="sbc"] canvas').count()).toBe(7);
    const table = await page.textContent('[data-testid="calibration-table"]');
    expect(table).toContain('handcrafted');
    expect(table).toContain('learned');
    await page.waitForSelector('[data-testid="chip"]');
    expect(await page.textContent('[data-testid="chip"] h2')).toContain('512 circuits');
    expect(await page.locator('[data-testid="chip"] canvas').count()).toBe(7);
    await screenshot(page, 'workflow-7-diagnostics');
  });

  it('creates a report and previews it in a sandboxed frame', async () => {
    await page.click('nav >> text=Reports');
    const out = path.join(served.home, 'e2e-report.html');
    await page.fill('label:has-text("HTML file") input', out);
    await page.click('form button[type="submit"]:has-text("Create report")');
    await page.waitForSelector('[data-testid="job-progress"][data-state="done"]', { timeout: 300_000 });
    expect(existsSync(out)).toBe(true);
    expect(existsSync(out.replace(/\.html$/, '.pdf'))).toBe(true);
    const html = readFileSync(out, 'utf8');
    for (const section of [
      'Experiment and prior',
      'Per-observation comparison',
      'Calibration',
      'Whole-chip maps',
      'Provenance',
    ]) {
      expect(html).toContain(section);
    }
    expect(html).toContain(path.join(served.home, 'e2e.adexproj'));
    await page.locator('button:has-text("Preview")').first().click();
    const frame = page.frameLocator('[data-testid="report-preview"]');
    await expect.poll(() => frame.locator('h1').first().textContent(), { timeout: 30_000 }).toBeTruthy();
    await screenshot(page, 'workflow-8-report');
  });

  it('connects to a virtual bridge device and records a test trace', async () => {
    device = spawn(process.execPath, [path.join(root, 'bin', 'adexwb.js'), 'virtual-device', '--pty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hostPath = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('virtual device printed no path')), 60_000);
      device!.stdout!.on('data', (d) => {
        out += d;
        const m = /^(\/\S+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    await page.click('nav >> text=Hardware');
    await page.fill('label:has-text("Port path") input', hostPath);
    await page.click('form button[type="submit"]:has-text("Connect")');
    await page.waitForSelector('[data-testid="device-info"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="device-info"]')).toContain('512 circuits');
    await fillLabel('Circuit', 17);
    await page.check('text=Keep in the project as an observation');
    await page.click('form button[type="submit"]:has-text("Record test trace")');
    await expect.poll(() => page.textContent('main'), { timeout: 60_000 }).toMatch(/Circuit 17: \d+ spikes/);
    expect(await page.textContent('main')).toMatch(/Stored as observation \d+/);
    await screenshot(page, 'workflow-9-hardware');
  });

  it('had no uncaught page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
