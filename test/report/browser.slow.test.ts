/**
 * The report in a real browser and as a real PDF: Debian's Chromium (through playwright-core)
 * loads the HTML, and poppler's pdfinfo/pdftotext read the PDF. The page count is checked both
 * with pdfinfo and with the workbench's own /Type /Page counter.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { renderReportHtml } from '../../main/report/html.ts';
import {
  chromiumPrinter,
  countPdfPages,
  DEFAULT_CHROMIUM,
  PdfError,
  renderPdf,
} from '../../main/report/pdf.ts';
import { writeReport } from '../../main/report/write.ts';
import { fixtureModel } from './fixture.ts';

const EVIL_EST = '<script>window.__pwned = 1</script>';
const EVIL_OBS = '<img src=x onerror="window.__pwned = 2">';
const EVIL_TITLE = '</title><script>window.__pwned = 3</script>';

let browser: Browser;
let dir: string;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: DEFAULT_CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  dir = mkdtempSync(join(tmpdir(), 'adexwb-report-'));
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report in Chromium', () => {
  it('shows names with markup as text and runs nothing', async () => {
    const html = renderReportHtml(
      fixtureModel({ draws: 500, names: { estA: EVIL_EST, observation: EVIL_OBS, title: EVIL_TITLE } }),
    );
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });
    const r = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img').length,
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      title: document.title,
      text: document.body.innerText,
      handlers: [...document.querySelectorAll('*')].filter((e) =>
        [...e.attributes].some((a) => a.name.startsWith('on')),
      ).length,
    }));
    expect(r.scripts).toBe(0);
    expect(r.imgs).toBe(0);
    expect(r.handlers).toBe(0);
    expect(r.pwned).toBeUndefined();
    expect(r.title).toBe(EVIL_TITLE);
    expect(r.text).toContain(EVIL_EST);
    expect(r.text).toContain(EVIL_OBS);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('fits every figure and table into an A4 page width', async () => {
    const page = await browser.newPage({ viewport: { width: 794, height: 1123 } });
    await page.setContent(renderReportHtml(fixtureModel({ draws: 2000, chip: true })), { waitUntil: 'load' });
    const overflow = await page.evaluate(() => {
      const body = document.body.getBoundingClientRect();
      return [...document.querySelectorAll('figure, table')]
        .filter((e) => e.getBoundingClientRect().right > body.right + 1)
        .map((e) => e.textContent!.slice(0, 60));
    });
    expect(overflow).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.close();
  });
});

describe('report as PDF', () => {
  it('prints every section starting on its own page, with its numbers as text', async () => {
    const model = fixtureModel({ draws: 2000, chip: true, names: { estA: EVIL_EST } });
    const files = await writeReport(model, { out: join(dir, 'r.html'), pdf: chromiumPrinter(), csv: true });
    expect(files.pdf).toBe(join(dir, 'r.pdf'));
    const pdf = readFileSync(files.pdf!);
    const info = execFileSync('pdfinfo', [files.pdf!], { encoding: 'utf8' });
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)![1]);
    expect(countPdfPages(pdf)).toBe(pages);
    expect(pages).toBeGreaterThanOrEqual(7);
    expect(pages).toBeLessThanOrEqual(16);
    const pageText = (n: number) =>
      execFileSync('pdftotext', ['-f', String(n), '-l', String(n), files.pdf!, '-'], { encoding: 'utf8' });
    const texts = Array.from({ length: pages }, (_, i) => pageText(i + 1));
    const sections = [
      'Experiment and prior',
      'Simulation set and restriction',
      'Estimators',
      'Per-observation comparison',
      'Calibration',
      'Whole-chip maps',
      'Provenance',
    ];
    let last = 0;
    sections.forEach((title, i) => {
      const heading = `${i + 1}. ${title}`;
      // The contents list on page 1 names every section too: the heading is the last occurrence.
      const at = texts.findLastIndex((t) => t.split('\n').some((l) => l.trim() === heading));
      expect(at, heading).toBeGreaterThanOrEqual(0);
      if (i > 0) {
        expect(at, heading).toBeGreaterThan(last);
        expect(texts[at].trimStart().startsWith(heading), `${heading} opens page ${at + 1}`).toBe(true);
      }
      last = at;
    });
    const all = texts.join('\n');
    expect(all).toContain('87.4%');
    expect(all).toContain(EVIL_EST);
    expect(all).toMatch(/1 \/ \d+/); // footer page numbers
    expect(readFileSync(files.samplesCsv!, 'utf8').split('\n')).toHaveLength(1 + 2 * 2000 + 1);
  });

  it('reports a printer failure without writing any file', async () => {
    const out = join(dir, 'fail.html');
    await expect(
      writeReport(fixtureModel({ draws: 50 }), {
        out,
        pdf: chromiumPrinter('/nonexistent/chromium'),
        csv: true,
      }),
    ).rejects.toThrow(/Chromium not found at \/nonexistent\/chromium/);
    await expect(renderPdf('<p>x</p>', async () => new Uint8Array([1, 2, 3]))).rejects.toThrow(PdfError);
    expect(() => readFileSync(out)).toThrow();
    expect(() => readFileSync(join(dir, 'fail.samples.csv'))).toThrow();
    writeFileSync(join(dir, 'keep.txt'), 'x');
  });
});
